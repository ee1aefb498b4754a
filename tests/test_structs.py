"""plan/structs.py: the Struct walkers give exactly what json_format.MessageToDict (and, for the recording monitor,
`downgrade_refs(_number_fix(...))`) gives: same values, same types, same key order, same errors."""
from __future__ import annotations

import json
import math

import pytest
from google.protobuf import json_format, struct_pb2

from conftest import stack_plan
from plan import structs
from plan.engine import UNKNOWN, _number_fix, downgrade_refs, engine_dict
from plan.sdk import RESOURCE_SIG, SECRET_SIG, SECRET_VALUE


def _struct(value: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def _typed(value):
    """The value with its types spelled out and key order kept (dict equality ignores both 1 vs 1.0 and order)."""
    if isinstance(value, dict):
        return ["dict", [(k, _typed(v)) for k, v in value.items()]]
    if isinstance(value, list):
        return ["list", [_typed(v) for v in value]]
    return [type(value).__name__, value]


def _reference(struct: struct_pb2.Struct):
    raw = _number_fix(json_format.MessageToDict(struct))
    plain = downgrade_refs(raw)
    return plain, plain != raw


REF = {SECRET_SIG: RESOURCE_SIG, "urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", "id": "b-123"}
CASES = [
    {},
    {"s": "x", "i": 3, "f": 2.5, "neg": -7, "big": 2 ** 40, "t": True, "fl": False, "n": None, "e": "", "z": 0},
    {"nested": {"list": [1, 2.5, "a", None, True, {"deep": [[], {}]}], "empty": {}}, "b": [[[0.1]]]},
    {"bucket": REF, "list": [REF, {"inner": REF}]},
    {"component": {SECRET_SIG: RESOURCE_SIG, "urn": "urn:pulumi:dev::p::my:c:C::c"}},
    {"unknownId": {SECRET_SIG: RESOURCE_SIG, "urn": "urn:x", "id": ""}},
    {"refWithRefInside": {SECRET_SIG: RESOURCE_SIG, "urn": "urn:x", "id": "i-1", "extra": REF}},
    {"secret": {SECRET_SIG: SECRET_VALUE, "value": {"n": 1, "ref": REF}}, "unknown": UNKNOWN},
    {"notARef": {SECRET_SIG: 5, "urn": "u"}, "z": 1, "a": 2, "m": 3},
]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_walkers_match_message_to_dict(case):
    struct = _struct(case)
    assert _typed(structs.to_dict(struct)) == _typed(json_format.MessageToDict(struct))
    plain, changed = engine_dict(struct)
    want, want_changed = _reference(struct)
    assert _typed(plain) == _typed(want)
    assert changed is want_changed


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_number_raises_as_message_to_dict_does(bad):
    struct = _struct({"a": {"b": [bad]}})
    with pytest.raises(ValueError) as want:
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError) as got:
        structs.to_dict(struct)
    assert str(got.value) == str(want.value)
    with pytest.raises(ValueError):
        engine_dict(struct)


def test_an_unset_value_reads_as_null():
    struct = struct_pb2.Struct()
    struct.fields["unset"].Clear()
    assert structs.to_dict(struct) == json_format.MessageToDict(struct) == {"unset": None}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_walkers_match_on_the_dev_stacks_records(preview):
    """Every record of the dev plan (inputs and outputs, refs re-inserted where the engine downgraded them) goes
    through both paths alike."""
    plan = stack_plan("dev", preview)
    checked = 0
    for r in plan.resources:
        for value in (r.inputs, r.outputs, {"withRef": {**REF, "props": r.inputs}}):
            struct = _struct(json.loads(json.dumps(value)))
            assert _typed(structs.to_dict(struct)) == _typed(json_format.MessageToDict(struct)), r.urn
            plain, changed = engine_dict(struct)
            want, want_changed = _reference(struct)
            assert (_typed(plain), changed) == (_typed(want), want_changed), r.urn
            checked += 1
    assert checked >= 3 * 400
