"""`python -m plan.bench`'s pieces, without timing anything (speed is measured by the bench, never asserted)."""
from __future__ import annotations

import json

from plan import bench


def test_child_measures_one_process_exit_code_output_and_peak_memory():
    run = bench.child(["-c", "import sys; b = bytearray(64 * 1024 * 1024); print('hi'); sys.exit(3)"], capture=True)
    assert (run.code, run.stdout.strip()) == (3, "hi")
    assert run.maxrss_mb >= 64 and run.wall > 0 and run.cpu >= 0


def test_the_floor_registers_the_requested_resources_after_importing_the_subpackages():
    run = bench.child(["-m", "plan.bench_floor", "--subpackages", "sqs,sns", "--resources", "5"], capture=True)
    assert run.code == 0
    doc = json.loads(run.stdout)
    assert doc["modules"] == 2 and doc["program"] > 0 and doc["imports"] > 0


def test_the_table_reports_ratios_to_the_floor_and_the_targets():
    floor = bench.Row("floor", resources=458, imports=4.0, program=0.5, total=5.0, cpu=4.5, peak_mb=230, code=0)
    prod = bench.Row("prod preview", resources=471, imports=4.2, program=1.5, policies=0.3, total=6.5, cpu=6.0,
                     peak_mb=250, code=0)
    text = bench.render([prod], floor, (100.0, 90.0, "958 passed"), runs=5)
    assert "| prod preview | 471 | 4.20 | 1.50 | 0.30 | 6.50 | 6.00 | 1.30 | 1.33 | 0.20 | 250 | 0 |" in text
    assert "20.0x the floor (wall), 20.0x (CPU)" in text
    assert ("prod plan / floor 1.30 wall, 1.33 CPU (target <= 1.6, goal 1.3); policies / program 0.20 (<= 0.3); "
            "peak 250 MB") in text


def test_stacks_are_the_stack_files():
    assert bench.stacks() == ["dev", "prod"]


def test_the_suites_collector_is_off_and_collects_past_its_budget(monkeypatch):
    """tests/conftest.py: no automatic collection in the test processes; a test's teardown collects once the
    tracked objects allocated since the last collection pass the budget. (The collection itself is counted, not
    run: a full collection of a worker's heap is ~2 s.)"""
    import gc

    import conftest
    assert not gc.isenabled()
    collections = []
    monkeypatch.setattr(conftest.gc, "collect", lambda *a: collections.append(a) or 0)
    garbage: list[list] = [[] for _ in range(1000)]
    for cycle in garbage:                      # cycles: reference counting cannot free them, only a collection
        cycle.append(cycle)
    del garbage, cycle
    allocated = gc.get_count()[0]
    assert allocated >= 1000                   # the collector is off: the garbage is still counted
    item = type("Item", (), {"path": conftest.ROOT / "x.py"})()
    monkeypatch.setattr(conftest, "GC_BUDGET", allocated + 10**6)
    conftest.pytest_runtest_teardown(item=item, nextitem=None)
    assert collections == []                   # under the budget: nothing collected
    monkeypatch.setattr(conftest, "GC_BUDGET", allocated - 1)
    conftest.pytest_runtest_teardown(item=item, nextitem=None)
    assert collections == [()]                 # past it: one full collection


def test_the_session_leaves_its_heap_frozen_for_the_closing_collections(monkeypatch):
    """tests/conftest.py: pytest's closing collection and the interpreter's walked a worker's whole heap (5-10 s
    of CPU each); the session's end freezes it instead (counted, not done: freezing here would keep this
    process's garbage from the budget's collections)."""
    import gc

    import conftest
    frozen = []
    monkeypatch.delenv("PLAN_CORPUS_OUT", raising=False)
    monkeypatch.setattr(conftest.gc, "freeze", lambda: frozen.append(True))
    conftest.pytest_sessionfinish(session=None, exitstatus=0)
    assert frozen == [True] and not gc.isenabled()


def test_the_groups_go_first_and_the_whole_tree_type_check_leads_its_group():
    """The rule tests and the corpus test (one group, the corpus last), then tests/test_types.py (one group, the
    whole-tree check first: the snippets must not race it on mypy's cache), then the rest in collection order."""
    import conftest

    class Item:
        def __init__(self, nodeid):
            self.nodeid, self.path, self.marks = nodeid, conftest.ROOT / nodeid.split("::")[0], []

        def add_marker(self, mark):
            self.marks.append(mark.kwargs.get("name") or mark.args[0])

    ids = ["tests/test_a.py::test_1", "tests/test_analyze_equivalence.py::test_policy_corpus",
           "tests/test_rules_s3.py::test_x", "tests/test_types.py::test_the_sources_type_check",
           "tests/test_types.py::test_the_string_port_passes", "tests/test_z.py::test_2"]
    items = [Item(i) for i in ids]
    conftest.pytest_collection_modifyitems(session=None, config=None, items=items)
    assert [i.nodeid for i in items] == [ids[2], ids[1], ids[3], ids[4], ids[0], ids[5]]
    assert [i.marks for i in items] == [[conftest.CORPUS_GROUP]] * 2 + [[conftest.MYPY_GROUP]] * 2 + [[], []]
    import test_types
    first = min((f for f in vars(test_types).values() if getattr(f, "__name__", "").startswith("test_")),
                key=lambda f: f.__code__.co_firstlineno)
    assert first is test_types.test_the_sources_type_check


def test_the_collector_check_after_each_test_is_constant_time(monkeypatch):
    """conftest.keep_the_collector_off runs after every test: it turns a collector something switched on back off
    (and freezes again) without walking the heap (gc.get_freeze_count() and gc.get_objects() do: ~0.1 s a test)."""
    import gc

    import conftest

    def walks(*_a):
        raise AssertionError("walks the heap")
    monkeypatch.setattr(gc, "get_freeze_count", walks)
    monkeypatch.setattr(gc, "get_objects", walks)
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(conftest, "_FROZEN", True)
    item = type("Item", (), {"path": conftest.ROOT / "x.py"})()
    gc.enable()
    try:
        conftest.pytest_runtest_teardown(item=item, nextitem=None)
    finally:
        gc.disable()
    assert frozen == [True]
    conftest.pytest_runtest_teardown(item=item, nextitem=None)   # already off: nothing to do
    assert frozen == [True]
