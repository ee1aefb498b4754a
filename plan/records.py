"""Evaluate the policy pack on hand-written or exported resource records, as one stack.

Record: {"type", "name", "props", "dependencies": [names], "propertyDependencies": {prop: [names]},
optional "parent": name, "protect": bool, "provider": {"type", "props"}}. Names may repeat across types
(the URN includes the type, as in any Pulumi program); a reference to a repeated name is written
"TYPE::NAME" (e.g. "aws:s3/bucket:Bucket::app"). Two records with the same URN are an error. Props use engine (camelCase)
names; the string 04da6b54-80e4-46f7-96ec-b56ff0331ba9 is an unknown value, as during a preview.
Tests use `records_plan` + `analyze` to exercise each rule through the same SDK path as the plan.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .engine import UNKNOWN, Plan, PlanError, Resource

STACK, PROJECT = "records", "records"


def _urn(rtype: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${rtype}" if parent_type else rtype
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def _is_custom(rtype: str) -> bool:
    # Custom resources have module/member tokens (aws:s3/bucket:Bucket); components do not (awsx:ec2:Vpc).
    return "/" in rtype.split(":")[1] if rtype.count(":") == 2 else True


def records_plan(records: Iterable[Mapping[str, Any]], region: str = "us-east-1") -> Plan:
    records = list(records)
    by_name: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping) or not isinstance(rec.get("type"), str) or not isinstance(rec.get("name"), str):
            raise PlanError(f"record {i}: needs string 'type' and 'name'")
        by_name.setdefault(rec["name"], []).append(i)

    def index_of(i: int, ref: Any) -> int:
        """A reference: a name unique among the records, or TYPE::NAME."""
        if not isinstance(ref, str):
            raise PlanError(f"record {i}: reference {ref!r} must be a record name")
        rtype, _, name = ref.rpartition("::") if "::" in ref else ("", "", ref)
        found = [j for j in by_name.get(name, []) if not rtype or records[j]["type"] == rtype]
        if not found:
            raise PlanError(f"record {i}: dependency {ref!r} names no record")
        if len(found) > 1:
            raise PlanError(f"record {i}: {ref!r} names {len(found)} records of different types; "
                            f"write TYPE::NAME (e.g. {records[found[0]]['type']}::{name})")
        return found[0]

    urns: dict[int, str] = {}
    for i, rec in enumerate(records):
        parent = rec.get("parent")
        parent_type = records[index_of(i, parent)]["type"] if parent else None
        urns[i] = _urn(rec["type"], rec["name"], parent_type)
    seen: dict[str, int] = {}
    for i, urn in urns.items():
        if urn in seen:
            raise PlanError(f"record {i}: duplicate of record {seen[urn]} (same type and name {records[i]['name']!r})")
        seen[urn] = i

    def resolve(i: int, ref: str) -> str:
        return urns[index_of(i, ref)]

    resources, providers = [], []
    for i, rec in enumerate(records):
        props = rec.get("props") or {}
        if not isinstance(props, Mapping):
            raise PlanError(f"record {i}: 'props' must be an object")
        provider_urn = ""
        if rec.get("provider"):
            prov = rec["provider"]
            provider_urn = f"urn:pulumi:{STACK}::{PROJECT}::{prov.get('type', 'pulumi:providers:aws')}::{rec['name']}-provider"
            providers.append(Resource(urn=provider_urn, type=prov.get("type", "pulumi:providers:aws"),
                                      name=f"{rec['name']}-provider", parent="", provider="", custom=True,
                                      remote=False, options={}, inputs=dict(prov.get("props") or {}),
                                      dependencies=[], propertyDependencies={}))
        raw_deps, raw_pdeps = rec.get("dependencies") or [], rec.get("propertyDependencies") or {}
        if not isinstance(raw_deps, list) or not isinstance(raw_pdeps, Mapping) \
                or not all(isinstance(v, list) for v in raw_pdeps.values()):
            raise PlanError(f"record {i}: 'dependencies' must be a list of names and 'propertyDependencies' an "
                            f"object of lists of names")
        deps = [resolve(i, d) for d in raw_deps]
        prop_deps = {k: [resolve(i, d) for d in v] for k, v in (rec.get("propertyDependencies") or {}).items()}
        all_deps = list(dict.fromkeys(deps + [u for us in prop_deps.values() for u in us]))
        resources.append(Resource(
            urn=urns[i], type=rec["type"], name=rec["name"],
            parent=resolve(i, rec["parent"]) if rec.get("parent") else "", provider=provider_urn,
            custom=_is_custom(rec["type"]), remote=rec["type"].split(":")[0] in ("awsx", "eks"),
            options={"protect": bool(rec.get("protect", False)), "retainOnDelete": bool(rec.get("retainOnDelete", False)),
                     "ignoreChanges": [], "additionalSecretOutputs": [], "deleteBeforeReplace": None},
            inputs=dict(props), dependencies=all_deps, propertyDependencies=prop_deps))
    return Plan(stack=STACK, project=PROJECT, region=region, preview=True, config={},
                resources=providers + resources, exports={})


def check_records(path: Path, policy_config: str | None, as_json: bool) -> int:
    from .analyze import analyze, load_policy_config
    try:
        records = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PlanError(f"records file {path} not found") from None
    except ValueError as exc:
        raise PlanError(f"records file {path} is not valid JSON ({exc})") from None
    if not isinstance(records, list):
        raise PlanError(f"records file {path}: expected a JSON list of records")
    plan = records_plan(records)
    analysis = analyze(plan, policy_config=load_policy_config(Path(policy_config) if policy_config else None))
    if as_json:
        doc = {"violations": [v.to_json() for v in analysis.violations], "notApplicable": analysis.not_applicable}
        if analysis.errors:
            doc["policyErrors"] = [e.to_json() for e in analysis.errors]
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for v in analysis.violations:
            print(f"[{v.level}] {v.policy} {v.urn.split('::')[-1] if v.urn else '(stack)'}: {v.message.splitlines()[-1]}")
        for e in analysis.errors:
            print(f"[error] {e.policy} {e.urn.split('::')[-1] if e.urn else '(stack)'}: {e.message}")
        print(f"{len(analysis.violations)} violations ({len(analysis.mandatory)} mandatory)")
    return 3 if analysis.errors else 1 if analysis.mandatory else 0


__all__ = ["records_plan", "check_records", "UNKNOWN"]
