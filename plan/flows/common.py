"""What every flow group shares: the Flow record, the service-contract config key, small helpers."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .iam import Tri, Verdict, is_unknown, t_and
from .model import Checker, Model

APP_KEY = "ai-platform:application"

# Design hints used only when neither config nor the application tier declares a contract
# (issue 12: "document extraction reads documents and publishes DocumentUploaded, inference
# consumers read their queue"). Everything else is derived from the task definitions: a service
# given DB_HOST intends to use the database, one given REDIS_HOST the cache.
DESIGN_HINTS: dict[str, dict] = {
    "document-extraction": {"buckets": {"documents": "read"}, "publishes": ["DocumentUploaded"],
                            "queues": ["document-processing"]},
    "conversational": {"queues": ["inference-requests"]},
}


@dataclasses.dataclass
class Flow:
    source: str
    target: str
    action: str
    expected: str                      # "allow" | "deny"
    checks: list                       # [(label, Verdict)]
    group: str = ""

    @property
    def verdict(self) -> Verdict:
        if not self.checks:
            return Verdict(False, "nothing in the plan provides this flow")
        allowed = t_and(v.allowed for _, v in self.checks)
        if allowed is True:
            return Verdict(True, "; ".join(f"{label}: {v.reason}" for label, v in self.checks))
        for label, v in self.checks:
            if v.allowed is allowed:
                return Verdict(allowed, f"{label}: {v.reason}")
        return Verdict(allowed, "")

    @property
    def ok(self) -> bool:
        v = self.verdict.allowed
        return v is True if self.expected == "allow" else v is False

    def to_json(self) -> dict:
        v = self.verdict
        out = {"from": self.source, "to": self.target, "action": self.action, "expected": self.expected,
               "allowed": v.allowed is True, "reason": v.reason}
        if v.allowed is None:
            out["undecidable"] = True
        return out


def _tags(m: Model, r) -> dict:
    t = m.get(r, "tags") or {}
    return t if isinstance(t, dict) else {}


def _via(service: str, region: str) -> str:
    return f"{service}.{region}.amazonaws.com"


def _registry_rules(m: Model) -> list:
    out = []
    for rc in m.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration"):
        for rule in ((m.get(rc, "replicationConfiguration") or {}).get("rules") or []):
            out.append((rc, rule))
    return out


def _replicates(rule, repo_name) -> Tri:
    filters = rule.get("repositoryFilters") or []
    if is_unknown(filters) or is_unknown(repo_name):
        return None
    if not filters:
        return True
    return any(f.get("filterType", "PREFIX_MATCH") == "PREFIX_MATCH" and str(repo_name).startswith(f.get("filter", ""))
               for f in filters)


def _any_allowed(checks) -> Verdict:
    """For a forbidden flow: allowed if ANY of the principals is allowed."""
    vals = [v.allowed for _, v in checks]
    if any(v is True for v in vals):
        lbl, v = next((lbl, v) for lbl, v in checks if v.allowed is True)
        return Verdict(True, f"{lbl}: {v.reason}")
    if any(v is None for v in vals):
        lbl, v = next((lbl, v) for lbl, v in checks if v.allowed is None)
        return Verdict(None, f"{lbl}: {v.reason}")
    return Verdict(False, "; ".join(f"{lbl}: {v.reason}" for lbl, v in checks[:2]) if checks else "no principal")


class FlowHost:
    """What every flow group (a mixin of catalogue.Catalogue) may use: the catalogue's state, its helpers, and the
    lookups one group defines for the others. Declared once here so a type checker checks each group on its own
    (an attribute no group defines is an error, not an AttributeError in one stack's flows)."""
    plan: Any
    m: Model
    ck: Checker
    others: dict
    flows: list[Flow]
    primary: str

    def add(self, source, target, action, expected, checks, group=""):
        self.flows.append(Flow(source, target, action, expected, list(checks), group))

    def env(self) -> str:
        return str(self.plan.stack)

    def in_region(self, resources, region):
        return [r for r in resources if self.m.region_of(r) == region]

    if TYPE_CHECKING:  # defined by one group, used by others (services.py, dr.py)
        def role_label(self, role) -> str: ...
        def s3_object_checks(self, role, b, action, kms_actions) -> list: ...
        def primary_db(self, region) -> Any: ...
        def find_secret(self, key, region) -> Any: ...
        def find_queue(self, key, region) -> Any: ...
        def bus(self, region) -> Any: ...
        def dr_service_forbidden(self, rec, who, uses) -> None: ...
