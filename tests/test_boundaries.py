"""Tier boundaries, read from the source with `ast`: a tier imports no other tier's module, and reads no
settings section but its own (and the shared `platform` section, through `Platform`).

Tiers meet only in components/platform.py, through the frozen outputs each one publishes.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components.config import TIERS

COMPONENTS = Path(__file__).resolve().parent.parent / "components"

# Tier module -> the settings section(s) it owns. Helper modules of one tier belong to it. The governance tier
# is configured in the `observability` section (budget, trail, Config, account baseline).
TIER_SECTIONS: dict[str, set[str]] = {
    "security": {"security"}, "network": {"network"}, "data": {"data"}, "events": {"events"}, "ml": {"ml"},
    "application": {"application"}, "ecs_services": {"application"}, "eks": {"application"},
    "batch": {"application"}, "service_access": {"application"}, "edge": {"edge"}, "observability": {"observability"},
    "governance": {"observability"}, "dr": {"dr"}, "dr_region": {"dr"}, "delivery": {"delivery"},
    "database_users": {"application"},   # the contracts' database roles, bootstrapped (issue 29)
}
# Which tier each helper module belongs to (it may be imported by that tier only).
OWNER = {"ecs_services": "application", "eks": "application", "batch": "application", "service_access": "application",
         "dr_region": "dr", "database_users": "application"}
SECTIONS = set(TIERS) - {"platform"}
TIER_MODULES = set(TIER_SECTIONS)


def tier_of(module: str) -> str:
    return OWNER.get(module, module)


def imported_modules(tree: ast.AST) -> set[str]:
    """Relative imports inside components/: `from .data import X` -> 'data', `from .config.ml import Y` -> 'config.ml'."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module)
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.level == 0 and node.module and node.module.startswith("components."):
                found.add(node.module.removeprefix("components."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("components.") for a in node.names if a.name.startswith("components."))
    return found


def sections_read(tree: ast.AST) -> set[str]:
    """Settings sections read as `<anything>.settings.<section>` or `settings.<section>`, and config modules
    imported (`from .config.<section> import ...`)."""
    read = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SECTIONS:
            base = node.value
            name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else None
            if name == "settings":
                read.add(node.attr)
    for module in imported_modules(tree):
        if module.startswith("config.") and module.split(".")[1] in SECTIONS:
            read.add(module.split(".")[1])
    return read


def violations(source: str, module: str) -> list[str]:
    tree = ast.parse(source)
    tier = tier_of(module)
    bad = [f"{module} imports tier module {m}" for m in sorted(imported_modules(tree))
           if m in TIER_MODULES and tier_of(m) != tier]
    bad += [f"{module} reads settings section {s}" for s in sorted(sections_read(tree) - TIER_SECTIONS[module])]
    return bad


@pytest.mark.parametrize("module", sorted(TIER_SECTIONS))
def test_a_tier_imports_no_other_tier_and_reads_only_its_own_settings(module):
    assert violations((COMPONENTS / f"{module}.py").read_text(), module) == []


def test_every_tier_module_is_covered():
    tiers = {p.stem for p in COMPONENTS.glob("*.py")
             if "(pulumi.ComponentResource)" in p.read_text()}
    assert tiers <= TIER_MODULES


@pytest.mark.parametrize("source, expected", [
    ("from .security import key_policy", ["edge imports tier module security"]),
    ("from .observability import encrypted_log_group", ["edge imports tier module observability"]),
    ("import components.data", ["edge imports tier module data"]),
    ("def f(p):\n    return p.settings.application.alb", ["edge reads settings section application"]),
    ("from .config.data import DataSettings", ["edge reads settings section data"]),
    ("from .config.edge import EdgeSettings\nfrom .recipes.keys import kms_key\n"
     "def f(p, args):\n    return args.settings.waf_rate_limit, p.settings.app_log_retention_days", []),
])
def test_the_check_catches_each_kind_of_crossing(source, expected):
    """Both sides: each kind of crossing is reported; own section, shared recipes and platform settings are not."""
    assert violations(source, "edge") == expected


def test_batch_may_use_its_own_tiers_helpers_but_not_another_tier():
    assert violations("from .eks import launch_template", "batch") == []
    assert violations("from .ml import MlTier", "batch") == ["batch imports tier module ml"]


# ---------------------------------------------------------------------------------------------------------
# The offline engine's modules form layers: no two of them import each other, directly or through others
# (report <-> cost and engine <-> stackfile did; plan/tiers.py and plan/errors.py hold what both sides shared).
# Imports under `if TYPE_CHECKING:` are annotations only and do not count.

PLAN = COMPONENTS.parent / "plan"


def _plan_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING"
                   for stmt in node.body for n in ast.walk(stmt)}
    package = path.relative_to(PLAN.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in typing_only and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found.update(names)
    return found


def test_plan_modules_import_no_cycle():
    modules = {".".join(p.relative_to(PLAN.parent).with_suffix("").parts): p for p in PLAN.rglob("*.py")}
    modules = {k.removesuffix(".__init__"): v for k, v in modules.items()}
    graph = {m: {i for i in _plan_imports(p) if i in modules and i != m} for m, p in modules.items()}
    cycles = []

    def visit(node, stack):
        for nxt in graph[node]:
            if nxt in stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)
    done: set[str] = set()
    for m in sorted(graph):
        if m not in done:
            visit(m, [m])
    assert not cycles, cycles


def test_a_plan_loads_no_flow_check():
    """What `run_program` can import (plan.engine and, transitively, every module it names, at any depth of the
    code) holds no module of plan/flows: the flow catalogue is `--flows`' (the mocks once read the ELB accounts
    from plan/flows/model.py, which loaded the whole catalogue into every plan; plan/elb_accounts.py now)."""
    modules = {".".join(p.relative_to(PLAN.parent).with_suffix("").parts): p for p in PLAN.rglob("*.py")}
    modules = {k.removesuffix(".__init__"): v for k, v in modules.items()}
    graph = {m: {i for i in _plan_imports(p) if i in modules and i != m} for m, p in modules.items()}
    reached, todo = set(), ["plan.engine"]
    while todo:
        m = todo.pop()
        if m not in reached:
            reached.add(m)
            todo.extend(graph[m])
    assert "plan.mocks" in reached and "plan.elb_accounts" in reached
    assert not {m for m in reached if m == "plan.flows" or m.startswith("plan.flows.")}
