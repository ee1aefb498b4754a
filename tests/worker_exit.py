"""A pytest-xdist worker's process ends as soon as it has reported to the controller.

After a worker's `pytest_sessionfinish`, pytest-xdist has sent the controller everything it will ever read from
that worker (the "workerfinished" event carries the exit status; every report went before it). What the worker
did next was pure cost on the critical path, since the controller waits for both workers' processes to exit:
pytest's unraisable-exception plugin runs two full collections (its `pytest_unconfigure` and its cleanup), then
the interpreter finalises a 1.3-1.5 GB heap (the collector is off in the tests: tests/conftest.py). That was 3-6
s per worker at the end of every run (docs/performance.md). A warning those collections might raise in a worker
would not reach the report anyway: the controller has stopped reading.

So a worker leaves through `os._exit` from the first `pytest_unconfigure`, as the CLI does after its run
(plan/__main__.py). The controller, and a run without workers (`-n 0`), end as pytest ends them.
tests/test_bench.py runs a small session with and without this plugin.
"""
from __future__ import annotations

import os
import sys

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    output = getattr(config, "workeroutput", None)
    if output is None or "exitstatus" not in output:  # the controller, `-n 0`, or a worker that never finished
        return
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(output["exitstatus"])
