"""Helpers shared by the ec2/secrets/iam_extra/vpc/remediation rule modules (not a rule module: no POLICIES).

`nist()` adds NIST SP 800-53 next to cis()/fsbp() in _lib. A policy carries one framework; the other
packs' ids (checkov, cdk-nag, awsguard) go into its tags so the catalog can cross-reference them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyComplianceFramework
from pulumi_policy.proxy import UnknownValueError, _is_unknown


def nist(ref: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name="NIST SP 800-53", version="Rev. 5", reference=ref)


def is_set(props: Any, key: str) -> bool:
    """True if `key` holds a value, known or not, without reading it.

    Used only where an unknown value cannot be the failing case: e.g. a kmsKeyId that is another
    resource's output in a preview is a reference to a key the program creates, never the literal
    AWS-managed alias (data-source lookups resolve during preview). Everywhere else rules read values
    and let UnknownValueError propagate (the SDK reports "can't run policy during preview")."""
    if not isinstance(props, Mapping) or key not in list(iter(props)):
        return False
    try:
        value = props[key]
    except UnknownValueError:
        return True
    return _is_unknown(value) or value not in (None, "", [], {})


def raw(value: Any) -> Any:
    """Deep copy of proxied props that keeps unknown sentinels as they are (for remediations: the
    engine treats a sentinel in remediated props as the same unknown, so a preview can remediate a
    resource whose other inputs are still unknown)."""
    if isinstance(value, Mapping):
        try:
            target = value["__target"]
        except KeyError:
            target = value
        return {k: raw(dict.__getitem__(target, k) if isinstance(target, dict) else target[k]) for k in target}
    if isinstance(value, Sequence) and not isinstance(value, str):
        try:
            target = value["__target"]  # type: ignore[call-overload]  # the SDK's proxy lists take the key
        except (KeyError, TypeError):
            target = value
        return [raw(target[i]) for i in range(len(target))]
    return value


def is_unknown(props: Any, key: str) -> bool:
    """True if `key` is present and unknown (see is_set for when that may decide a rule)."""
    if not isinstance(props, Mapping) or key not in list(iter(props)):
        return False
    try:
        value = props[key]
    except UnknownValueError:
        return True
    return _is_unknown(value)  # plain dicts (props after an earlier remediation) keep the sentinel
