"""Shared fixtures: the project root on sys.path, and cached plans of each stack (both modes)."""
from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from plan.analyze import analyze, default_policy_config, load_policy_config  # noqa: E402
from plan.engine import main_program, run_program  # noqa: E402
from plan.stackfile import load_stack_config, stack_file_path  # noqa: E402


@functools.lru_cache(maxsize=None)
def stack_plan(stack: str, preview: bool = True):
    name, path = stack_file_path(stack, None)
    config, secrets = load_stack_config(name, path)
    return run_program(main_program(), config=config, stack=name, preview=preview, secret_keys=secrets)


DR_INSTANCE_TYPES = ("ai-platform:tier:DrKeys", "ai-platform:tier:DrDatabase", "ai-platform:tier:DrFailover")


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


@functools.lru_cache(maxsize=None)
def primary_plan(stack: str, preview: bool = True):
    return primary(stack_plan(stack, preview))


@functools.lru_cache(maxsize=None)
def stack_analysis(stack: str, preview: bool = True):
    return analyze(stack_plan(stack, preview), policy_config=load_policy_config(default_policy_config(stack)))


@pytest.fixture(params=["dev", "prod"])
def stack_name(request):
    return request.param


def program_with(config: dict, *, stack: str = "dev", preview: bool = False, program=None):
    """Run the whole program (or `program`) with a config dict of full keys; returns the Plan."""
    return run_program(program or main_program(), config=config, stack=stack, preview=preview)


@contextlib.contextmanager
def moto_session(env: dict, region: str, *services: str):
    """One moto account with `env` set and a boto3 client per service (client creation dominates test time,
    so function tests open one session per module and `reset()` it between tests)."""
    import boto3
    from moto import mock_aws
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        with mock_aws() as mock:
            yield mock, {svc: boto3.client(svc, region_name=region) for svc in services}
