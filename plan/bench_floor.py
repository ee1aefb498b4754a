"""The bare-program floor `python -m plan.bench` compares the plan with.

A program that does nothing but what any Pulumi program of this size must: import the same pulumi_aws
subpackages as the platform program (plus pulumi_awsx) and register as many real pulumi_aws resources, with
trivial inputs, under `set_mocks` driven the way plan/engine.py drives it, with the collector off. What the
plan costs beyond this is the platform's own work (config, components, wiring), the recording and the
policies.

    python -m plan.bench_floor --probe prod          # {"subpackages": [...], "resources": N} of the real plan
    python -m plan.bench_floor --subpackages ec2,s3 --resources 458   # run the floor; prints its timings
"""
from __future__ import annotations

import gc
import json
import sys
import time

# Resource classes without required inputs, cycled through to reach the resource count (the per-resource cost
# of registration barely depends on the class: it is the SDK's resource machinery and the mock monitor).
SIMPLE = (("s3", "Bucket"), ("cloudwatch", "LogGroup"), ("sqs", "Queue"), ("sns", "Topic"), ("kms", "Key"),
          ("ec2", "SecurityGroup"), ("ecr", "Repository"), ("cloudwatch", "MetricAlarm"))


def probe(stack: str) -> dict:
    """The pulumi_aws subpackages the platform program imports and the custom resources it registers."""
    from .engine import main_program, run_program
    from .stackfile import load_stack_config, stack_file_path
    name, path = stack_file_path(stack, None)
    config, secrets = load_stack_config(name, path)
    plan = run_program(main_program(), config=config, stack=name, preview=False, secret_keys=secrets)
    count = sum(1 for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:"))
    return {"subpackages": sorted(_loaded()), "resources": count}


def _loaded() -> set:
    """pulumi_aws service subpackages really imported (pulumi_aws registers all of them as lazy modules)."""
    return {m.split(".")[1] for m, v in list(sys.modules.items())
            if m.startswith("pulumi_aws.") and m.count(".") == 1 and type(v).__name__ != "_LazyModule"
            and hasattr(v, "__path__") and not m.split(".")[1].startswith("_")}


def load(name: str):
    """Import a pulumi_aws subpackage for real: pulumi_aws registers them as lazy modules that load on the
    first attribute access, as `aws.ec2.Vpc` in a program does."""
    import importlib
    module = importlib.import_module(name)
    getattr(module, "__bench_load__", None)
    return module


def run(subpackages: list[str], resources: int) -> dict:
    gc.disable()
    t0, c0 = time.perf_counter(), time.process_time()
    import pulumi
    import pulumi_aws
    import pulumi_awsx  # noqa: F401 - the platform imports it

    from .sdk import SETTINGS, _sync_await, pmocks, run_pulumi_func
    modules = [load(f"pulumi_aws.{name}") for name in subpackages]
    classes = [getattr(getattr(pulumi_aws, mod), cls) for mod, cls in SIMPLE]
    t1, c1 = time.perf_counter(), time.process_time()

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args):
            return {}

    SETTINGS.rpc_manager.clear()
    pmocks.set_mocks(Mocks(), project="floor", stack="floor", preview=False)

    def body():
        for i in range(resources):
            classes[i % len(classes)](f"r{i}", tags={"Name": f"r{i}"})

    _sync_await(run_pulumi_func(body))
    t2, c2 = time.perf_counter(), time.process_time()
    return {"imports": t1 - t0, "program": t2 - t1, "cpu_imports": c1 - c0, "cpu_program": c2 - c1,
            "modules": len(modules)}


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(prog="python -m plan.bench_floor", description=__doc__.splitlines()[0])
    p.add_argument("--probe", metavar="STACK")
    p.add_argument("--subpackages", default="")
    p.add_argument("--resources", type=int, default=0)
    args = p.parse_args(argv)
    if args.probe:
        gc.disable()
        print(json.dumps(probe(args.probe)))
    else:
        print(json.dumps(run([s for s in args.subpackages.split(",") if s], args.resources)))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    import os
    os._exit(code)
