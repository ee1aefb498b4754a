"""Estimated wall time of a first `pulumi up`: the longest chain of recorded dependencies.

A resource starts when everything it depends on (r.dependencies: explicit dependsOn and inputs taken from
other resources' outputs) has finished, and takes its type's typical create time (
the `create` field of plan/resource_types.json, sourced from aws-facts.md section 4, assumptions marked). A component resource finishes when its children
do, so depending on a component (a tier) waits for all of it. The engine is assumed not to be throttled by
`--parallel`: the estimate is a lower bound set by the dependency structure, not by concurrency.
"""
from __future__ import annotations

import dataclasses
import functools

from . import resource_types
from .engine import UNKNOWN, Plan, Resource
from .report import clip
from .tiers import tier_of

_get = resource_types.get_input


@functools.cache
def load_times() -> dict:
    """type token -> create-time entry, plus "_default" and "_component" (from the resource-type table)."""
    table = resource_types.load()
    times = {t: i.create for t, i in table.types.items() if i.create}
    return {**times, "_default": table.create_default, "_component": table.create_component}


def _is_component(r: Resource) -> bool:
    return not r.custom and not r.remote


def create_time(r: Resource, times: dict | None = None) -> tuple[float, str, bool]:
    """(seconds, source, assumption) for one resource."""
    times = times or load_times()
    if _is_component(r) or r.type.startswith("pulumi:providers:"):
        entry = times["_component"]
        return 0.0, entry["source"], False
    entry = times.get(r.type, times["_default"])
    props = r.props
    for v in entry.get("variants", []):
        value = _get(props, v["input"])
        if value == UNKNOWN:
            continue
        if ("equals" in v and value == v["equals"]) or (v.get("present") and value not in (None, "", [], {})):
            return float(v["seconds"]), v["source"], bool(v.get("assumption", False))
    return float(entry["seconds"]), entry["source"], bool(entry.get("assumption", False))


@dataclasses.dataclass
class Step:
    name: str
    type: str
    tier: str
    seconds: float
    start: float
    finish: float
    source: str
    assumption: bool

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class CriticalPath:
    total: float
    steps: list[Step]
    resources: int

    def to_json(self) -> dict:
        return {"totalSeconds": round(self.total, 1), "totalMinutes": round(self.total / 60, 1),
                "resources": self.resources, "assumptionsOnPath": sum(s.assumption for s in self.steps),
                "steps": [s.to_json() for s in self.steps]}


def critical_path(plan: Plan, times: dict | None = None) -> CriticalPath:
    times = times or load_times()
    by_urn = plan.by_urn()
    children: dict[str, list[str]] = {}
    for r in plan.resources:
        if r.parent in by_urn:
            children.setdefault(r.parent, []).append(r.urn)
    finish: dict[str, float] = {}
    start: dict[str, float] = {}
    via: dict[str, str | None] = {}
    own: dict[str, tuple[float, str, bool]] = {}
    visiting: set[str] = set()

    def visit(urn: str) -> float:
        if urn in finish:
            return finish[urn]
        if urn in visiting:      # a cycle cannot be deployed either; do not loop
            return 0.0
        visiting.add(urn)
        r = by_urn[urn]
        best, best_urn = 0.0, None
        for d in r.dependencies:
            if d in by_urn and d != urn:
                f = visit(d)
                if f > best:
                    best, best_urn = f, d
        start[urn] = best
        own[urn] = create_time(r, times)
        end = best + own[urn][0]
        last = best_urn
        for c in children.get(urn, []):
            f = visit(c)
            if f > end:
                end, last = f, c
        finish[urn], via[urn] = end, last
        visiting.discard(urn)
        return end

    import sys
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(plan.resources) + 100))
    try:
        for r in plan.resources:
            visit(r.urn)
    finally:
        sys.setrecursionlimit(limit)
    if not finish:
        return CriticalPath(0.0, [], 0)
    end_urn = max(finish, key=lambda u: (finish[u], not _is_component(by_urn[u])))
    chain: list[str] = []
    cur: str | None = end_urn
    seen: set[str] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        chain.append(cur)
        cur = via.get(cur)
    steps = []
    for urn in reversed(chain):
        r = by_urn[urn]
        secs, source, assumption = own[urn]
        if _is_component(r) or r.type.startswith("pulumi:providers:"):
            continue
        steps.append(Step(r.name, r.type, tier_of(r, by_urn), secs, start[urn], start[urn] + secs, source,
                          assumption))
    return CriticalPath(finish[end_urn], steps, len(plan.resources))


def _mmss(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def text(path: CriticalPath) -> str:
    out = [f"critical path of a first `pulumi up`: ~{path.total / 60:.1f} min ({_mmss(path.total)}) over "
           f"{len(path.steps)} resources on the longest dependency chain",
           f"  ({path.resources} resources in the plan; unthrottled parallelism assumed; "
           f"~ = assumed create time, see plan/resource_types.json)"]
    for s in path.steps:
        mark = "~" if s.assumption else " "
        out.append(clip(f" {mark} {_mmss(s.start):>6} -> {_mmss(s.finish):>6}  +{_mmss(s.seconds):>5}  "
                        f"{s.tier}/{s.name} ({s.type})"))
    return "\n".join(out)
