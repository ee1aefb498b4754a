"""A web ACL's recorded rules (pulumi-aws's camelCase inputs) evaluated for one request, the way WAF evaluates
them: rules in priority order, the first terminating action wins, managed rules overridden to count only add
their label. Three-valued: a statement this module does not model makes the verdict undecidable, never allowed."""
from __future__ import annotations

import dataclasses
import posixpath
import re
import urllib.parse

from ..flows.iam import Verdict, is_unknown

CRS = "AWSManagedRulesCommonRuleSet"
CRS_LABEL = "awswaf:managed:aws:core-rule-set:"
SIZE_RESTRICTIONS_BODY = 8 * 1024     # the core rule set's SizeRestrictions_BODY: bodies over 8 KB


@dataclasses.dataclass(frozen=True)
class Request:
    path: str                         # as the client sends it, with the stage (/v1/code/chat)
    body_bytes: int = 0
    trips: frozenset = frozenset()    # managed rules the content trips (CrossSiteScripting_BODY, GenericLFI_BODY...)
    per_window: int = 1               # requests from the same IP and user within the evaluation window
    authorization: bool = True

    def managed(self, group: str) -> set:
        out = set(self.trips) if group == CRS else set()
        if group == CRS and self.body_bytes > SIZE_RESTRICTIONS_BODY:
            out.add("SizeRestrictions_BODY")
        return out


def label_of(rule: str) -> str:
    """Core rule set labels: the rule name with its component in title case (CrossSiteScripting_BODY ->
    ...:CrossSiteScripting_Body)."""
    head, _, part = rule.rpartition("_")
    return CRS_LABEL + (f"{head}_{part.title()}" if head else rule)


def _transform(value: str, transformations) -> str:
    for t in sorted(transformations or [], key=lambda t: t.get("priority", 0)):
        kind = t.get("type")
        if kind == "URL_DECODE":
            value = urllib.parse.unquote(value)
        elif kind == "NORMALIZE_PATH":
            value = posixpath.normpath(value) if value else value
            value = "/" + value.lstrip("/") if value != "." else "/"
        elif kind == "LOWERCASE":
            value = value.lower()
    return value


class Evaluation:
    def __init__(self, acl_props: dict, request: Request, inspection_kb: int = 16):
        self.acl, self.req, self.inspection = acl_props, request, inspection_kb * 1024
        self.labels: set = set()
        self.counted: list = []

    def statement(self, st: dict):
        """True / False / None (not modelled or unknown)."""
        if not isinstance(st, dict) or is_unknown(st):
            return None
        req = self.req
        if "andStatement" in st:
            vals = [self.statement(s) for s in st["andStatement"].get("statements") or []]
            return False if False in vals else None if None in vals else True
        if "orStatement" in st:
            vals = [self.statement(s) for s in st["orStatement"].get("statements") or []]
            return True if True in vals else None if None in vals else False
        if "notStatement" in st:
            v = self.statement(st["notStatement"].get("statement"))
            return None if v is None else not v
        if "labelMatchStatement" in st:
            lm = st["labelMatchStatement"]
            return lm.get("key") in self.labels if lm.get("scope") == "LABEL" else None
        if "regexMatchStatement" in st:
            rm = st["regexMatchStatement"]
            if set(rm.get("fieldToMatch") or {}) != {"uriPath"}:
                return None
            path = _transform(req.path, rm.get("textTransformations"))
            return re.search(rm.get("regexString") or "", path) is not None
        if "sizeConstraintStatement" in st:
            sc = st["sizeConstraintStatement"]
            body = (sc.get("fieldToMatch") or {}).get("body")
            if body is None:
                return None
            size = req.body_bytes
            if size > self.inspection:
                handling = body.get("oversizeHandling") or "CONTINUE"
                if handling == "MATCH":
                    return True
                if handling == "NO_MATCH":
                    return False
                size = self.inspection
            limit = sc.get("size")
            ops = {"GT": size > limit, "GE": size >= limit, "LT": size < limit, "LE": size <= limit,
                   "EQ": size == limit, "NE": size != limit}
            return ops.get(sc.get("comparisonOperator"))
        if "rateBasedStatement" in st:
            rb = st["rateBasedStatement"]
            scope = rb.get("scopeDownStatement")
            applies = True if scope is None else self.statement(scope)
            if applies is False:
                return False
            over = req.per_window > int(rb.get("limit") or 0)
            return None if applies is None and over else over
        return None

    def decide(self) -> Verdict:
        rules = sorted(self.acl.get("rules") or [], key=lambda r: r.get("priority", 0))
        if is_unknown(rules):
            return Verdict(None, "web ACL rules unknown until apply")
        pending = None
        for rule in rules:
            name = rule.get("name")
            group = (rule.get("statement") or {}).get("managedRuleGroupStatement")
            if group is not None:
                counted = {o.get("name") for o in group.get("ruleActionOverrides") or []
                           if "count" in (o.get("actionToUse") or {})}
                tripped = self.req.managed(group.get("name"))
                blocking = sorted(tripped - counted)
                if blocking and "none" in (rule.get("overrideAction") or {}):
                    return Verdict(False, f"blocked by {group.get('name')}:{blocking[0]} (403)")
                self.labels |= {label_of(r) for r in tripped}
                self.counted += sorted(tripped & counted)
                continue
            matched = self.statement(rule.get("statement"))
            action = rule.get("action") or {}
            if "block" in action:
                if matched is True:
                    return Verdict(False, f"blocked by rule {name} (403)")
                if matched is None:
                    pending = pending or f"rule {name} is not modelled"
        if pending:
            return Verdict(None, pending)
        counted_note = f" ({', '.join(self.counted)} counted)" if self.counted else ""
        allowed = "allow" in (self.acl.get("defaultAction") or {})
        return Verdict(allowed, f"no rule blocks it{counted_note}" if allowed else "the default action blocks it")


def inspection_kb(acl_props: dict) -> int:
    for body in (acl_props.get("associationConfig") or {}).get("requestBodies") or []:
        limit = (body.get("apiGateway") or {}).get("defaultSizeInspectionLimit")
        if isinstance(limit, str) and limit.startswith("KB_"):
            return int(limit[3:])
    return 16


def evaluate(acl_props: dict, request: Request) -> Verdict:
    return Evaluation(acl_props, request, inspection_kb(acl_props)).decide()
