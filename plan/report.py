"""Human-readable and JSON reports of a plan and its policy analysis."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Optional

from .analyze import Analysis
from .engine import Plan, Resource

TIER_PREFIX = "ai-platform:tier:"


def tier_of(resource: Resource, by_urn: dict[str, Resource]) -> str:
    """The tier component a resource belongs to ('-' for top-level providers and the like)."""
    seen = resource
    while seen is not None:
        if seen.type.startswith(TIER_PREFIX):
            return seen.type[len(TIER_PREFIX):]
        seen = by_urn.get(seen.parent)
    return "-"


def summary_rows(plan: Plan) -> dict[str, Counter]:
    by_urn = plan.by_urn()
    tiers: dict[str, Counter] = defaultdict(Counter)
    for r in plan.resources:
        if r.type.startswith(TIER_PREFIX):
            continue
        tiers[tier_of(r, by_urn)][r.type] += 1
    return tiers


def to_json(plan: Plan, analysis: Optional[Analysis]) -> dict:
    doc = {"stack": plan.stack, "project": plan.project, "region": plan.region,
           "mode": "preview" if plan.preview else "update",
           "resources": [r.to_json() for r in plan.resources],
           "outputs": plan.exports,
           "violations": [v.to_json() for v in analysis.violations] if analysis else [],
           "notApplicable": analysis.not_applicable if analysis else [],
           "remediations": analysis.remediations if analysis else [],
           "policyErrors": [e.to_json() for e in analysis.errors] if analysis else []}
    return doc


def text(plan: Plan, analysis: Optional[Analysis]) -> str:
    lines = [f"stack {plan.stack} ({plan.region}), mode: {'preview of a new stack (computed outputs unknown)' if plan.preview else 'update (outputs known)'}"]
    tiers = summary_rows(plan)
    total = sum(sum(c.values()) for c in tiers.values())
    lines.append(f"{total} resources")
    for tier in sorted(tiers):
        counts = tiers[tier]
        lines.append(f"  {tier} ({sum(counts.values())})")
        for token, n in sorted(counts.items()):
            lines.append(f"    {n:3d}  {token}")
    if analysis is not None:
        mandatory = analysis.mandatory
        skipped = analysis.skipped
        advisory = [v for v in analysis.violations if v.level == "advisory" and v not in skipped]
        lines.append(f"policies: {len(analysis.policies)} evaluated; {len(mandatory)} mandatory, "
                     f"{len(advisory)} advisory violations; {len(skipped)} could not run (values unknown in preview); "
                     f"{len(analysis.remediations)} remediated")
        for v in mandatory + advisory:
            first = v.message.splitlines()[-1]
            lines.append(f"  [{v.level}] {v.policy} {v.urn.split('::')[-1] if v.urn else '(stack)'}: {first}")
        # One line per policy and reason: a new stack's preview leaves the same value unknown on many resources.
        grouped = Counter((v.policy, v.message.splitlines()[-1].split("during preview: ")[-1]) for v in skipped)
        for (policy, reason), n in sorted(grouped.items()):
            lines.append(f"  [unknown] {policy} x{n}: {reason}")
        for e in analysis.errors:
            lines.append(f"  [error] {e.policy} {e.urn.split('::')[-1] if e.urn else '(stack)'}: {e.message}")
        lines.append("result: " + ("INCOMPLETE (a policy raised; exit 3)" if analysis.errors else
                                   "FAIL (mandatory violations)" if mandatory else "ok (no mandatory violation)"))
    return "\n".join(lines)
