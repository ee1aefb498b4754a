"""Two stacks in one account must not react to each other's events (issue 24). The default event bus is the
account's (per region): every stack's custom events and every AWS service event land on it. A rule of this stack
on the default bus whose pattern can match the events another stack's rule of the same region is written for
reacts to that stack's events too (a dev training request starting a prod job, a dev pipeline failure paging prod).

For every rule of this stack on the default bus and every other stack of the project in the same account, one
forbidden flow `stack <other> events -> EventBridge rule <name> (default bus)`: allowed (red) when the two
patterns overlap (EventBridge "Event patterns": every field both name must have a value both accept; a field only
one names constrains nothing; prefix, anything-but, numeric and other matchers are compared conservatively).
"""
from __future__ import annotations

from .iam import Verdict, is_unknown
from .model import Model, loads

RULE = "aws:cloudwatch/eventRule:EventRule"


def _accepts_common(a: list, b: list) -> bool:
    """Can one value satisfy a matcher list of each pattern?"""
    plain_a = {x for x in a if isinstance(x, (str, int, float, bool)) or x is None}
    plain_b = {x for x in b if isinstance(x, (str, int, float, bool)) or x is None}
    if plain_a & plain_b:
        return True
    prefixes_a = [x["prefix"] for x in a if isinstance(x, dict) and isinstance(x.get("prefix"), str)]
    prefixes_b = [x["prefix"] for x in b if isinstance(x, dict) and isinstance(x.get("prefix"), str)]
    if any(str(v).startswith(p) for p in prefixes_a for v in plain_b) or \
            any(str(v).startswith(p) for p in prefixes_b for v in plain_a):
        return True
    if any(p.startswith(q) or q.startswith(p) for p in prefixes_a for q in prefixes_b):
        return True
    # any other matcher (anything-but, numeric, exists, wildcard, suffix, equals-ignore-case, cidr): assume it can
    other = lambda xs: any(isinstance(x, dict) and "prefix" not in x for x in xs)  # noqa: E731
    return other(a) or other(b)


def overlap(p1, p2) -> bool:
    """Whether some event matches both EventBridge patterns (conservative: True when unsure)."""
    if not isinstance(p1, dict) or not isinstance(p2, dict):
        return True
    if "$or" in p1 or "$or" in p2:
        alts1 = [{**{k: v for k, v in p1.items() if k != "$or"}, **alt} for alt in p1.get("$or") or [{}]]
        alts2 = [{**{k: v for k, v in p2.items() if k != "$or"}, **alt} for alt in p2.get("$or") or [{}]]
        return any(overlap(a, b) for a in alts1 for b in alts2)
    for key in set(p1) & set(p2):
        v1, v2 = p1[key], p2[key]
        if isinstance(v1, dict) and isinstance(v2, dict):
            if not overlap(v1, v2):
                return False
        elif isinstance(v1, list) and isinstance(v2, list):
            if not _accepts_common(v1, v2):
                return False
    return True


def _default_bus_rules(m: Model) -> list:
    return [r for r in m.of_type(RULE) if (m.get(r, "eventBusName") or "default") in ("default", "")
            and m.get(r, "eventPattern")]


def bus_isolation(c):
    others = [(name, Model(plan)) for name, plan in sorted(c.others.items()) if plan is not c.plan]
    if not others:
        return
    m = c.m
    for rule in _default_bus_rules(m):
        mine = loads(m.get(rule, "eventPattern"))
        region = m.region_of(rule)
        for name, om in others:
            if om.account != m.account:
                continue
            theirs = [r for r in _default_bus_rules(om) if om.region_of(r) == region]
            if is_unknown(mine):
                v = Verdict(None, "the rule's pattern is unknown until apply")
            else:
                hits = [om.get(r, "name") for r in theirs
                        if not is_unknown(loads(om.get(r, "eventPattern")))
                        and overlap(mine, loads(om.get(r, "eventPattern")))]
                v = Verdict(bool(hits), (f"its pattern also matches the events stack {name}'s rule(s) "
                                         f"{', '.join(map(str, hits[:3]))} react to") if hits else
                            f"no event a rule of stack {name} reacts to matches it")
            where = "" if region == c.primary else f" ({region})"
            c.add(f"stack {name} events", f"EventBridge rule {m.get(rule, 'name')}{where} (default bus)",
                  "trigger", "deny", [("pattern", v)], "isolation")
