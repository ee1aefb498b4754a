"""Powers no contract grants (issue 32): an object whose creation starts something (an EventBridge rule matching
S3 "Object Created" under a prefix, targeting a function: a training request starts SageMaker training) is a
power of its own. No workload role derived from a contract (ECS tasks: the services' task roles, the Batch jobs'
role) may create such an object, whatever bucket grants its contract combines: every such (role, trigger) pair
is a forbidden flow, decided by the same IAM evaluation as every other flow (identity policies, explicit Deny).

A flow check rather than a pack rule: it needs the rule -> target mapping and the whole identity-policy evaluation
(Allow on bucket/*, Deny on the prefix) across resources, which this model already does; a rule would have to
re-implement IAM evaluation per statement.
"""
from __future__ import annotations

from .iam import is_unknown
from .model import Role, loads

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"


def s3_triggers(m) -> list[tuple[str, str, str]]:
    """(bucket name, key prefix, what it starts) for every rule matching S3 Object Created under a prefix."""
    targets: dict[str, list[str]] = {}
    for t in m.of_type(TARGET):
        fn = m.find(m.get(t, "arn"), FUNCTION)
        label = f"function {m.get(fn, 'name')}" if fn not in (None,) and not is_unknown(fn) else str(m.get(t, "arn"))
        targets.setdefault(str(m.get(t, "rule")), []).append(label)
    out = []
    for rule in m.of_type(RULE):
        pattern = m.get(rule, "eventPattern")
        if not pattern or is_unknown(pattern):
            continue
        p = loads(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(p, dict) or "aws.s3" not in (p.get("source") or []) or \
                "Object Created" not in (p.get("detail-type") or []):
            continue
        detail = p.get("detail") or {}
        buckets = ((detail.get("bucket") or {}).get("name")) or []
        prefixes = [k.get("prefix") for k in ((detail.get("object") or {}).get("key") or []) if isinstance(k, dict)]
        started = ", ".join(targets.get(str(m.get(rule, "name")), [])) or f"rule {m.get(rule, 'name')}"
        out += [(b, pre, started) for b in buckets for pre in prefixes if isinstance(b, str) and pre]
    return out


def contract_roles(m) -> list[Role]:
    """Roles ECS tasks assume that hold any S3 grant: the services' task roles and the Batch jobs' role."""
    out = []
    for role in m.roles.values():
        if not isinstance(role, Role) or "ecs-tasks.amazonaws.com" not in str(role.trust):
            continue
        if any("s3:" in str(doc) for _, doc in role.identity):
            out.append(role)
    return sorted(out, key=lambda r: r.name)


def powers(c):
    m, ck = c.m, c.ck
    for bucket, prefix, started in s3_triggers(m):
        key = f"arn:aws:s3:::{bucket}/{prefix}flow-check.json"
        for role in contract_roles(m):
            region = m.region_of(role.resource) if role.resource is not None else c.primary
            where = "" if region == c.primary else f" ({region})"
            c.add(f"role {role.name}{where}", f"s3://{bucket}/{prefix} (starts {started})", "s3:PutObject", "deny",
                  [("s3:PutObject", ck.role_can(role, "s3:PutObject", key))], "powers")
