"""protobuf `Struct` -> plain Python, without `json_format`'s generic printer.

`json_format.MessageToDict` walks a `Struct` through the descriptor machinery for every value (a field lookup,
a `methodcaller`, the JSON name rules); the recording monitor converts every registration's inputs and outputs
(~2,300 Structs, ~90,000 values in a prod plan) and the policy evaluation every resource's properties twice.
These walkers read the `Value` oneof directly and give exactly what `MessageToDict` gives (same keys, same key
order, floats stay floats, an infinite or NaN number raises the same `ValueError`); tests/test_structs.py
compares them with `MessageToDict` on the stacks' own records. docs/performance.md, "Sixth pass".
"""
from __future__ import annotations

import math
from typing import Any

from google.protobuf import json_format, struct_pb2

# A leaf module (plan/sdk.py imports it): the SDK's signatures come from the caller (plan/engine.py).

_STRING, _NUMBER, _BOOL, _STRUCT, _LIST = "string_value", "number_value", "bool_value", "struct_value", "list_value"


def _number(value: struct_pb2.Value) -> float:
    n = value.number_value
    if math.isinf(n) or math.isnan(n):
        json_format.MessageToDict(value)   # raises the printer's own ValueError
    return n


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == _STRING:
        return value.string_value
    if kind == _NUMBER:
        return _number(value)
    if kind == _STRUCT:
        return to_dict(value.struct_value)
    if kind == _LIST:
        return [_value(v) for v in value.list_value.values]
    if kind == _BOOL:
        return value.bool_value
    return None     # null_value, or a Value never set (MessageToDict treats it as null)


def to_dict(struct: struct_pb2.Struct) -> dict:
    """`json_format.MessageToDict(struct)` for a `google.protobuf.Struct`."""
    fields = struct.fields
    return {key: _value(fields[key]) for key in fields}


# ---- what the recording monitor keeps: integers back (protobuf numbers are doubles), resource references
# downgraded to what a provider receives (plan/engine.py `_number_fix`, `downgrade_refs`), in one walk.

def _fixed(value: struct_pb2.Value, refs: list | None, sigs: tuple) -> Any:
    """`refs`: None inside a reference (kept whole, as `downgrade_refs` keeps it), else where downgrades are noted.
    `sigs`: (the SDK's signature key, its resource-reference signature, the unknown sentinel)."""
    kind = value.WhichOneof("kind")
    if kind == _STRING:
        return value.string_value
    if kind == _NUMBER:
        n = _number(value)
        return int(n) if n.is_integer() else n
    if kind == _STRUCT:
        return _fixed_struct(value.struct_value, refs, sigs)
    if kind == _LIST:
        return [_fixed(v, refs, sigs) for v in value.list_value.values]
    if kind == _BOOL:
        return value.bool_value
    return None


def _fixed_struct(struct: struct_pb2.Struct, refs: list | None, sigs: tuple) -> Any:
    fields = struct.fields
    sig_key, resource_sig, unknown = sigs
    if refs is not None and sig_key in fields:
        sig = fields[sig_key]
        if sig.WhichOneof("kind") == _STRING and sig.string_value == resource_sig:
            # A resource reference: a custom resource's id (unknown while it has none), a component's URN.
            refs.append(True)
            ref = _fixed_struct(struct, None, sigs)
            if "id" in ref:
                return ref["id"] or unknown
            return ref.get("urn", unknown)
    return {key: _fixed(fields[key], refs, sigs) for key in fields}


def engine_dict(struct: struct_pb2.Struct, sig_key: str, resource_sig: str, unknown: str) -> tuple[dict, bool]:
    """(`downgrade_refs(_number_fix(MessageToDict(struct)))`, whether a resource reference was downgraded), given
    the SDK's signature key, resource-reference signature and unknown sentinel."""
    refs: list = []
    return _fixed_struct(struct, refs, (sig_key, resource_sig, unknown)), bool(refs)
