"""Shared fixtures: the project root on sys.path, cached plans of each stack (both modes), and the collector
tuned for the session.

Plans are cached per distinct configuration: `stack_plan("dev")`, `stack_plan("dev", True)` and
`stack_plan("dev", preview=True)` are one plan (the cache key is normalised, not the call's spelling).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Byte code cached even where PYTHONDONTWRITEBYTECODE is set (these machines, CI): each worker rewrote and
# compiled every test module and compiled the project's modules again on every run (collection 4.5 s -> 1 s).
sys.dont_write_bytecode = False
sys.path.insert(0, str(ROOT / "tests"))

from plan.analyze import analyze, default_policy_config, load_policy_config  # noqa: E402
from plan.engine import PROJECT, main_program, run_program  # noqa: E402
from plan.stackfile import load_stack_config, stack_file_path  # noqa: E402

# The collector: most of the heap is imported modules and cached plans that live for the whole session, and
# full collections kept walking them (75 of the suite's 249 CPU seconds). It is off in the test processes, as in
# the CLI: a collection runs when the tracked objects allocated since the last one pass GC_BUDGET (checked after
# each test; ~2 GB of RSS per worker at the suite's mix; a whole run ends at 4-5 million, 1.3-1.5 GB), and once
# after the first plan, which then moves what exists out of the collector's sight (gc.freeze). Against the
# previous tuning (thresholds 50,000 / 20 / 50): ~9% less CPU; peak RSS per worker 0.85 -> 1.5 GB.
# docs/performance.md.
gc.disable()
GC_BUDGET = 8_000_000
_FROZEN = False


def _freeze_once() -> None:
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.collect()
        gc.freeze()


_PLANS: dict = {}
_ANALYSES: dict = {}


def stack_file_config(stack: str) -> tuple[str, dict, list]:
    """(stack name, config with full keys, secret keys) of the stack file, as the CLI loads it."""
    name, path = stack_file_path(stack, None)
    config, secrets = load_stack_config(name, path)
    return name, config, secrets


# Every whole-program plan of the tests also carries the data tier's published outputs (its contract: what the
# next tiers receive), exported under this prefix after __main__.py has run; `plan_for` strips them, and
# `plan_for(..., contracts=True)` keeps them (tests/test_data_tier.py). One run serves the stack's tests and the
# data tier's, where a program of its own ran the same resources again for its exports.
CONTRACT_PREFIX = "tests:data."


def _export_contracts(names: dict) -> None:
    import pulumi
    data = names["out"].data
    for field in dataclasses.fields(data):
        pulumi.export(CONTRACT_PREFIX + field.name, getattr(data, field.name))


def plan_for(config: dict, *, stack: str, preview: bool, released: bool = False, secret_keys=(),
             contracts: bool = False):
    """The plan of the whole program (__main__.py) with `config`: one run per distinct (stack, mode, released,
    config, secret keys) per test run, shared by every module and, under
    pytest-xdist, by both workers (`_across_workers`). The key is the config's canonical JSON, so
    `prod_with("pilot-light")` and `stack_plan("prod")` are one plan when their configs are equal.

    `released`: as after the first release (plan/dr.py `released()`: every ECR repository holds a tagged image,
    so no service is parked), part of the key so a released plan never answers for a parked one.
    `contracts`: the whole program's plan with the data tier's published outputs as its exports (unprefixed)
    instead of the stack's.

    The plan is shared: a test that changes it works on a `copy.deepcopy`.

    A stack file's own config in update mode (not released) is run once, through the first-up mocks
    (plan/first_up.py; `python -m plan --first-up`'s run, `first_up_plan`): with no lookup refused, FirstUpMocks
    gives every answer PlatformMocks gives in update mode (it answers through it and records what was created),
    so that run is the update plan too (`first_up` False); with a refused lookup the update plan is a run of its
    own. tests/test_first_up.py compares the shared dev plan with a run through the update mocks."""
    digest = _plan_key(config, stack, preview, released, secret_keys)
    if digest not in _PLANS:
        first_up = not preview and not released and _is_stack_file_config(str(stack), config)

        def build():
            from plan.dr import released as images_present
            with images_present() if released else contextlib.nullcontext():
                def run(**kwargs):
                    return run_program(main_program(after=_export_contracts), config=config, stack=stack,
                                       preview=bool(preview), secret_keys=list(secret_keys), **kwargs)
                if not first_up:
                    return run()
                first = run(first_up=True)
                refused = any(e.kind == "lookup" for e in first.deploy_errors)
                return (run() if refused else dataclasses.replace(first, first_up=False)), first
        built = _across_workers(digest, build)
        if first_up:
            built, first = built
            _FIRST_UP[digest] = dataclasses.replace(first, exports={
                k: v for k, v in first.exports.items() if not k.startswith(CONTRACT_PREFIX)})
        _PLANS[(digest, True)] = dataclasses.replace(built, exports={
            k[len(CONTRACT_PREFIX):]: v for k, v in built.exports.items() if k.startswith(CONTRACT_PREFIX)})
        _PLANS[digest] = dataclasses.replace(built, exports={
            k: v for k, v in built.exports.items() if not k.startswith(CONTRACT_PREFIX)})
        _freeze_once()
    return _PLANS[(digest, True) if contracts else digest]


_FIRST_UP: dict = {}
_STACK_FILE_CONFIGS: dict = {}


def _plan_key(config: dict, stack: str, preview: bool, released: bool, secret_keys) -> str:
    key = json.dumps([str(stack), bool(preview), bool(released), sorted(secret_keys),
                      config], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _is_stack_file_config(stack: str, config: dict) -> bool:
    if stack not in _STACK_FILE_CONFIGS:
        path = ROOT / f"Pulumi.{stack}.yaml"
        _STACK_FILE_CONFIGS[stack] = load_stack_config(*stack_file_path(stack, None))[0] if path.exists() else None
    return _STACK_FILE_CONFIGS[stack] is not None and dict(config) == _STACK_FILE_CONFIGS[stack]


def first_up_plan(stack: str):
    """The stack file's plan as `python -m plan --stack STACK --first-up` computes it (update mode, the first-up
    mocks): the run `plan_for` made for `stack_plan(stack, False)`."""
    name, config, secrets = stack_file_config(stack)
    plan_for(config, stack=name, preview=False, secret_keys=secrets)
    return _FIRST_UP[_plan_key(config, name, False, False, secrets)]


# Every optional feature the tier tests switch on, in one config per stack (one plan per stack and mode): the
# data tier's DocumentDB and one more table, pipelines sourced from S3 for two services, the events tier's
# analytics stream, (where the stack's ALB has a domain) its alias record in a zone and (where the stack has a
# standing DR region) a larger standby cache node. tests/test_data_tier.py, tests/test_dr_tier.py's DocumentDB and
# cache tests, tests/test_delivery_tier.py's S3-source test, tests/test_events_tier.py's dev stream and
# tests/test_application_tier.py's alias test read it.
EVERYTHING_ON_DATA = {"docdbEnabled": True, "tables": {"documents-index": {
    "partitionKey": "documentId", "sortKey": "", "ttlAttribute": "expiresAt"}}}
EVERYTHING_ON_DELIVERY = {"enabled": True, "source": "s3", "services": ["search", "quality"]}
EVERYTHING_ON_EVENTS = {"analyticsStream": True}
# prod's (a standing DR region's) standby cache on a larger node than the default (tests/test_dr_tier.py's cache
# test, pilot-light; the node type is an input, known in a preview).
EVERYTHING_ON_DR = {"cacheNodeType": "cache.t4g.small"}
ALIAS_ZONE = "Z0123456789ABC"


def stack_config_with(stack: str, sections: dict) -> tuple[str, dict, list]:
    """`stack_file_config(stack)` with each of `sections` ({"ai-platform:data": {...}}) merged over the stack
    file's section of that name, key by key; the stack file's config itself is never changed."""
    import copy
    name, config, secrets = stack_file_config(stack)
    config = copy.deepcopy(config)
    for section, values in sections.items():
        config[section] = {**(config.get(section) or {}), **copy.deepcopy(values)}
    return name, config, secrets


# dev's everything-on plan also carries tests/test_day_two.py's settings change (the search service's new
# environment variable and size, a delivered service: its image stays the release's): no other reader of that plan
# looks at search's task size or environment, and the day-two test compares with the stack's own plan.
DAY_TWO_SEARCH = {"environment": {"FEATURE_FLAG": "on"}, "cpu": 1024, "memory": 2048}


def everything_on(stack: str) -> dict:
    _, config, _ = stack_config_with(stack, {"ai-platform:data": EVERYTHING_ON_DATA,
                                             "ai-platform:delivery": EVERYTHING_ON_DELIVERY,
                                             "ai-platform:events": EVERYTHING_ON_EVENTS})
    if stack == "dev":
        import copy
        app = config["ai-platform:application"] = copy.deepcopy(config.get("ai-platform:application") or {})
        search = app.setdefault("services", {}).setdefault("search", {})
        search.update({**copy.deepcopy(DAY_TWO_SEARCH),
                       "environment": {**search.get("environment", {}), **DAY_TWO_SEARCH["environment"]}})
    if (config.get("ai-platform:dr") or {}).get("mode") in ("pilot-light", "warm-standby"):
        config["ai-platform:dr"] = {**config["ai-platform:dr"], **EVERYTHING_ON_DR}
    alb = config.get("ai-platform:application", {}).get("alb") or {}
    if alb.get("domainName"):
        alb["hostedZoneId"] = ALIAS_ZONE
    return config


# The tier tests' non-default choices that do not touch each other, in one dev plan (update mode): EKS and Batch
# on (tests/test_application_tier.py), an explicit image for one service with the pipelines off (the explicit
# image is never parked: tests/test_delivery_tier.py), Redis 6.2 (its own parameter family:
# tests/test_data_tier.py). Each was a whole program of its own.
DEV_ALTERNATIVES = {
    "ai-platform:application": {"eks": {"enabled": True, "publicAccessCidrs": ["203.0.113.0/24"]},
                                "batch": {"enabled": True},
                                "services": {"search": {"image": "public.ecr.aws/nginx/nginx:1.27"}}},
    "ai-platform:delivery": {"enabled": False},
    "ai-platform:data": {"redisEngineVersion": "6.2"},
}


def dev_alternatives():
    name, config, secrets = stack_config_with("dev", DEV_ALTERNATIVES)
    return plan_for(config, stack=name, preview=False, secret_keys=secrets)


# prod's non-default choices that do not touch each other, in one plan (update mode) where each was a whole
# program of its own: warm-standby with a smaller standby cache node (tests/test_dr_tier.py's cache test), prod's
# DNS settings unset (the DR front door without a zone: tests/test_dr_front_door.py's CSP and manifest tests; the
# same DR API in both standing modes, and the DNS side is the stack's own plan), the DR user pool the Cognito
# procedure creates (tests/test_dr_front_door.py: the DR API's authorizer accepts it), the events tier's analytics
# stream (tests/test_events_tier.py's prod stream: update mode, its key ARN known) and a dev-like data tier,
# protection and Multi-AZ off (tests/test_data_tier.py's "prod-unprotected": the prod policies fail it). No reader
# looks at what another one changed: the cache test reads the standby cache's node type, the DNS tests the records,
# checks, stages, manifest and CSP, the user-pool test the authorizers, the events test the stream, the data tier
# test the primary region's data policies.
API_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000003"
DR_API_CERT = "arn:aws:acm:us-west-2:123456789012:certificate/00000000-0000-4000-8000-000000000004"
DR_POOL = "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEf123"
NO_EDGE_DNS = {"apiDomainName": None, "apiCertificateArn": None}
NO_DR_DNS = {"apiCertificateArn": None, "hostedZoneId": None}
PROD_STANDBY_ALTERNATIVES = {
    "ai-platform:dr": {"mode": "warm-standby", "cacheNodeType": "cache.t4g.small", "userPoolArn": DR_POOL,
                       **NO_DR_DNS},
    "ai-platform:edge": NO_EDGE_DNS,
    "ai-platform:events": {"analyticsStream": True},
    "ai-platform:platform": {"protect": False},
    "ai-platform:data": {"dbMultiAz": False, "redisMultiAz": False, "redisNodes": 1},
}


def prod_standby_alternatives(contracts: bool = False):
    name, config, secrets = stack_config_with("prod", PROD_STANDBY_ALTERNATIVES)
    return plan_for(config, stack=name, preview=False, secret_keys=secrets, contracts=contracts)


def stack_plan(stack: str, preview: bool = True):
    """The plan of stack `stack` in preview (default) or update mode, computed once per test run."""
    name, config, secrets = stack_file_config(str(stack))
    return plan_for(config, stack=name, preview=bool(preview), secret_keys=secrets)


# Under pytest-xdist the workers share the stacks' plans through a directory the controller creates for this run
# (and removes at its end): the first worker to need a plan builds it under a file lock and pickles it, the others
# wait for the lock and load it (a whole prod program is ~5 s of CPU per worker otherwise). One run's sources and
# stack files do not change during the run, so `plan_for`'s key (stack, mode, released, config, secret keys)
# is the whole key. Serial runs keep plans in memory.
SHARED_PLANS_ENV = "PLAN_TESTS_SHARED_PLANS"


def _across_workers(name: str, build):
    directory = os.environ.get(SHARED_PLANS_ENV)
    if not directory or not os.environ.get("PYTEST_XDIST_WORKER"):
        return build()
    import fcntl
    import pickle
    path = Path(directory) / f"{name}.pickle"
    with open(Path(directory) / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return pickle.loads(path.read_bytes())
        plan = build()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.rename(path)
        return plan


def shared_program(key: str, build):
    """A small program's plan (a tier's own program, not __main__.py) built once per test run and, under
    pytest-xdist, shared by both workers as `plan_for`'s plans are (`_across_workers`): the modules' per-process
    caches had each worker build the variants its half of the module's tests asked for, the same ones twice.
    `key` names the module and the variant completely (the program and its config follow from it)."""
    return _across_workers("program-" + hashlib.sha256(key.encode()).hexdigest()[:24], build)


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        import tempfile
        config._shared_plans = tempfile.TemporaryDirectory(prefix="plan-tests-")
        os.environ[SHARED_PLANS_ENV] = config._shared_plans.name


def pytest_unconfigure(config):
    shared = getattr(config, "_shared_plans", None)
    if shared is not None:
        os.environ.pop(SHARED_PLANS_ENV, None)
        shared.cleanup()


DR_INSTANCE_TYPES = ("ai-platform:tier:DrKeys", "ai-platform:tier:DrDatabase", "ai-platform:tier:DrCache",
                     "ai-platform:tier:DrFailover", "ai-platform:tier:DrUserSync")


def primary(plan):
    """The plan without the DR region's instance of the tiers (dr.mode pilot-light / warm-standby builds the network
    and application tiers a second time, same logical names, DR provider): what a tier's own tests look at.
    tests/test_dr_tier.py tests the DR side."""
    import dataclasses
    by_urn = plan.by_urn()

    def in_dr(r) -> bool:
        seen = r
        while seen is not None:
            if seen.type in DR_INSTANCE_TYPES or seen.type.startswith("ai-platform:dr:"):
                return True
            seen = by_urn.get(seen.parent)
        return False
    return dataclasses.replace(plan, resources=[r for r in plan.resources if not in_dr(r)])


@functools.cache
def primary_plan(stack: str, preview: bool = True):
    return primary(stack_plan(stack, preview))


def stack_analysis(stack: str, preview: bool = True):
    """The pack's analysis of `stack_plan(stack, preview)` with the stack's policy config, computed once."""
    key = (str(stack), bool(preview))
    if key not in _ANALYSES:
        _ANALYSES[key] = analyze(stack_plan(*key), policy_config=load_policy_config(default_policy_config(key[0])))
    return _ANALYSES[key]



@pytest.fixture(params=["dev", "prod"])
def stack_name(request):
    return request.param


def program_with(config: dict, *, stack: str = "dev", preview: bool = False, program=None):
    """Run the whole program (or `program`) with a config dict of full keys; returns the Plan."""
    return run_program(program or main_program(), config=config, stack=stack, preview=preview)


def cli(*args: str):
    """`python -m plan ARGS` in this process, as a subprocess.CompletedProcess (returncode, stdout, stderr).

    The process boundary adds nothing these tests assert (main() returns the exit code `__main__` passes to
    os._exit; stdout and stderr are captured), and a stack's own config is served from `stack_plan`'s cache
    (a copy: the analysis may remediate inputs), `--first-up` from `first_up_plan`'s, instead of re-running the
    whole program. A subprocess stays
    where the boundary itself is tested (tests/test_engine.py's exit-2 case, tests/test_records_cli.py)."""
    import copy
    import io
    import subprocess

    import plan.engine
    from plan.__main__ import main
    real = plan.engine.run_program

    def cached(program, *, config, stack="dev", preview=False, **kwargs):
        own = ROOT / f"Pulumi.{stack}.yaml"
        if kwargs.get("project", PROJECT) == PROJECT and not kwargs.get("remote_children") and own.exists() \
                and dict(config) == load_stack_config(*stack_file_path(stack, None))[0]:
            if kwargs.get("first_up"):
                return copy.deepcopy(first_up_plan(stack))
            return copy.deepcopy(stack_plan(stack, preview))
        return real(program, config=config, stack=stack, preview=preview, **kwargs)

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setattr(plan.engine, "run_program", cached)
        code = main(list(args))
    return subprocess.CompletedProcess(["python", "-m", "plan", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def moto_session(env: dict, region: str, *services: str):
    """One moto account with `env` set and a boto3 client per service (client creation dominates test time,
    so function tests open one session per module and `reset()` it between tests).

    moto's Cognito signs every pool's tokens with one key of its package (cognitoidp/resources/jwks-private.json)
    and imports it again for each user pool it creates: ~0.09 s of CPU a pool (the JWK carries no primes, which
    the import recovers). The import is the same for the same key: done once per session (`_one_import`)."""
    from joserfc import jwk
    from moto import mock_aws
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setattr(jwk.RSAKey, "import_key", _one_import(jwk.RSAKey.import_key))
        with mock_aws() as mock:
            yield mock, {svc: moto_client(svc, region) for svc in services}


def moto_client(service: str, region: str):
    """A boto3 client onto moto (an active `mock_aws`). Unsigned, except S3: moto checks no signature (its IAM
    checks are off; the account is its default either way), and SigV4 signing was ~0.15 ms of a ~1.8 ms call.
    S3 keeps SigV4: its payload checksums and chunked uploads follow the signing mode, which its tests exercise."""
    import boto3
    if service == "s3":
        return boto3.client(service, region_name=region)
    from botocore import UNSIGNED
    from botocore.config import Config
    return boto3.client(service, region_name=region, config=Config(signature_version=UNSIGNED))


_IMPORTED_KEYS: dict = {}


def _one_import(real):
    """`RSAKey.import_key` remembering what it imported from a JWK dict (the same dict: the same key); any other
    call goes to joserfc as it was."""
    def import_key(value, *args, **kwargs):
        if args or kwargs or not isinstance(value, dict):
            return real(value, *args, **kwargs)
        key = json.dumps(value, sort_keys=True)
        if key not in _IMPORTED_KEYS:
            _IMPORTED_KEYS[key] = real(value)
        return _IMPORTED_KEYS[key]
    return staticmethod(import_key)


class IdleSource:
    """An idle PostgreSQL source as RDS reports it (RDS for PostgreSQL read-replica docs: with no user transactions,
    ReplicaLag climbs up to ~5 minutes, until RDS's own heartbeat commit is replayed), for functions/dr_failover's lag
    gate: the procedure's clock (`proc._utcnow`) and its sleep, one minute per poll, each minute a ReplicaLag sample
    of `db_id` through `cloudwatch()` (the region's CloudWatch client)."""

    def __init__(self, cloudwatch, db_id: str, heartbeat_minutes: int = 5):
        import datetime as dt
        self.cloudwatch, self.db, self.every = cloudwatch, db_id, heartbeat_minutes
        self.now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(hours=1)
        self.minute = 0

    def clock(self):
        return self.now

    def sleep(self, _seconds):
        import datetime as dt
        self.now += dt.timedelta(minutes=1)
        self.minute += 1
        self.cloudwatch().put_metric_data(Namespace="AWS/RDS", MetricData=[{
            "MetricName": "ReplicaLag", "Value": (self.minute % self.every) * 60 + 1.0, "Timestamp": self.now,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": self.db}]}])


def throttle_once(monkeypatch, steps_method: str, failing: str) -> dict:
    """functions/dr_failover: the step `failing` of `Procedure.<steps_method>` raises a throttling error on its
    first attempt; every step's real action is counted in the returned dict (the resume tests of the hand-written
    world and of the rehearsal's world)."""
    from botocore.exceptions import ClientError

    from functions.dr_failover import procedure as proc
    calls: dict = {}
    real = getattr(proc.Procedure, steps_method)

    def steps(self):
        out = []
        for step in real(self):
            def action(step=step):
                calls[step.name] = calls.get(step.name, 0) + 1
                if step.name == failing and calls[step.name] == 1:
                    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "X")
                return step.action()
            out.append(dataclasses.replace(step, action=action))
        return out

    monkeypatch.setattr(proc.Procedure, steps_method, steps)
    return calls


class MotoSnapshot:
    """Everything moto holds (every service backend of every account and region), copied, to put back before each
    test instead of building the same world through the API again: tests/test_fn_dr_failover.py's world is ~40
    calls at ~3.5 ms each, its restore a deepcopy (~0.02 s); the module's setup went 9.3 -> 2.5 s.

    `restore()` does what moto's own `reset()` does to a backend (replaces its `__dict__`), with a fresh copy of
    the snapshot's instead of a new `__init__`; a backend created after the snapshot (a region or service the world
    did not touch) is reset as moto would reset it. The backends themselves keep their identity (a model that
    refers to its backend refers to the live one). Two kinds of moto objects `deepcopy` cannot copy are copied by
    hand while copying: locks (a new lock, as a fresh backend creates one) and dict subclasses of moto's whose
    `__init__` takes arguments (ssm's ParameterDict: rebuilt without `__init__`, items and attributes copied)."""

    def __init__(self):
        backends = self._backends()
        self._saved = self._copy({key: backend.__dict__ for key, backend in backends.items()}, backends)

    @staticmethod
    def _backends() -> dict:
        from moto.core.base_backend import BackendDict
        return {(bd.service_name, account, region): backend
                for bd in BackendDict._instances for account, regions in dict.items(bd)
                for region, backend in dict.items(regions)}

    @staticmethod
    def _copy(state, backends: dict):
        import collections
        import copy
        import copyreg
        import threading

        def copy_dict_subclass(self, memo):
            new = type(self).__new__(type(self))
            memo[id(self)] = new
            if isinstance(self, collections.defaultdict):
                new.default_factory = self.default_factory
            dict.update(new, copy.deepcopy(dict(self), memo))
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
            return new

        locks = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}
        patched_locks = [t for t in locks if t not in copyreg.dispatch_table]
        for lock_type in patched_locks:
            copyreg.dispatch_table[lock_type] = lambda lock: (locks[type(lock)], ())
        patched_dicts = [cls for base in (dict, collections.defaultdict) for cls in base.__subclasses__()
                         if cls.__module__.startswith("moto.") and "__deepcopy__" not in vars(cls)]
        for cls in patched_dicts:
            cls.__deepcopy__ = copy_dict_subclass
        try:
            return copy.deepcopy(state, {id(backend): backend for backend in backends.values()})
        finally:
            for lock_type in patched_locks:
                del copyreg.dispatch_table[lock_type]
            for cls in patched_dicts:
                del cls.__deepcopy__

    def restore(self) -> None:
        backends = self._backends()
        state = self._copy(self._saved, backends)
        for key, backend in backends.items():
            if key in state:
                backend.__dict__ = state[key]
            else:
                backend.reset()


# tests/test_analyze_equivalence.py replays every policy_harness.check() the rule tests made in this process
# through the stock servicer: it goes last, and under pytest-xdist (`-n 2 --dist loadgroup`, pyproject.toml)
# it and the rule tests form one group, so one worker runs them all, in this order. When this process did not
# run every selected rule test (another worker ran some, or none was selected), the corpus comes from a child
# run of all the rule tests instead (`corpus_is_complete`), never from a partial one.
CORPUS_TEST = "test_analyze_equivalence.py::test_policy_corpus"
CORPUS_GROUP = "policy-corpus"
_RULE_TESTS: set = set()
_RULE_TESTS_RUN: set = set()


def _is_rule_test(item) -> bool:
    return item.path.name.startswith("test_rules_")


# tests/test_types.py runs mypy three times on one cache directory (.mypy_cache, the one `.ci/run`'s mypy step
# fills): the whole tree, then two snippets that import the components. On two workers at once they raced on the
# cache (a snippet's run rewriting entries the whole-tree run was reading): the whole-tree check went cold, ~60 s.
# One group, on one worker, in the file's order (the whole tree first, so the snippets find every dependency
# cached); handed out right after the corpus group, so a cold cache (a first run without `.ci/run`'s step) is one
# long unit at the start, beside the other worker's corpus group, not a straggler at the end.
MYPY_FILE = "test_types.py"
MYPY_GROUP = "mypy-cache"


def _is_mypy_test(item) -> bool:
    return item.path.name == MYPY_FILE


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's hook, which reads the group marks (requirements-dev.in)
def pytest_collection_modifyitems(session, config, items):
    # The groups first (the rule tests, then the corpus test last; then the type checks): pytest-xdist hands out
    # work in collection order and a group is one unit (~10 s); handed out last it left one worker running it
    # while the other idled.
    group = [item for item in items if _is_rule_test(item)] + [item for item in items if CORPUS_TEST in item.nodeid]
    group += [item for item in items if _is_mypy_test(item)]
    if group:
        chosen = {id(item) for item in group}
        items[:] = group + [item for item in items if id(item) not in chosen]
    for item in items:
        if _is_rule_test(item) or CORPUS_TEST in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(CORPUS_GROUP))
        elif _is_mypy_test(item):
            item.add_marker(pytest.mark.xdist_group(MYPY_GROUP))


def pytest_collection_finish(session):
    # The selected rule tests, by the ids they run under: after deselection (-k, -m) and after pytest-xdist has
    # suffixed grouped ids with "@group" (which it does after the hook above).
    _RULE_TESTS.clear()
    _RULE_TESTS.update(item.nodeid for item in session.items if _is_rule_test(item))


def keep_the_collector_off() -> None:
    """Put the collector back as this module set it, should a test have changed it: mypy's build (tests/test_types.py
    runs it in-process) sets its own thresholds, unfreezes every frozen object and turns the collector on, after
    which that worker's every later test paid automatic collections over the whole session's heap. Called after
    every test, so O(1) only: `gc.isenabled()` and `gc.freeze()` (which moves whole generations), never
    `gc.get_freeze_count()` (it counts the frozen objects one by one: ~0.1 s per test on a worker's heap)."""
    if gc.isenabled():
        gc.disable()
        if _FROZEN:
            gc.freeze()


def pytest_runtest_teardown(item, nextitem):
    if _is_rule_test(item):
        _RULE_TESTS_RUN.add(item.nodeid)
    keep_the_collector_off()
    if gc.get_count()[0] > GC_BUDGET:
        gc.collect()


def corpus_is_complete() -> bool:
    """Every rule test selected in this run ran in this process (so policy_harness.CORPUS is the whole corpus)."""
    return bool(_RULE_TESTS) and _RULE_TESTS <= _RULE_TESTS_RUN


def corpus_is_split() -> bool:
    """Some selected rule tests ran in this process and some did not: pytest-xdist did not keep the group on one
    worker (the corpus test would then run every rule test again in a child)."""
    return bool(_RULE_TESTS_RUN) and not corpus_is_complete()


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("PLAN_CORPUS_OUT")
    if out:
        import policy_harness
        Path(out).write_text(json.dumps(policy_harness.CORPUS))
    # The session's heap is left to the process's exit: after this hook pytest collects once more (its
    # unraisable-exception check), and the interpreter collects again while it shuts down; each walked the
    # worker's whole heap of cached plans and the garbage of the program runs since the last budget collection
    # (~1-2 GB, 5-10 s of CPU per worker, the controller waiting on both). Frozen, those collections see nothing.
    # Tests that leave an unraisable exception to the collector are not reported at the very end (none do:
    # the collector is off during the session anyway).
    gc.freeze()


def images_present_plan(stack: str = "dev"):
    """The stack after its first release (update mode): every ECR repository holds a tagged image, so no
    service is parked (components/ecs_services.py parks a service whose image does not exist yet)."""
    name, config, secrets = stack_file_config(stack)
    return plan_for(config, stack=name, preview=False, released=True, secret_keys=secrets)
