"""Deploy errors: what a first `pulumi up` fails on although every policy passes.

A *deploy error* is a defect the provider or AWS refuses at create time. Two kinds:

- `document`: a JSON-string input the provider hands to an AWS API as it is (an ECS task definition's
  `containerDefinitions`, a Batch job definition's `containerProperties`, ...) that does not match AWS's own API
  model. The model is botocore's (`botocore.loaders` loads the service JSON, `botocore.validate.ParamValidator`
  checks the document against the operation's input member), never a re-typed shape. pulumi-aws decodes these
  documents into the AWS SDK's Go types: a number where a string is expected (an environment value 6379) fails
  every `up`, a key the type does not have is silently dropped (the setting never reaches AWS). Go matches keys
  case-insensitively, so `Environment` is accepted as `environment`, as the provider accepts it.
  Inputs with no API shape (IAM and resource policies: IAM has no botocore shape for the policy grammar; event
  patterns, dashboards, Step Functions definitions, ECR lifecycle policies) are checked as JSON: malformed JSON
  is refused by every API that takes it. Policy grammar is the pack's IAM rules' business.
- `lookup`: an invoke (data source) that a first `pulumi up` cannot answer: what it looks up is neither created
  earlier in the same deployment nor a declared prerequisite (plan/first_up.py, `python -m plan --first-up`).

A value the preview does not know yet (the engine's unknown sentinel) is never judged: `--mode update` knows it.
The loaded shapes are cached per process and on disk (per botocore version, under ~/.cache/ai-platform), so a
plan pays botocore's 0.1-0.4 s model parse once per machine, not once per run.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .values import unwrap_secrets

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown sentinel (pulumi.runtime.rpc.UNKNOWN)

# (type token, input) -> (botocore service, operation, input member): the JSON string is that member's value.
SHAPED: dict[tuple[str, str], tuple[str, str, str]] = {
    ("aws:ecs/taskDefinition:TaskDefinition", "containerDefinitions"): ("ecs", "RegisterTaskDefinition",
                                                                        "containerDefinitions"),
    ("aws:batch/jobDefinition:JobDefinition", "containerProperties"): ("batch", "RegisterJobDefinition",
                                                                       "containerProperties"),
    ("aws:batch/jobDefinition:JobDefinition", "nodeProperties"): ("batch", "RegisterJobDefinition", "nodeProperties"),
    ("aws:batch/jobDefinition:JobDefinition", "ecsProperties"): ("batch", "RegisterJobDefinition", "ecsProperties"),
}

# JSON-string inputs with no API shape of their own: they must at least be JSON (of this kind: object or array).
_POLICY = "policy"
JSON_ONLY: dict[tuple[str, str], type] = {
    **{(token, key): dict for token, key in (
        ("aws:iam/role:Role", "assumeRolePolicy"), ("aws:iam/policy:Policy", _POLICY),
        ("aws:iam/rolePolicy:RolePolicy", _POLICY), ("aws:iam/userPolicy:UserPolicy", _POLICY),
        ("aws:iam/groupPolicy:GroupPolicy", _POLICY), ("aws:s3/bucketPolicy:BucketPolicy", _POLICY),
        ("aws:sqs/queuePolicy:QueuePolicy", _POLICY), ("aws:sqs/queue:Queue", _POLICY),
        ("aws:sqs/queue:Queue", "redrivePolicy"), ("aws:sqs/queue:Queue", "redriveAllowPolicy"),
        ("aws:sns/topicPolicy:TopicPolicy", _POLICY), ("aws:sns/topic:Topic", _POLICY),
        ("aws:sns/topic:Topic", "deliveryPolicy"), ("aws:sns/topicSubscription:TopicSubscription", "redrivePolicy"),
        ("aws:sns/topicSubscription:TopicSubscription", "filterPolicy"),
        ("aws:kms/key:Key", _POLICY), ("aws:ecr/repositoryPolicy:RepositoryPolicy", _POLICY),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", _POLICY), ("aws:ecr/registryPolicy:RegistryPolicy", _POLICY),
        ("aws:secretsmanager/secretPolicy:SecretPolicy", _POLICY), ("aws:secretsmanager/secret:Secret", _POLICY),
        ("aws:backup/vaultPolicy:VaultPolicy", _POLICY), ("aws:efs/fileSystemPolicy:FileSystemPolicy", _POLICY),
        ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", _POLICY),
        ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"),
        ("aws:cloudwatch/eventRule:EventRule", "eventPattern"), ("aws:cloudwatch/dashboard:Dashboard", "dashboardBody"),
        ("aws:sfn/stateMachine:StateMachine", "definition"), ("aws:opensearch/domain:Domain", "accessPolicies"),
        ("aws:cfg/rule:Rule", "inputParameters"), ("aws:cloudwatch/eventTarget:EventTarget", "input"),
    )},
}


@dataclasses.dataclass(frozen=True)
class DeployError:
    kind: str          # "document" | "lookup"
    urn: str           # the resource (document) or the resource whose input needs the lookup ("" if unknown)
    path: str          # input.json.path (document), the invoke token (lookup)
    value: Any
    expected: str
    message: str
    label: str = ""    # "<parent name>/<name>": the DR region's copies have the same names as the primary's
    api: str = ""      # the API model the document was validated against ("ecs RegisterTaskDefinition")

    @property
    def where(self) -> str:
        return self.label or (self.urn.split("::")[-1] if self.urn else "(program)")

    def line(self) -> str:
        if self.kind == "lookup":
            args = ", ".join(f"{k}={v}" for k, v in (self.value or {}).items() if k != "registryId")
            return f"[deploy] {self.where} ({args}): {self.message}"
        return f"[deploy] {self.where} {self.path}: {self.message}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "urn": self.urn or None, "resource": self.where, "path": self.path,
                "value": self.value,
                "expected": self.expected, "message": self.message, "api": self.api or None}


# ---------------------------------------------------------------------------------------------- API models
def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-platform" / "botocore-shapes"


def _reachable(shapes: Mapping, root: str) -> dict:
    out: dict = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        model = out[name] = {k: v for k, v in shapes[name].items() if k != "documentation"}
        for ref in [*(model.get("members") or {}).values(), model.get("member"), model.get("key"),
                    model.get("value")]:
            if isinstance(ref, dict) and "shape" in ref:
                todo.append(ref["shape"])
    return out


def _load_subgraph(service: str, operation: str, member: str) -> tuple[str, dict]:
    """(root shape name, the shapes reachable from it) of an operation's input member, from botocore's model."""
    import botocore
    key = f"{botocore.__version__}/{service}.{operation}.{member}.json"
    path = _cache_dir() / key
    try:
        cached = json.loads(path.read_text())
        return cached["root"], cached["shapes"]
    except (OSError, ValueError, KeyError):
        pass
    import botocore.loaders
    model = botocore.loaders.create_loader().load_service_model(service, "service-2")
    shapes = model["shapes"]
    input_shape = model["operations"][operation]["input"]["shape"]
    root = shapes[input_shape]["members"][member]["shape"]
    sub = _reachable(shapes, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump({"root": root, "shapes": sub}, f)
        os.replace(f.name, path)
    except OSError:
        pass          # a read-only home: the model is parsed again next run, nothing else changes
    return root, sub


@functools.cache
def api_shape(service: str, operation: str, member: str):
    """The botocore Shape of `operation`'s input `member` (cached per process and on disk)."""
    import botocore.model
    root, shapes = _load_subgraph(service, operation, member)
    return botocore.model.ShapeResolver(shapes).get_shape_by_name(root)


# ---------------------------------------------------------------------------------------------- documents
def _go_keys(value: Any, shape) -> Any:
    """Keys renamed to the shape's member names where they match case-insensitively (Go's encoding/json does)."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        lower = {k.lower(): k for k in members}
        out = {}
        for k, v in value.items():
            name = k if k in members else lower.get(str(k).lower(), k)
            out[name] = _go_keys(v, members[name]) if name in members else v
        return out
    if kind == "list" and isinstance(value, list):
        return [_go_keys(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _go_keys(v, shape.value) for k, v in value.items()}
    return value


_TYPE_NAMES = {"str": "string", "int": "integer", "bool": "boolean", "float": "number", "list": "array",
               "tuple": "array", "dict": "object", "Decimal": "number", "bytes": "bytes", "bytearray": "bytes",
               "datetime.datetime": "timestamp", "datetime": "timestamp"}


def _type_name(text: str) -> str:
    name = text.removeprefix("<class '").removesuffix("'>")
    return _TYPE_NAMES.get(name, name)


def _value_text(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return UNKNOWN in value
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    return False


def validate_document(document: Any, service: str, operation: str, member: str) -> list[tuple[str, Any, str]]:
    """[(json path, value, expected)] where `document` does not match AWS's model of `operation`'s `member`.
    Kept on disk per (botocore version and install, this module's source, operation, document) (plan/diskcache.py):
    a plan whose documents were validated before imports neither botocore's model nor its validator."""
    import botocore

    from .diskcache import cached, library_stamp, source_stamp
    key = [botocore.__version__, library_stamp("botocore"), source_stamp(__file__), service, operation, member,
           document]
    found = cached("botocore-documents", key,
                   lambda: [list(e) for e in _validate_document(document, service, operation, member)])
    return [tuple(e) for e in found]  # (path, value, expected) as computed


def _validate_document(document: Any, service: str, operation: str, member: str) -> list[tuple[str, Any, str]]:
    from botocore.validate import ParamValidator
    shape = api_shape(service, operation, member)
    document = _go_keys(document, shape)
    report = ParamValidator().validate(document, shape)
    out = []
    for reason, name, details in report._errors:   # botocore's own (reason, path, details) records
        path = name or ""
        if reason == "invalid type":
            value = details.get("param")
            if _contains_unknown(value):
                continue
            expected = " or ".join(dict.fromkeys(_type_name(t) for t in details.get("valid_types", [])))
            out.append((path, value, expected))
        elif reason == "missing required field":
            out.append((f"{path}.{details.get('required_name')}".lstrip("."), None, "required"))
        elif reason == "unknown field":
            out.append((f"{path}.{details.get('unknown_param')}".lstrip("."), "(unknown key)",
                        "one of " + ", ".join(details.get("valid_names", [])[:8]) + ", ..."))
        elif reason in ("invalid range", "invalid length"):
            value = details.get("param")
            if _contains_unknown(value):
                continue
            out.append((path, value, f"at least {details.get('min_allowed')}"))
        else:
            out.append((path, details.get("param"), reason))
    return out


def _json_path(key: str, path: str) -> str:
    path = path.lstrip(".")
    if not path:
        return key
    return f"{key}{path}" if path.startswith("[") else f"{key}.{path}"


def document_errors(resources: Iterable) -> list[DeployError]:
    """Every shaped or JSON-only document input of `resources` (plan records) that AWS or the provider refuses."""
    errors: list[DeployError] = []
    resources = list(resources)
    names = {r.urn: r.name for r in resources}
    for r in resources:
        for (token, key), target in SHAPED.items():
            if r.type != token:
                continue
            raw = _plain(r.inputs.get(key))
            if not isinstance(raw, str) or raw == UNKNOWN:
                continue
            document = _parsed(r, key, raw, names, errors)
            if document is _MALFORMED:
                continue
            for path, value, expected in validate_document(document, *target):
                if value is None:
                    msg = "missing, required"
                elif value == "(unknown key)":
                    msg = f"not a key of the API's type: the provider drops it ({expected})"
                else:
                    got = _type_name(type(value).__name__)
                    msg = f"{_value_text(value)} is {_article(got)}, expected {expected}"
                errors.append(DeployError("document", r.urn, _json_path(key, path), value, expected, msg,
                                          _label(r, names), f"{target[0]} {target[1]}"))
        for (token, key), kind in JSON_ONLY.items():
            if r.type != token:
                continue
            raw = _plain(r.inputs.get(key))
            if not isinstance(raw, str) or not raw or UNKNOWN in raw:
                continue
            document = _parsed(r, key, raw, names, errors)
            if document is _MALFORMED:
                continue
            if not isinstance(document, kind):
                errors.append(DeployError("document", r.urn, key, document, "a JSON object",
                                          f"{_value_text(document)} is not a JSON object", _label(r, names)))
    return sorted(errors, key=lambda e: (e.where, e.path))


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[:1] in "aeiou" else f"a {type_name}"


def _label(r, names: Mapping[str, str]) -> str:
    parent = names.get(r.parent)
    return f"{parent}/{r.name}" if parent else r.name


def _malformed(r, key: str, raw: str, exc: Exception, names: Mapping[str, str]) -> DeployError:
    return DeployError("document", r.urn, key, raw[:60], "JSON",
                       f"not valid JSON ({str(exc).splitlines()[0]}): the API refuses it", _label(r, names))


_MALFORMED = object()


def _parsed(r, key: str, raw: str, names: Mapping[str, str], errors: list) -> Any:
    """The JSON document, or _MALFORMED with its deploy error appended (the API refuses text that is not JSON)."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        errors.append(_malformed(r, key, raw, exc, names))
        return _MALFORMED


def _plain(value: Any) -> Any:
    """An input as the provider receives it: a secret's plaintext."""
    return unwrap_secrets(value)


def _clip(line: str, width: int = 120) -> str:
    """Text output fits 120 columns (as plan/report.py's own lines)."""
    return line if len(line) <= width else line[:width - 1] + "…"


def text(errors: list[DeployError]) -> list[str]:
    """The text section of deploy errors (empty when there is none)."""
    if not errors:
        return []
    lines = [f"deploy errors: {len(errors)} (a first `pulumi up` fails on each; exit 1)"]
    lines += [_clip("  " + e.line()) for e in errors]
    return lines
