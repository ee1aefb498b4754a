"""What `python -m plan` prints: the plan summary, policy results, cost tables and comparisons.

Text is for people: a short summary by default (details behind `--details`), at most WIDTH columns, identical
rows folded into one ("44 × ..."). JSON is for machines and keeps every row. Policies that could not run in a
preview (a value they read is unknown) are their own category in both, never counted as violations.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from .tiers import is_tier, tier_of

if TYPE_CHECKING:    # report.py is imported by cost.py and critical_path.py: no import cycle at run time
    from .analyze import Analysis, Finding
    from .cost import Estimate, Line
    from .engine import Plan

WIDTH = 120


def clip(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def cell(text: str, width: int) -> str:
    """`text` left-aligned in exactly `width` columns (clipped with … when longer)."""
    return clip(text, width).ljust(width)


def fold(rows: list[str]) -> list[str]:
    """Identical rows once, prefixed "N × " when repeated; first-seen order."""
    counts = Counter(rows)
    return [(f"{counts[r]} × {r}" if counts[r] > 1 else r) for r in dict.fromkeys(rows)]


def summary_rows(plan: Plan) -> dict[str, Counter]:
    by_urn = plan.by_urn()
    tiers: dict[str, Counter] = defaultdict(Counter)
    for r in plan.resources:
        if is_tier(r.type):
            continue
        tiers[tier_of(r, by_urn)][r.type] += 1
    return tiers


# ---------------------------------------------------------------------------------------------------
# Plan and policies

def _split(analysis: Analysis) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(mandatory, advisory, could not run): a notice that a policy could not run is not a violation."""
    skipped = analysis.skipped
    ids = {id(v) for v in skipped}
    real = [v for v in analysis.violations if id(v) not in ids]
    return ([v for v in real if v.level == "mandatory"], [v for v in real if v.level != "mandatory"], skipped)


def _reason(v: Finding) -> str:
    return v.message.splitlines()[-1].split("during preview: ")[-1]


def _where(v: Finding) -> str:
    return v.urn.split("::")[-1] if v.urn else "(stack)"


def to_json(plan: Plan, analysis: Analysis | None) -> dict:
    mandatory, advisory, skipped = _split(analysis) if analysis else ([], [], [])
    return {"stack": plan.stack, "project": plan.project, "region": plan.region,
            "mode": "preview" if plan.preview else "update", "firstUp": bool(getattr(plan, "first_up", False)),
            "resources": [r.to_json() for r in plan.resources],
            "outputs": plan.exports,
            "violations": [v.to_json() for v in mandatory + advisory],
            "couldNotRun": [v.to_json() for v in skipped],
            "notApplicable": analysis.not_applicable if analysis else [],
            "remediations": analysis.remediations if analysis else [],
            "policyErrors": [e.to_json() for e in getattr(analysis, "errors", [])] if analysis else [],
            "deployErrors": [e.to_json() for e in getattr(plan, "deploy_errors", [])]}


def text(plan: Plan, analysis: Analysis | None, details: bool = False) -> str:
    mode = "preview of a new stack (computed outputs unknown)" if plan.preview else "update (outputs known)"
    if getattr(plan, "first_up", False):
        mode = "first `pulumi up` in an empty account (lookups answered as the provider answers them)"
    lines = [f"stack {plan.stack} ({plan.region}), mode: {mode}"]
    tiers = summary_rows(plan)
    total = sum(sum(c.values()) for c in tiers.values())
    per_tier = ", ".join(f"{t} {sum(c.values())}" for t, c in sorted(tiers.items(), key=lambda kv: kv[0]))
    lines += _wrap(f"{total} resources: {per_tier}", "  ")
    if details:
        for tier in sorted(tiers):
            counts = tiers[tier]
            lines.append(f"  {tier} ({sum(counts.values())})")
            lines += [f"    {n:3d}  {token}" for token, n in sorted(counts.items())]
    from .deploy_errors import text as deploy_text
    lines += deploy_text(getattr(plan, "deploy_errors", []))
    if analysis is not None:
        mandatory, advisory, skipped = _split(analysis)
        lines.append(f"policies: {len(analysis.policies)} evaluated; {len(mandatory)} mandatory, "
                     f"{len(advisory)} advisory violations; {len(analysis.remediations)} remediated; "
                     f"{len(skipped)} could not run")
        lines += [clip(f"  [mandatory] {v.policy} {_where(v)}: {v.message.splitlines()[-1]}") for v in mandatory]
        if details:
            lines += [clip(f"  [advisory] {v.policy} {_where(v)}: {v.message.splitlines()[-1]}") for v in advisory]
        elif advisory:
            lines += _wrap("advisory: " + ", ".join(fold([v.policy for v in advisory]))
                           + " (--details lists each)", "  ")
        if skipped:
            lines.append(f"could not run in preview ({len(skipped)}; a value they read is unknown until `pulumi up`; "
                         "--mode update evaluates them):")
            grouped = Counter((v.policy, _reason(v)) for v in skipped)
            rows = [f"  {n} × {policy}: {reason}" if n > 1 else f"  {policy}: {reason}"
                    for (policy, reason), n in sorted(grouped.items())]
            lines += [clip(r) for r in (rows if details else rows[:5])]
            if not details and len(rows) > 5:
                lines.append(f"  ... {len(rows) - 5} more (--details)")
        errors = getattr(analysis, "errors", [])     # a policy that raised (exit 3; plan/analyze.py)
        lines += [clip(f"  [error] {e.policy} {_where(e)}: {e.message}") for e in errors]
        lines.append("result: " + ("INCOMPLETE (a policy raised; exit 3)" if errors else
                                   "FAIL (mandatory violations)" if mandatory else
                                   "FAIL (deploy errors)" if getattr(plan, "deploy_errors", []) else
                                   "ok (no mandatory violation)"))
    elif getattr(plan, "deploy_errors", []):
        lines.append("result: FAIL (deploy errors)")
    return "\n".join(lines)


def _wrap(text: str, indent: str, width: int = WIDTH) -> list[str]:
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = indent + word
        else:
            line = f"{line} {word}" if line else word
    return out + [line]


# ---------------------------------------------------------------------------------------------------
# Cost

def money(x: float) -> str:
    return f"{x:,.2f}"


def _qty(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.3f}".rstrip("0").rstrip(".")


def dominant(est: Estimate, n: int = 3) -> str:
    if est.total <= 0:
        return "nothing priced"
    tier, amount = next(iter(est.by_tier().items()))
    top = sorted(est.lines, key=lambda x: -x.monthly)[:n]
    tops = "; ".join(f"{x.name} {x.item.split(':')[0].split(' (')[0]} ${money(x.monthly)}" for x in top)
    return f"dominated by the {tier} tier ({amount / est.total:.0%}); largest lines: {tops}"


def _folded_lines(lines: list[Line]) -> list[tuple[int, Line, float]]:
    """Lines identical but for the resource name, once: (count, first line, summed monthly)."""
    groups: dict[tuple, list[Line]] = {}
    for x in lines:
        key = (x.type, x.item, x.unit, round(x.unit_price, 9), round(x.quantity, 9), x.usage, x.assumption, x.region)
        groups.setdefault(key, []).append(x)
    return [(len(g), g[0], sum(x.monthly for x in g)) for g in groups.values()]


# tier / resource 30, item 50, quantity 12, unit price 11, monthly 11: 2 + 30+1+50+1+12+1+11+1+11 = 120
COLS = (30, 50, 12, 11, 11)


def cost_text(est: Estimate, details: bool = False) -> str:
    """Totals first, then one table row per line (repeated lines folded), then what is not priced."""
    tables = ", ".join(f"{region} dated {dated}" for region, dated in sorted(est.tables.items())) or "none used"
    by_tier = est.by_tier()
    out = [f"TOTAL ${money(est.total)}/month, stack {est.stack}: baseline ${money(est.baseline)}, usage-based* "
           f"${money(est.usage_total)}; assumption-priced~ ${money(est.assumption_total)}"]
    if est.parked_total:
        out += _wrap(f"services at their configured minimum; parked (a new stack before its first release, 0 tasks): "
                     f"${money(est.total - est.parked_total)}", "  ")
    out += _wrap("by tier: " + ", ".join(f"{t} ${money(a)}" for t, a in by_tier.items()), "  ")
    out += _wrap(dominant(est), "  ")
    out += _wrap(f"USD, 730 h/month; prices: {tables}; usage: {est.usage_file or 'none (usage lines are 0)'}", "  ")
    out.append("  * usage-based line   ~ assumption-priced (no reliable source; see plan/prices/)")
    w_name, w_item, w_qty, w_price, w_month = COLS
    out.append(f"  {cell('tier / resource', w_name)} {cell('item', w_item)} {'quantity':>{w_qty}} "
               f"{'unit price':>{w_price}} {'monthly':>{w_month}}")
    per_tier: dict[str, list[Line]] = defaultdict(list)
    for x in est.lines:
        per_tier[x.tier].append(x)
    for tier, amount in by_tier.items():
        out.append(f"  {tier}")
        for n, x, monthly in _folded_lines(per_tier[tier]):
            mark = ("*" if x.usage else " ") + ("~" if x.assumption else " ")
            name = f"{n} × {x.name}" if n > 1 else x.name
            region = "" if x.region == est.region else f" [{x.region}]"
            out.append(f"{mark}  {cell(name, w_name - 2)} {cell(x.item + region, w_item)} {_qty(x.quantity):>{w_qty}} "
                       f"{x.unit_price:>{w_price}.6g} {money(monthly):>{w_month}}")
        out.append(f"    {cell(tier + ' total', w_name + w_item + w_qty + w_price + 1)} {money(amount):>{w_month}}")
    if est.unpriced:
        out.append(f"UNPRICED (not in the total): {len(est.unpriced)}")
        rows = [f"  {u.type}: {u.reason}" for u in est.unpriced]
        out += [clip(r) for r in fold(rows)] if not details else \
            [clip(f"  {u.tier}/{u.name} ({u.type}): {u.reason}") for u in est.unpriced]
    else:
        out.append("unpriced: none")
    n_free = sum(len(v) for v in est.free.values())
    out += _wrap(f"no charge of their own: {n_free} resources ("
                 + "; ".join(f"{len(v)} {k}" for k, v in sorted(est.free.items(), key=lambda kv: -len(kv[1]))) + ")",
                 "  ")
    return "\n".join(out)


def _key(x: Line) -> tuple:
    return (x.tier, x.name, x.type, x.kind or x.item)


def differences(a: Estimate, b: Estimate) -> list[dict]:
    la, lb = defaultdict(list), defaultdict(list)
    for x in a.lines:
        la[_key(x)].append(x)
    for x in b.lines:
        lb[_key(x)].append(x)
    rows = []
    for key in set(la) | set(lb):
        xa, xb = la.get(key, []), lb.get(key, [])
        sa, sb = sum(x.monthly for x in xa), sum(x.monthly for x in xb)
        if abs(sb - sa) < 0.005:
            continue

        def desc(lines, total):
            if not lines:
                return "absent"
            return "; ".join(x.item.split(": ", 1)[-1] for x in lines) + f" = ${money(total)}"
        rows.append({"tier": key[0], "name": key[1], "what": key[3], "delta": sb - sa,
                     "a": desc(xa, sa), "b": desc(xb, sb)})
    return sorted(rows, key=lambda r: -abs(r["delta"]))


def compare_text(a: Estimate, b: Estimate, n: int = 10) -> str:
    """Two stacks side by side: totals, per tier, then the lines that make the difference."""
    out = [f"cost comparison (USD/month): {a.stack} vs {b.stack}: TOTAL ${money(a.total)} vs ${money(b.total)}"
           + (f" ({a.stack} = {a.total / b.total:.1%} of {b.stack})" if b.total else ""),
           f"  {'tier':<20} {a.stack:>12} {b.stack:>12} {'difference':>12}"]
    ta, tb = a.by_tier(), b.by_tier()
    for tier in sorted(set(ta) | set(tb), key=lambda t: -(tb.get(t, 0) + ta.get(t, 0))):
        x, y = ta.get(tier, 0.0), tb.get(tier, 0.0)
        out.append(f"  {tier:<20} {money(x):>12} {money(y):>12} {money(y - x):>12}")
    out.append(f"  {'TOTAL':<20} {money(a.total):>12} {money(b.total):>12} {money(b.total - a.total):>12}")
    out.append("what makes the difference (largest first):")
    for d in differences(a, b)[:n]:
        out.append(clip(f"  {d['delta']:>+10,.2f}  {d['tier']}/{d['name']} {d['what']}: {d['a']}  vs  {d['b']}"))
    out += _wrap(f"  {a.stack}: {dominant(a)}", "    ")
    out += _wrap(f"  {b.stack}: {dominant(b)}", "    ")
    return "\n".join(out)
