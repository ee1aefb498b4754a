"""Lint every IAM document of the plan offline with parliament (duo-labs, PyPI 1.6.4).

Why parliament: it is the maintained offline linter that knows the IAM action/resource/condition
catalogue (it finds an action paired with a resource type it does not support, unknown actions,
mismatched condition types). It does not *evaluate* requests, so the flow verdicts come from
plan/flows/iam.py; parliament complements them by catching documents that would be rejected or
silently useless.

How it is used (and why the filters):
- documents are classified: identity (managed, inline, role policies), trust (assumeRolePolicy),
  resource (bucket, queue, topic, secret, repository, bus, vault policies) and key policies;
- trust policies have no Resource element by design: parliament reports MALFORMED ("neither
  Resource nor NotResource") on every one; dropped for trust policies only;
- key and resource policies use `Resource: "*"` to mean "this resource": RESOURCE_STAR dropped there;
- RESOURCE_MISMATCH is re-checked: parliament's ARN matcher does not let a wildcard or a resource id
  contain a colon (foundation-model/anthropic.claude-…-v1:0, log-group:NAME:*), a known false
  positive; a mismatch stands only if no required format matches any resource of the document with
  colon-tolerant matching;
- kms:EncryptionContext:* and kms:ResourceAliases are documented KMS condition keys for the
  cryptographic operations, missing from parliament's catalogue for some actions
  (UNKNOWN_CONDITION_FOR_ACTION), and AWS documents ArnLike on kms:EncryptionContext:aws:logs:arn
  (MISMATCHED_TYPE): dropped for those keys only;
- UNKNOWN_CONDITION_FOR_ACTION is re-checked against the condition keys of the resource types the action acts on:
  parliament looks only at the action's own keys, while AWS also evaluates the resource type's (its own
  iam_definition.json: `iam:PassRole` acts on `role`, whose keys include `iam:ResourceTag/${TagKey}`); the
  finding stands when neither lists the key.
"""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .iam import glob, is_unknown

IDENTITY = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy",
            "aws:iam/userPolicy:UserPolicy": "policy", "aws:iam/groupPolicy:GroupPolicy": "policy"}
RESOURCE = {"aws:s3/bucketPolicy:BucketPolicy": "policy", "aws:sqs/queuePolicy:QueuePolicy": "policy",
            "aws:sns/topicPolicy:TopicPolicy": "policy", "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
            "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy", "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
            "aws:backup/vaultPolicy:VaultPolicy": "policy", "aws:lambda/permission:Permission": None}
KEYS = {"aws:kms/key:Key": "policy", "aws:kms/replicaKey:ReplicaKey": "policy"}
KMS_KEYS = re.compile(r"kms:(EncryptionContext:|ResourceAliases|EncryptionContextKeys)", re.IGNORECASE)


@dataclasses.dataclass
class LintFinding:
    resource: str
    kind: str         # identity | trust | resource | key
    issue: str
    severity: str
    detail: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def documents(plan):
    """(resource name, kind, JSON text) of every IAM document in the plan whose text is known."""
    for r in plan.resources:
        props = r.props
        kind = key = None
        if r.type in IDENTITY:
            kind, key = "identity", IDENTITY[r.type]
        elif RESOURCE.get(r.type):
            kind, key = "resource", RESOURCE[r.type]
        elif r.type in KEYS:
            kind, key = "key", KEYS[r.type]
        if kind and isinstance(props.get(key), str) and not is_unknown(props[key]):
            yield r.name, kind, props[key]
        if r.type == "aws:iam/role:Role":
            if isinstance(props.get("assumeRolePolicy"), str) and not is_unknown(props["assumeRolePolicy"]):
                yield r.name, "trust", props["assumeRolePolicy"]
            for ip in props.get("inlinePolicies") or []:
                if isinstance(ip, dict) and isinstance(ip.get("policy"), str) and not is_unknown(ip["policy"]):
                    yield f"{r.name}/{ip.get('name')}", "identity", ip["policy"]


def _resources(text: str) -> list:
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    st = doc.get("Statement", [])
    st = st if isinstance(st, list) else [st]
    out = []
    for s in st:
        res = s.get("Resource", []) if isinstance(s, dict) else []
        out += res if isinstance(res, list) else [res]
    return [x for x in out if isinstance(x, str)]


def _format_matches(fmt: str, resource: str) -> bool:
    # parliament's required formats use * for each variable part, e.g. arn:*:bedrock:*::foundation-model/*
    if fmt == "*":
        return resource == "*"   # the action supports no resource-level permission
    return glob(fmt, resource) or glob(resource, fmt)


def false_positive(kind: str, finding, text: str) -> bool:
    issue = finding.issue
    detail = finding.detail
    if kind == "trust" and issue == "MALFORMED" and "Resource" in str(detail):
        return True
    if kind in ("key", "resource", "trust") and issue == "RESOURCE_STAR":
        return True
    if issue in ("UNKNOWN_CONDITION_FOR_ACTION", "MISMATCHED_TYPE") and KMS_KEYS.search(str(detail) + str(finding.location)):
        return True
    if issue == "UNKNOWN_CONDITION_FOR_ACTION" and _a_resource_types_key(str(detail)):
        return True
    if issue == "MISMATCHED_TYPE" and kind == "key":
        # the only ArnLike-on-string pattern AWS documents is the key policy condition on the encryption context
        return "EncryptionContext" in text
    if issue == "RESOURCE_MISMATCH" and isinstance(detail, list):
        resources = _resources(text)
        by_action: dict[str, list] = {}
        for item in detail:
            if isinstance(item, dict):
                by_action.setdefault(str(item.get("action")), []).append(item.get("required_format", ""))
        return all(any(_format_matches(fmt, res) for fmt in fmts for res in resources) for fmts in by_action.values())
    return False


UNKNOWN_CONDITION = re.compile(r"Unknown condition (\S+) for action (\S+)")


def _a_resource_types_key(detail: str) -> bool:
    """Whether parliament's "Unknown condition KEY for action ACTION" names a key of a resource type ACTION acts
    on (parliament's own catalogue, iam_definition.json: `${TagKey}` and the like match any text)."""
    found = UNKNOWN_CONDITION.fullmatch(detail.strip())
    if not found:
        return False
    key, action = found.groups()
    from parliament import iam_definition
    prefix, _, name = action.partition(":")
    service = next((s for s in iam_definition if s.get("prefix") == prefix.lower()), None)
    if service is None:
        return False
    privilege = next((p for p in service.get("privileges", []) if p.get("privilege", "").lower() == name.lower()), None)
    if privilege is None:
        return False
    types = {t.get("resource_type", "").rstrip("*") for t in privilege.get("resource_types", [])} - {""}
    templates = [k for r in service.get("resources", []) if r.get("resource") in types
                 for k in r.get("condition_keys", [])]
    patterns = [".+".join(re.escape(part) for part in re.split(r"\$\{[^}]*\}", t)) for t in templates]
    return any(re.fullmatch(p, key, re.IGNORECASE) for p in patterns)


def lint_plan(plan) -> list[LintFinding]:
    try:
        import warnings
        with warnings.catch_warnings():     # parliament 1.6.4 imports pkg_resources (deprecated): not our finding
            warnings.simplefilter("ignore")
            import parliament
    except ImportError:  # pragma: no cover - parliament is pinned in requirements.txt
        return []
    out = []
    for name, kind, text in documents(plan):
        policy = parliament.analyze_policy_string(text)
        for f in policy.findings:
            try:
                f = parliament.enhance_finding(f)
            except Exception:  # noqa: BLE001 - an issue parliament's own config does not know
                pass
            if false_positive(kind, f, text):
                continue
            out.append(LintFinding(name, kind, f.issue, str(getattr(f, "severity", "") or ""), _short(f.detail)))
    return out


def _short(detail: Any) -> str:
    text = detail if isinstance(detail, str) else json.dumps(detail, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
