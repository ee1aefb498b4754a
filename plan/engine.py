"""Run the Pulumi program under the mock runtime and record what the engine would see.

Every `RegisterResource` request is recorded with the fields a real engine passes to analyzers:
type, name, URN, parent, provider, options, inputs (engine camelCase, unknowns as the engine's
sentinel), dependencies and property dependencies. See plan/mocks.py for the two output modes.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import runpy
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format

from .errors import ROOT, PlanError
from .mocks import PlatformMocks
from .remote import BUILDERS, Child, Registrar
from .sdk import (  # private SDK symbols
    SETTINGS,
    _sync_await,
    acyclic_unknown_checks,
    linear_quiescence,
    no_source_positions,
    pmocks,
    register_resource,
    rpc,
    run_pulumi_func,
    set_all_config,
    set_root_resource,
)
from .stackfile import load_project, load_stack_config, stack_file_path
from .structs import engine_dict as _engine_dict
from .values import is_secret, redact_secrets, unwrap_secrets  # noqa: F401  (re-exported)

UNKNOWN = rpc.UNKNOWN
from .sdk import RESOURCE_SIG, SECRET_SIG, SECRET_VALUE  # noqa: E402, F401  (SECRET_VALUE re-exported: tests)


def engine_dict(struct) -> tuple[dict, bool]:
    """plan/structs.py `engine_dict` with this SDK's signatures: (the record's dict, whether a reference was
    downgraded)."""
    return _engine_dict(struct, SECRET_SIG, RESOURCE_SIG, UNKNOWN)

PROJECT = "ai-platform"


@dataclasses.dataclass
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    custom: bool
    remote: bool
    options: dict
    inputs: dict          # engine form: camelCase, UNKNOWN sentinels, secrets wrapped
    dependencies: list
    propertyDependencies: dict
    id: str = ""
    outputs: dict = dataclasses.field(default_factory=dict)

    @property
    def props(self) -> dict:
        """Inputs with secrets unwrapped (what an analyzer sees)."""
        return unwrap_secrets(self.inputs)

    def to_json(self) -> dict:
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent or None,
                "provider": self.provider or None, "options": self.options, "inputs": redact_secrets(self.inputs),
                "dependencies": self.dependencies, "propertyDependencies": self.propertyDependencies}


@dataclasses.dataclass
class Plan:
    stack: str
    project: str
    region: str
    preview: bool
    config: dict
    resources: list[Resource]
    exports: dict
    # Every invoke (data source) the program made: {"token", "args"} with the args as the provider receives them
    # (wire names), in the runtime's order. What a real preview asks the provider to look up, and with what.
    invokes: list = dataclasses.field(default_factory=list)
    # What a first `pulumi up` fails on (plan/deploy_errors.py): documents AWS's API model refuses, and (with
    # `first_up`) lookups of things that do not exist yet. Exit 1 like a mandatory violation.
    deploy_errors: list = dataclasses.field(default_factory=list)
    first_up: bool = False       # run as a first `pulumi up` in an empty account (plan/first_up.py)

    def of_type(self, *tokens: str) -> list[Resource]:
        return [r for r in self.resources if r.type in tokens]

    def named(self, name: str, token: str | None = None) -> Resource:
        found = [r for r in self.resources if r.name == name and (token is None or r.type == token)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} of type {token!r}")
        return found[0]

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def children_of(self, urn: str) -> list[Resource]:
        return [r for r in self.resources if r.parent == urn]


def _number_fix(value: Any) -> Any:
    """protobuf Struct has only doubles: give integers back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number_fix(v) for v in value]
    if isinstance(value, dict):
        return {k: _number_fix(v) for k, v in value.items()}
    return value


def downgrade_refs(value: Any) -> Any:
    """Resource references as the engine hands them to analyzers (KeepResources off): a custom
    resource's id (unknown while it has none), a component's URN."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == RESOURCE_SIG:
        if "id" in value:
            return value["id"] or UNKNOWN
        return value.get("urn", UNKNOWN)
    if isinstance(value, list):
        return [downgrade_refs(v) for v in value]
    if isinstance(value, dict):
        return {k: downgrade_refs(v) for k, v in value.items()}
    return value


def _without_refs(request, field: str, raw: Any, plain: Any):
    """`request` with its `field` Struct free of resource references (`plain`, the downgraded `raw`); the request
    itself when it held none (almost always: no copy)."""
    if plain == raw:
        return request
    return _with_plain(request, field, plain)


def _with_plain(request, field: str, plain: Any):
    """A copy of `request` whose `field` Struct is `plain`."""
    from google.protobuf import struct_pb2
    copy = type(request)()
    copy.CopyFrom(request)
    struct = struct_pb2.Struct()
    struct.update(plain)
    getattr(copy, field).CopyFrom(struct)
    return copy


def _provider_urn(ref: str) -> str:
    return ref.split("::" + ref.split("::")[-1])[0] if ref else ""


class RecordingMonitor(pmocks.MockMonitor):
    """The SDK's MockMonitor, plus a record of each registration as the engine receives it."""

    def __init__(self, mocks: PlatformMocks, remote_children: bool = False):
        super().__init__(mocks)
        self.records: list[Resource] = []
        self.remote_children = remote_children
        self.workdir = os.getcwd()

    # The SDK's MockMonitor deserializes a request's properties on the thread-pool worker that runs the RPC, and a
    # resource reference among them (`RolePolicyAttachment(role=role)`, `Subnet(vpc_id=vpc)`) is rehydrated there:
    # a new Resource whose outputs are futures of that worker's own event loop, which the main loop then awaits
    # ("Task ... got Future ... attached to a different loop", pulumi/pulumi#6561) - a race lost 5-7 runs in 10.
    # The references are downgraded before the SDK sees them, to what a provider receives (a custom resource's id,
    # a component's URN): no Resource is ever constructed off the main loop, so there is no race to lose.
    def RegisterResource(self, request):
        if self.remote_children and request.remote and request.type in BUILDERS:
            return self._register_remote(request)
        if request.type == "pulumi:pulumi:Stack":
            return register_resource(self, request)
        inputs, had_refs = engine_dict(request.object)
        response = register_resource(self, _with_plain(request, "object", inputs) if had_refs else request)
        options = {
            "protect": bool(request.protect),
            "retainOnDelete": bool(request.retainOnDelete),
            "deleteBeforeReplace": bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None,
            "ignoreChanges": list(request.ignoreChanges),
            "additionalSecretOutputs": list(request.additionalSecretOutputs),
            "customTimeouts": ({"create": request.customTimeouts.create, "update": request.customTimeouts.update,
                                "delete": request.customTimeouts.delete}
                               if request.HasField("customTimeouts") else None),
            "dependsOn": [],
        }
        prop_deps = {k: list(v.urns) for k, v in request.propertyDependencies.items()}
        deps = list(request.dependencies)
        explicit = set(deps) - {u for urns in prop_deps.values() for u in urns}
        options["dependsOn"] = sorted(explicit)
        outputs = engine_dict(response.object)[0] if response.object else {}
        self.records.append(Resource(
            urn=response.urn, type=request.type, name=request.name, parent=request.parent,
            provider=_provider_urn(request.provider), custom=bool(request.custom), remote=bool(request.remote),
            options=options, inputs=inputs, dependencies=deps, propertyDependencies=prop_deps,
            id=response.id, outputs=outputs))
        return response

    def _register_remote(self, request):
        """A remote component: record it, then the children its provider would create (plan/remote.py)."""
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import resource_pb2
        urn = self.make_urn(request.parent, request.type, request.name)
        raw = _number_fix(json_format.MessageToDict(request.object))
        inputs = downgrade_refs(raw)
        prop_deps = {k: list(v.urns) for k, v in request.propertyDependencies.items()}
        deps = list(request.dependencies)
        record = Resource(
            urn=urn, type=request.type, name=request.name, parent=request.parent,
            provider=_provider_urn(request.provider), custom=False, remote=True,
            options={"protect": bool(request.protect), "retainOnDelete": bool(request.retainOnDelete),
                     "deleteBeforeReplace": None, "ignoreChanges": list(request.ignoreChanges),
                     "additionalSecretOutputs": list(request.additionalSecretOutputs), "customTimeouts": None,
                     "dependsOn": sorted(set(deps) - {u for us in prop_deps.values() for u in us})},
            inputs=inputs, dependencies=deps, propertyDependencies=prop_deps)
        self.records.append(record)
        mocks: Any = self.mocks   # our Mocks subclass (region, preview)
        stack, project = pulumi.get_stack(), pulumi.get_project()
        registrar = Registrar(child=self._child, lookup=lambda u: getattr(self.resources.get(u), "state", None),
                              region=mocks.region, stack=stack, preview=mocks.preview,
                              root=f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}",
                              workdir=self.workdir)
        outputs = BUILDERS[request.type](registrar, request.name, urn, unwrap_secrets(raw))
        outputs = {k: v for k, v in outputs.items() if not k.startswith("_")}
        record.outputs = downgrade_refs(outputs)
        self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, "", outputs)
        struct = struct_pb2.Struct()
        struct.update(outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=struct)

    def _child(self, token: str, name: str, parent: str, inputs: dict, prop_deps: dict | None = None,
               component: bool = False, autoname: bool = False) -> Child:
        """Register one child of a remote component as the engine would receive it."""
        urn = self.make_urn(parent, token, name)
        inputs = {k: v for k, v in inputs.items() if v is not None}
        if autoname and "name" not in inputs:
            # The provider's Check assigns the autoname, so it is known even in a preview.
            import hashlib
            inputs["name"] = f"{name}-{hashlib.sha256(urn.encode()).hexdigest()[:7]}"
        state: dict
        if component:
            id_, state = "", {}
        else:
            new_id, state = self.mocks.new_resource(pmocks.MockResourceArgs(
                typ=token, name=name, inputs=dict(inputs), provider="", resource_id="", custom=True))
            id_ = new_id or ""  # our Mocks always give one; the SDK's signature allows None
        prop_deps = {k: list(v) for k, v in (prop_deps or {}).items()}
        deps = sorted({u for us in prop_deps.values() for u in us})
        self.records.append(Resource(
            urn=urn, type=token, name=name, parent=parent, provider="", custom=not component, remote=False,
            options={"protect": False, "retainOnDelete": False, "deleteBeforeReplace": None, "ignoreChanges": [],
                     "additionalSecretOutputs": [], "customTimeouts": None, "dependsOn": []},
            inputs=downgrade_refs(_number_fix(inputs)), dependencies=deps, propertyDependencies=prop_deps, id=id_,
            outputs=downgrade_refs({k: v for k, v in state.items() if k not in inputs})))
        self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return Child(urn, id_, state)

    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        raw = json_format.MessageToDict(request.args)
        return super().Invoke(_without_refs(request, "args", raw, downgrade_refs(raw)))

    def ReadResource(self, request):
        raw = json_format.MessageToDict(request.properties)
        return super().ReadResource(_without_refs(request, "properties", raw, downgrade_refs(raw)))

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[-2].endswith("pulumi:pulumi:Stack"):
            self.exports = _number_fix(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


class _ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _config_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """Config as the CLI hands it to a program: strings, objects JSON-encoded."""
    out = {}
    for key, value in config.items():
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


STACK_REFERENCES_KEY = "plan:stackReferences"


def stack_references(config: Mapping[str, Any], given: Mapping[str, Any] | None = None,
                     source: str = STACK_REFERENCES_KEY) -> dict:
    """Other stacks' outputs for the program's StackReferences: the stack file's `plan:stackReferences` object,
    then `given` (a --stack-references file) over it. Shape: {"org/project/stack": {"output": value, ...}}."""
    merged: dict = {}
    for where, value in ((STACK_REFERENCES_KEY, config.get(STACK_REFERENCES_KEY)), (source, given)):
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise PlanError(f"{where}: expected a mapping of stack name to its outputs "
                            f"({{org/project/stack: {{output: value}}}})")
        merged.update(value)
    return merged


def _missing_reference(mocks: PlatformMocks) -> PlanError | None:
    if not mocks.missing_references:
        return None
    name = mocks.missing_references[0]
    return PlanError(f"StackReference {name!r}: its outputs are not given (give them in a --stack-references "
                     f"FILE, or in the stack file as config {STACK_REFERENCES_KEY}: {{{name}: {{OUTPUT: VALUE}}}})")


def run_program(program: Callable[[], Any], *, config: Mapping[str, Any], stack: str = "dev",
                project: str = PROJECT, preview: bool = False, secret_keys: Iterable[str] = (),
                remote_children: bool = False, references: Mapping[str, Any] | None = None,
                references_source: str = STACK_REFERENCES_KEY, first_up: bool = False) -> Plan:
    """Run `program` under the mock runtime with `config` (full keys such as 'ai-platform:network').

    `remote_children`: model the children of remote components (awsx, pulumi-eks) as their providers
    create them (plan/remote.py), so policies judge them as in a real preview. On for `--program`.
    `references`: other stacks' outputs for StackReferences (see `stack_references`); a reference to a stack
    not given is a PlanError naming it.
    `first_up`: a first `pulumi up` in an empty account (update mode; plan/first_up.py): lookups of what neither
    the deployment created earlier nor AWS provides fail as the provider's do, and are deploy errors.
    """
    region = str(config.get("aws:region", "us-east-1"))
    references = stack_references(config, references, references_source)
    if first_up:
        from .first_up import FirstUpMocks
        preview = False
        from .first_up import prerequisites
        mocks: PlatformMocks = FirstUpMocks(region=region, stack_references=references,
                                            declared=prerequisites(config))
    else:
        mocks = PlatformMocks(region=region, preview=preview, stack_references=references)
    monitor = RecordingMonitor(mocks, remote_children=remote_children)
    monitor.workdir = str(getattr(program, "workdir", os.getcwd()))
    monitor.exports = {}
    errors = _ErrorLog()
    logger = logging.getLogger(f"plan.{stack}")
    logger.handlers[:] = [errors]
    logger.propagate = False

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    # A fresh root stack for this run: set_mocks only creates one when there is none, so a second run in the same
    # process (the tests, --dr-modes, --flows without a fork) kept the first run's stack (its URN, so the parent of
    # every top-level resource named the first run's stack) and its outputs (the first run's exports).
    set_root_resource(None)  # type: ignore[arg-type]  # the SDK resets the root with None
    set_all_config(_config_strings(config), list(secret_keys))
    pmocks.set_mocks(mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)
    from .sdk import get_root_resource

    def body():
        program()

    try:
        with no_source_positions(), linear_quiescence(), acyclic_unknown_checks():
            _sync_await(run_pulumi_func(body))
        root = get_root_resource()
        if root is not None:
            # pulumi.export() values are registered when the stack finishes: collect them ourselves.
            outputs = getattr(root, "outputs", {}) or {}
            monitor.exports = _resolve_exports(outputs, preview)
    except Exception as exc:  # noqa: BLE001 - reported as one line by the CLI
        # A lookup the first-up mocks refused fails the program as it fails `pulumi up`: the refusals are the
        # report (deploy errors), not a program error.
        if not getattr(mocks, "errors", None):
            if isinstance(exc, pulumi.RunError):
                raise (_missing_reference(mocks) or PlanError(str(exc))) from exc
            raise (_missing_reference(mocks) or PlanError(f"program error: {type(exc).__name__}: {exc}")) from exc
    missing = _missing_reference(mocks)
    if missing is not None:
        raise missing
    if errors.messages and not getattr(mocks, "errors", None):
        raise PlanError(f"program error: {errors.messages[0].splitlines()[0]}")
    plan = Plan(stack=stack, project=project, region=region, preview=preview, config=dict(config),
                resources=monitor.records, exports=monitor.exports,
                invokes=[{**i, "args": _number_fix(i["args"])} for i in mocks.invokes])
    from .deploy_errors import document_errors
    plan.deploy_errors = [*getattr(mocks, "errors", []), *document_errors(plan.resources)]
    plan.first_up = first_up
    return plan


def _resolve_exports(outputs: Mapping[str, Any], preview: bool) -> dict:
    result = {}
    for key, value in outputs.items():
        out = pulumi.Output.from_input(value)
        known = _sync_await(out.is_known())
        secret = _sync_await(out.is_secret())
        val = _sync_await(out.future()) if known else UNKNOWN
        result[key] = {"secret": True} if secret else _number_fix(_plain(val))
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def main_program(root: Path = ROOT, after: Callable[[dict], None] | None = None) -> Callable[[], None]:
    """The project's __main__.py as a callable, run as `pulumi up` runs it (cwd = project dir). `after` is called
    with the program's globals once it has run (the tests export a tier's published outputs from it)."""
    path = root / "__main__.py"

    def program():
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        cwd = os.getcwd()
        os.chdir(root)
        try:
            names = runpy.run_path(str(path), run_name="__main__")
            if after is not None:
                after(names)
        finally:
            os.chdir(cwd)

    return program


def program_entry(directory: Path, project: Mapping[str, Any]) -> tuple[Path, Path]:
    """(working directory, entry file) of a Pulumi Python program, as the CLI's Python host finds them:
    Pulumi.yaml `main:` (a directory holding __main__.py, or a file), else DIR/__main__.py."""
    main = project.get("main")
    base = (directory / str(main)).resolve() if main else directory
    entry = base / "__main__.py" if base.is_dir() else base
    if not entry.is_file():
        raise PlanError(f"{entry}: the program has no entry point (__main__.py)")
    return (base if base.is_dir() else base.parent), entry


def directory_program(directory: Path, project: Mapping[str, Any]) -> Callable[[], None]:
    """Any Pulumi Python program as a callable, run like the CLI runs it: cwd and sys.path[0] = its
    directory, run as __main__. See `forget_local_modules` for what happens after."""
    workdir, entry = program_entry(Path(directory).resolve(), project)

    def program():
        if str(workdir) not in sys.path:
            sys.path.insert(0, str(workdir))
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            runpy.run_path(str(entry), run_name="__main__")
        finally:
            os.chdir(cwd)

    program.workdir = workdir  # type: ignore[attr-defined]
    return program


def forget_local_modules(workdir: Path, before: set) -> None:
    """Drop the program's own modules (a `config.py`, a `components/`) once its run has finished (its
    registrations complete after the program body returns, and need them), so the next program's
    same-named modules are not shadowed. Installed packages stay, even in a venv inside the directory."""
    if str(workdir) in sys.path and str(workdir) != str(ROOT):
        sys.path.remove(str(workdir))
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules.get(name), "__file__", None) or ""
        if origin.startswith(str(workdir) + os.sep) and "site-packages" not in origin:
            del sys.modules[name]


def load_references(path: Path) -> dict:
    """A --stack-references file (JSON or YAML): {"org/project/stack": {"output": value}}; bad is one line."""
    import yaml
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PlanError(f"{path}: stack references file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"{path}: not valid JSON or YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise PlanError(f"{path}: expected a mapping of stack name to its outputs ({{org/project/stack: "
                        f"{{output: value}}}})")
    return doc


def plan_directory(directory: Path, *, stack: str | None = None, stack_file: Path | None = None,
                   preview: bool = True, references_file: Path | None = None, first_up: bool = False) -> Plan:
    """Plan any Pulumi Python program: its own project name, its stack file, its config namespace,
    secure values decrypted to deterministic local plaintexts, remote components' children modelled."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PlanError(f"program directory {directory} not found")
    project = load_project(directory)
    name, path = stack_file_path(stack, str(stack_file) if stack_file else None, directory)
    config, secret_keys = load_stack_config(name, path, directory)
    references = load_references(Path(references_file)) if references_file else None
    program = directory_program(directory, project)
    before = set(sys.modules)
    try:
        return run_program(program, config=config, stack=name, project=project["name"], preview=preview,
                           secret_keys=secret_keys, remote_children=True, references=references,
                           references_source=str(references_file), first_up=first_up)
    finally:
        workdir = program.workdir  # type: ignore[attr-defined]  # directory_program sets it
        if Path(workdir) != ROOT:
            forget_local_modules(workdir, before)
