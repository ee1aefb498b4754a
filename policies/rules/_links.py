"""Helpers for deployability rules (constraints AWS documents *between* resources, issue 24): find the resource
another one names, by the property dependency the program wired (holds in a preview, where ids are unknown)
or by a literal name/ARN the program typed."""
from __future__ import annotations

from ._compliance import is_unknown
from ._lib import depends_on, get

NAME_KEYS = ("identifier", "name", "bucket", "arn")


def linked(resources, resource, prop: str, types, *, keys=NAME_KEYS) -> list:
    """The resources of `types` that `resource`'s input `prop` was wired from (property dependencies), else the
    ones whose explicit name/identifier equals the literal value (a name, or the last field of an ARN)."""
    cands = [r for r in resources if r.resource_type in types and r is not resource]
    hits = [r for r in cands if depends_on(resource, r, prop)]
    if hits or is_unknown(resource.props, prop):
        return hits
    value = get(resource.props, prop)
    if not isinstance(value, str) or not value:
        return []
    tail = value.rsplit(":", 1)[-1]
    out = []
    for r in cands:
        for k in keys:
            if is_unknown(r.props, k):
                continue
            v = get(r.props, k)
            if isinstance(v, str) and v and v in (value, tail):
                out.append(r)
                break
    return out


def arn_region(value) -> str | None:
    """The region field of a known ARN string (None for anything else)."""
    if isinstance(value, str) and value.startswith("arn:") and value.count(":") >= 5:
        return value.split(":")[3] or None
    return None


def provider_region(resource) -> str | None:
    """The region of the resource's explicit provider, when it names one."""
    prov = getattr(resource, "provider", None)
    props = getattr(prov, "props", None) if prov is not None else None
    if props is None or is_unknown(props, "region"):
        return None
    value = get(props, "region")
    return value if isinstance(value, str) else None
