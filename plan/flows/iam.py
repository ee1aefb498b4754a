"""IAM policy evaluation, the way AWS documents it (three-valued: True, False, None = unknown).

Hand-written because no maintained offline library *evaluates* requests against policies with
conditions (parliament lints documents; policyuniverse/policy_sentry describe actions). What is
implemented, from "Policy evaluation logic" in the IAM User Guide:

- statement match: Action/NotAction, Resource/NotResource, Principal/NotPrincipal (resource
  policies), Condition blocks (operators AND, keys AND, values OR);
- operators: String*, Arn*, Bool, Null, Numeric*, IpAddress/NotIpAddress, each with `IfExists`, and
  the `ForAnyValue:` / `ForAllValues:` set prefixes; condition keys are case-insensitive, values
  case-sensitive except the `IgnoreCase` operators; negated operators on a missing key are true;
- combination: explicit deny wins; then same-account requests need an allow in the identity
  policies OR a resource policy naming the principal itself; cross-account requests need both
  sides; KMS keys and role trust always need the resource (key/trust) policy, either naming the
  principal or delegating to IAM through the account principal (and then an identity allow).

An unknown value (a preview's computed output) makes whatever depends on it None, and None is
never turned into an allow.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Optional

UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

Tri = Optional[bool]  # noqa: UP045 - a runtime alias, read as a name


def is_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return UNKNOWN_SENTINEL in value
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return value is Unknown


class _UnknownType:
    def __repr__(self):
        return "<unknown>"


Unknown = _UnknownType()


def t_or(values: Iterable[Tri]) -> Tri:
    seen_unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            seen_unknown = True
    return None if seen_unknown else False


def t_and(values: Iterable[Tri]) -> Tri:
    seen_unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            seen_unknown = True
    return None if seen_unknown else True


def t_not(v: Tri) -> Tri:
    return None if v is None else not v


# ---------------------------------------------------------------------------------------------
# wildcards
@lru_cache(maxsize=4096)
def _glob_re(pattern: str, ignore_case: bool) -> re.Pattern:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_glob_re(pattern, ignore_case).match(value))


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six ARN fields are matched separately (wildcards do not cross a colon of the
    first five fields); the resource part may contain colons."""
    p = pattern.split(":", 5)
    v = value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return glob(pattern, value)
    return all(glob(a, b) for a, b in zip(p, v, strict=True))


# ---------------------------------------------------------------------------------------------
# principals
@dataclasses.dataclass(frozen=True)
class Principal:
    """Who makes the request.

    kind: 'role' (an IAM role session), 'service' (an AWS service principal), 'account' (an
    external account root acting through its own IAM, e.g. the ELB log-delivery account),
    'anonymous' (the internet)."""
    kind: str
    arn: str = ""
    account: str = ""
    service: str = ""
    tags: tuple = ()

    @property
    def label(self) -> str:
        return self.service or self.arn or self.kind


def role_principal(arn: str, tags: dict | None = None) -> Principal:
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    return Principal("role", arn=arn, account=account, tags=tuple(sorted((tags or {}).items())))


def service_principal(name: str) -> Principal:
    return Principal("service", service=name)


def account_principal(account: str) -> Principal:
    return Principal("account", arn=f"arn:aws:iam::{account}:root", account=account)


ANONYMOUS = Principal("anonymous")


def _service_eq(policy_name: str, request_name: str) -> bool:
    if policy_name == request_name:
        return True
    # logs.us-east-1.amazonaws.com and logs.amazonaws.com name the same service
    a, b = policy_name.split("."), request_name.split(".")
    return a[0] == b[0] and a[-2:] == b[-2:] and abs(len(a) - len(b)) == 1


def principal_match(element: Any, who: Principal) -> tuple[Tri, bool]:
    """(matches, only through the account principal). The account principal ('123…' or
    'arn:aws:iam::123…:root') names every principal of that account but only delegates to IAM."""
    if is_unknown(element):
        return None, False
    if element == "*":
        return True, False
    if not isinstance(element, dict):
        return False, False
    direct, delegated = False, False
    for kind, values in element.items():
        values = values if isinstance(values, list) else [values]
        for value in values:
            if is_unknown(value):
                return None, False
            if kind == "AWS":
                if value == "*":
                    if who.kind != "anonymous":
                        direct = True
                    continue
                if re.fullmatch(r"\d{12}", value) or re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:root", value):
                    acct = value if value.isdigit() else value.split(":")[4]
                    if who.kind in ("role", "account") and who.account == acct:
                        if who.kind == "account":
                            direct = True
                        else:
                            delegated = True
                    continue
                if who.kind == "role" and value == who.arn:
                    direct = True
            elif kind == "Service":
                if who.kind == "service" and _service_eq(value, who.service):
                    direct = True
    if direct:
        return True, False
    if delegated:
        return True, True
    return False, False


# ---------------------------------------------------------------------------------------------
# conditions
def _values(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _base_match(op: str, policy_value: str, ctx_value: Any) -> Tri:
    if is_unknown(ctx_value) or is_unknown(policy_value):
        return None
    cv, pv = _str(ctx_value), _str(policy_value)
    if op in ("StringEquals", "StringNotEquals"):
        return cv == pv
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return cv.lower() == pv.lower()
    if op in ("StringLike", "StringNotLike"):
        return glob(pv, cv)
    if op in ("ArnEquals", "ArnNotEquals"):
        return cv == pv
    if op in ("ArnLike", "ArnNotLike"):
        return arn_like(pv, cv)
    if op == "Bool":
        return cv.lower() == pv.lower()
    if op.startswith("Numeric"):
        a, b = _num(cv), _num(pv)
        if a is None or b is None:
            return False
        return {"NumericEquals": a == b, "NumericNotEquals": a == b, "NumericLessThan": a < b,
                "NumericLessThanEquals": a <= b, "NumericGreaterThan": a > b,
                "NumericGreaterThanEquals": a >= b}[op]
    if op in ("IpAddress", "NotIpAddress"):
        try:
            return ipaddress.ip_address(cv) in ipaddress.ip_network(pv, strict=False)
        except ValueError:
            return False
    raise ValueError(f"condition operator {op} is not supported")


NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
           "NumericNotEquals", "NotIpAddress"}


def condition_op(op_full: str, key: str, policy_values: Any, context: dict) -> Tri:
    """One operator/key pair. `context` maps lower-cased keys to a value or list of values."""
    prefix = ""
    op = op_full
    if ":" in op:
        prefix, op = op.split(":", 1)
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    present = key.lower() in context
    ctx = context.get(key.lower())
    pvals = _values(policy_values)
    if op == "Null":
        if ctx is Unknown or is_unknown(ctx):
            return None
        want_absent = _str(pvals[0]).lower() == "true"
        return (not present) == want_absent
    negated = op in NEGATED
    if not present:
        if prefix == "ForAllValues":
            return True
        if prefix == "ForAnyValue":
            return False
        return True if (if_exists or negated) else False
    if ctx is Unknown:
        return None
    base = op
    if prefix:
        cvals = _values(ctx)
        results = []
        for c in cvals:
            m = t_or(_base_match(base, p, c) for p in pvals)
            results.append(t_not(m) if negated else m)
        return t_and(results) if prefix == "ForAllValues" else t_or(results)
    cvals = _values(ctx)
    # single-valued key (or multi-valued used without a set operator: any value matching)
    m = t_or(t_or(_base_match(base, p, c) for p in pvals) for c in cvals)
    return t_not(m) if negated else m


def conditions_match(block: Any, context: dict) -> Tri:
    if not block:
        return True
    if is_unknown(block):
        return None
    results = []
    for op, pairs in block.items():
        for key, values in pairs.items():
            results.append(condition_op(op, key, values, context))
    return t_and(results)


# ---------------------------------------------------------------------------------------------
# documents
@dataclasses.dataclass
class Request:
    principal: Principal
    action: str
    resource: str
    context: dict = dataclasses.field(default_factory=dict)

    def ctx(self) -> dict:
        base: dict[str, Any] = {"aws:securetransport": True}
        if self.principal.kind == "role":
            base.update({"aws:principalarn": self.principal.arn, "aws:principalaccount": self.principal.account,
                         "aws:principaltype": "AssumedRole"})
            for k, v in self.principal.tags:
                base[f"aws:principaltag/{k.lower()}"] = v
        elif self.principal.kind == "service":
            base.update({"aws:principalservicename": self.principal.service})
        elif self.principal.kind == "account":
            base.update({"aws:principalaccount": self.principal.account, "aws:principalarn": self.principal.arn})
        base.update({k.lower(): v for k, v in self.context.items()})
        return base


def parse_document(doc: Any) -> Any:
    """A policy document as a dict, Unknown when it is (or contains) an unknown value."""
    if doc is None:
        return None
    if is_unknown(doc):
        return Unknown
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


def statements(doc: Any) -> list:
    if doc is None or doc is Unknown:
        return []
    st = doc.get("Statement", [])
    return st if isinstance(st, list) else [st]


def _action_match(stmt: dict, action: str) -> Tri:
    if "Action" in stmt:
        pats = _values(stmt["Action"])
        if is_unknown(pats):
            return None
        return any(glob(p, action, ignore_case=True) for p in pats)
    if "NotAction" in stmt:
        pats = _values(stmt["NotAction"])
        if is_unknown(pats):
            return None
        return not any(glob(p, action, ignore_case=True) for p in pats)
    return False


def _resource_match(stmt: dict, resource: str, resource_policy: bool) -> Tri:
    if "Resource" in stmt:
        pats = _values(stmt["Resource"])
        if is_unknown(pats) or is_unknown(resource):
            return None
        return any(glob(p, resource) for p in pats)
    if "NotResource" in stmt:
        pats = _values(stmt["NotResource"])
        if is_unknown(pats) or is_unknown(resource):
            return None
        return not any(glob(p, resource) for p in pats)
    return True if resource_policy else False


@dataclasses.dataclass
class Match:
    effect: str
    matched: Tri
    delegated: bool
    where: str
    sid: str


def document_matches(doc: Any, req: Request, *, resource_policy: bool, where: str) -> list[Match]:
    """Every statement of `doc` whose match is True or unknown (False ones are dropped)."""
    if doc is Unknown:
        return [Match("Allow", None, False, where, "(unknown document)"),
                Match("Deny", None, False, where, "(unknown document)")]
    out = []
    ctx = req.ctx()
    for i, stmt in enumerate(statements(doc)):
        if not isinstance(stmt, dict):
            continue
        effect = str(stmt.get("Effect") or "")
        sid = stmt.get("Sid") or f"#{i}"
        delegated = False
        parts: list[Tri] = [_action_match(stmt, req.action), _resource_match(stmt, req.resource, resource_policy)]
        if resource_policy:
            if "Principal" in stmt:
                m, delegated = principal_match(stmt["Principal"], req.principal)
                parts.append(m)
            elif "NotPrincipal" in stmt:
                m, _ = principal_match(stmt["NotPrincipal"], req.principal)
                parts.append(t_not(m))
            else:
                parts.append(False)
        if t_and(parts) is False:
            continue
        parts.append(conditions_match(stmt.get("Condition"), ctx))
        m = t_and(parts)
        if m is False:
            continue
        out.append(Match(effect, m, delegated, where, sid))
    return out


@dataclasses.dataclass
class Verdict:
    allowed: Tri
    reason: str

    @property
    def undecidable(self) -> bool:
        return self.allowed is None


def decide(req: Request, *, identity: list | None = None, resource: list | None = None,
           resource_account: str = "", requires_resource_policy: bool = False,
           identity_unmodelled: Iterable[str] = ()) -> Verdict:
    """AWS's decision for one request.

    identity: [(label, document)] of the principal's identity policies (None: the principal has
    none, e.g. a service principal); resource: [(label, document)] of the resource's policies
    (bucket/queue/topic/secret/repository/bus policy, the key policy, or the trust policy);
    requires_resource_policy: KMS keys and role trust (the resource policy must allow, directly or
    by delegating to IAM through the account principal)."""
    id_matches: list[Match] = []
    for label, doc in identity or []:
        id_matches += document_matches(doc, req, resource_policy=False, where=label)
    rs_matches: list[Match] = []
    for label, doc in resource or []:
        rs_matches += document_matches(doc, req, resource_policy=True, where=label)
    everything = id_matches + rs_matches
    denies = [m for m in everything if m.effect == "Deny"]
    hard = [m for m in denies if m.matched is True]
    if hard:
        return Verdict(False, f"explicit deny {hard[0].where}:{hard[0].sid}")
    soft_deny = [m for m in denies if m.matched is None]

    id_allow = t_or(m.matched for m in id_matches if m.effect == "Allow")
    unmodelled = list(identity_unmodelled)
    if id_allow is False and unmodelled:
        id_allow = None
    rs_direct = t_or(m.matched for m in rs_matches if m.effect == "Allow" and not m.delegated)
    rs_deleg = t_or(m.matched for m in rs_matches if m.effect == "Allow" and m.delegated)
    p = req.principal
    if p.kind == "service" or p.kind == "anonymous":
        allowed = rs_direct
        how = "resource policy names the principal"
    elif requires_resource_policy:
        allowed = t_or([rs_direct, t_and([rs_deleg, id_allow])])
        how = "key/trust policy names the principal" if rs_direct else "key/trust policy delegates to IAM + identity policy"
    elif p.kind == "account" or (resource_account and p.account and p.account != resource_account):
        # cross-account: the caller's own account must allow (external AWS-owned accounts: assumed) and the resource
        # policy must name the caller (or its account).
        own = True if p.kind == "account" or identity is None else id_allow
        allowed = t_and([own, t_or([rs_direct, rs_deleg])])
        how = "cross-account: both the caller's account and the resource policy allow"
    else:
        allowed = t_or([id_allow, rs_direct])
        how = "identity policy allows" if id_allow else "resource policy names the principal"
    if allowed is True and soft_deny:
        return Verdict(None, f"a deny statement depends on an unknown value ({soft_deny[0].where}:{soft_deny[0].sid})")
    if allowed is True:
        src = [m for m in everything if m.effect == "Allow" and m.matched is True]
        return Verdict(True, how + (f" ({', '.join(sorted({m.where + ':' + m.sid for m in src}))})" if src else ""))
    if allowed is None:
        what = unmodelled[0] if unmodelled and id_allow is None else "an unknown value"
        return Verdict(None, f"depends on {what}")
    if requires_resource_policy and rs_deleg and not rs_direct:
        return Verdict(False, f"no identity policy allows {req.action} (the key/trust policy only delegates to IAM)")
    if requires_resource_policy:
        return Verdict(False, f"the key/trust policy does not allow {p.label} {req.action}")
    if p.kind in ("service", "anonymous"):
        return Verdict(False, f"no resource policy allows {p.label} {req.action}")
    return Verdict(False, f"no policy allows {req.action} on {req.resource}")
