"""Helpers several rule modules share (not a rule module: registers nothing)."""
from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy.proxy import UnknownValueError

from ._lib import LOAD_BALANCERS, get

AWSX_ALB = "awsx:lb:ApplicationLoadBalancer"

ALL_LOAD_BALANCERS = LOAD_BALANCERS + (AWSX_ALB,)


def present(props, key: str) -> bool:
    """`key` holds a value, known or not, without reading it: for references (ARNs) whose value does
    not decide the outcome, only their presence does. Unknown values count as present."""
    if not isinstance(props, Mapping) or key not in list(iter(props)):
        return False
    try:
        value = props[key]
    except UnknownValueError:  # presence is all this helper decides; value-reading rules never catch this
        return True
    return value not in (None, "", [], {})


def _deps(resource, prop: str) -> set:
    return {d.urn for d in resource.property_dependencies.get(prop, [])}


DOCDB_CLUSTER = "aws:docdb/cluster:Cluster"


def keys(props) -> list:
    """Property names present (iterating keys never reads a value, so it holds under unknowns)."""
    return list(props) if props is not None else []


def supplied_by_urn(resource, prop: str, urn: str) -> bool:
    return any(d.urn == urn for d in resource.property_dependencies.get(prop, []))


KMS_KEY = "aws:kms/key:Key"

KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def _key_configured(resource, prop: str) -> bool:
    """A key is configured: supplied by another resource (a KMS key or alias; unknown in a preview) or a
    non-empty literal (an ARN or alias name from config)."""
    if prop not in keys(resource.props):
        return False
    return bool(resource.property_dependencies.get(prop)) or bool(get(resource.props, prop))


RDS_INSTANCE = "aws:rds/instance:Instance"

RDS_CLUSTER = "aws:rds/cluster:Cluster"

DEFAULT_ENVIRONMENTS = ["prod"]

ENV_SCHEMA = {"type": "array", "items": {"type": "string"}, "default": DEFAULT_ENVIRONMENTS}


def has_key(props, key: str) -> bool:
    """Whether an input is set, without reading its value: an ARN that comes from another resource is
    unknown in a preview of a new stack but is set (iterating keys and the raw target never raise)."""
    if not any(k == key for k in props):
        return False
    try:
        raw = props["__target"][key]  # the proxy's raw dict: an unknown stays a sentinel, not an error
    except (KeyError, TypeError):  # pragma: no cover - not an SDK proxy
        raw = props.get(key)
    return raw is not None and raw != ""


def _environment(resource) -> object:
    """The resource's Environment tag (reading it raises when unknown, as it should)."""
    return get(resource.props, "tags.Environment")


def _in_scope(resource, environments) -> bool:
    return _environment(resource) in environments
