"""The one place plan/ touches private symbols of the Pulumi SDKs, pinned to the versions they were read from.

Everything in plan/ that is not public API of `pulumi` or `pulumi_policy` comes from here: the mock runtime's
internals the engine drives (settings, `_sync_await`, the secret signature), the policy SDK's analyzer servicer
(its configured state and its private helpers), and a copy of its evaluation loops (`Analyze`, `AnalyzeStack`,
`Remediate` of pulumi-policy 1.21.0's `_PolicyAnalyzerServicer`) changed in two ways only:

- **decode once.** The SDK decodes a resource's properties (MessageToDict, deserialize, unknown-checking proxy,
  provider) again for every (resource, policy) pair and rebuilds every stack resource for every stack policy; 96%
  of a plan's policy time went there. Here each resource is decoded once and the same view is handed to every
  policy. A policy that writes into its view (proxy `__setitem__`, or an attribute of a stack resource) marks it
  dirty and the next policy gets a fresh decode, so no policy sees another's writes, as in the SDK.
- **isolation.** An exception in one policy (other than the SDK's own "unknown value" and "not applicable"
  signals) becomes that policy's error (`policy X raised: ...`) and the other policies still run; under the SDK
  it aborts the whole analysis (and the real CLI's preview).

Everything else (enforcement levels and their remediate->mandatory downgrade, config per policy, unknown handling
and its advisory "can't run policy ... during preview" diagnostic, not-applicable results, async validations,
remediation order and secret preservation) is the SDK's code, copied. tests/test_sdk.py fingerprints the source
of every symbol used or copied here and fails on any change, and tests/test_analyze_equivalence.py runs the stock
servicer beside this on both stacks in both modes and on the policy corpus and demands identical results: after
a pin upgrade, re-read the changed SDK code, port it here, then update `SOURCE_HASHES`.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from importlib import metadata
from inspect import isawaitable
from typing import Any

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import mocks as pmocks  # noqa: F401 - re-exported: MockMonitor, set_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config  # noqa: F401 - re-exported
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource  # noqa: F401 - re-exported
from pulumi.runtime.stack import run_pulumi_func  # noqa: F401 - re-exported
from pulumi.runtime.sync_await import _sync_await  # noqa: F401 - re-exported
from pulumi_policy import policy as _pp
from pulumi_policy.deserialize import deserialize_properties, serialize_properties
from pulumi_policy.policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    _NotApplicableError,
    _PolicyAnalyzerServicer,
)
from pulumi_policy.proxy import UnknownValueError, _append_prop, _DictProxy, _ListProxy, unknown_checking_proxy

from . import structs as _structs

PINS = {"pulumi": "3.272.0", "pulumi_policy": "1.21.0"}

# pulumi runtime privates the engine uses.
UNKNOWN = rpc.UNKNOWN
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig  # a resource reference (plan/engine.py, plan/remote.py)
MockMonitor = pmocks.MockMonitor
PolicyAnalyzerServicer = _PolicyAnalyzerServicer

# Every private function, class or module used above or copied below, with the sha256 (first 16 hex digits) of its
# source as installed at the pins; and the private constants with their values. tests/test_sdk.py recomputes both.
SOURCE_HASHES = {
    "pulumi.runtime.sync_await._sync_await": "77b69aaf7da77f1c",
    "pulumi.runtime.stack.run_pulumi_func": "17b787ffe00d4e2c",
    "pulumi.runtime.config.set_all_config": "8f1767bf1d394e61",
    "pulumi.runtime.settings.get_root_resource": "a4674ff307acb90a",
    "pulumi.runtime.settings.Settings": "8e3dc37ca1c72b15",
    "pulumi.runtime.mocks.MockMonitor": "ef9716c3cfbe74d5",
    "pulumi.runtime.mocks.set_mocks": "2426a15812d1a273",
    "pulumi_policy.policy._PolicyAnalyzerServicer": "2526cad53e080fdf",
    "pulumi_policy.policy.ResourceValidationArgs": "59a2c5983dc19f4b",
    "pulumi_policy.policy.StackValidationArgs": "afd07d959881bd22",
    "pulumi_policy.policy.PolicyResource": "d8421791bf032653",
    "pulumi_policy.policy.PolicyProviderResource": "3b1db411ca38ce5b",
    "pulumi_policy.policy.ResourceValidationPolicy": "485af0b277175a3f",
    "pulumi_policy.policy.StackValidationPolicy": "3ecb0d355e72b98a",
    "pulumi_policy.policy._NotApplicableError": "1b0c8e2a38deeaff",
    "pulumi_policy.deserialize": "d6c752ad182116d2",
    "pulumi_policy.proxy": "7c369f060299e873",
    "pulumi_policy.secret": "9702d5c9dbdad77e",
    "pulumi.runtime.resource._get_stack_trace": "3943b22730169251",
    "pulumi.runtime.resource.register_resource": "633fd2207a3851a3",
    "pulumi.runtime.resource.read_resource": "fe8d3624c32db0b7",
    "pulumi.runtime.stack.wait_for_rpcs": "c0f9027f85ad0925",
    "pulumi.output.Output._track": "72569ad70fd52b20",
    "pulumi.runtime.rpc.contains_unknowns": "1f1f335b6f48b960",
    "pulumi.runtime.settings._get_rpc_manager": "08e4320a3932bb21",
}
PRIVATE_VALUES = {
    "pulumi.runtime.rpc._special_sig_key": "4dabf18193072939515e22adb298388d",
    "pulumi.runtime.rpc._special_secret_sig": "1b47061264138c4ac30d75fd1eb44270",
    "pulumi.runtime.rpc._special_resource_sig": "5cf8f73096256a8f31e491e813e4eb8e",
    "pulumi.runtime.rpc.UNKNOWN": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
}
# The servicer's private attributes and methods Pack reads (their presence is checked on a real servicer).
SERVICER_PRIVATES = ("_PolicyAnalyzerServicer__policy_pack_name", "_PolicyAnalyzerServicer__policy_pack_version",
                     "_PolicyAnalyzerServicer__policies", "_PolicyAnalyzerServicer__stack_tags",
                     "_get_enforcement_level", "_get_policy_config", "_create_report_violation",
                     "_map_enforcement_level", "_get_resource_options", "_configure_runtime_settings")


def resolve(dotted: str) -> Any:
    """The object a dotted name in SOURCE_HASHES / PRIVATE_VALUES names."""
    import importlib
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@contextlib.contextmanager
def no_source_positions():
    """Registrations without the caller's stack trace and source position, for the length of a run.

    `register_resource` and `read_resource` call `pulumi.runtime.resource._get_stack_trace` for every resource:
    `traceback.extract_stack()` with source lines, which loads every file on the stack into `linecache` (13 MB
    of a prod plan's heap: components and the large pulumi_aws modules) and was ~10% of the program's CPU. They
    only go into the RegisterResource request's `sourcePosition` / `stackTrace`, which the mock monitor drops
    and the engine never records. An empty trace is what the SDK itself sends when it cannot find the frames."""
    from pulumi.runtime import resource as rt
    from pulumi.runtime.proto import source_pb2
    real = rt._get_stack_trace
    rt._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        rt._get_stack_trace = real


async def _wait_for_rpcs(await_all_outstanding_tasks=True) -> None:
    """`pulumi.runtime.stack.wait_for_rpcs` (pinned in SOURCE_HASHES) with its outstanding-outputs loop made
    linear. The SDK's loop hands every outstanding output task to `asyncio.wait(FIRST_COMPLETED)` again each time
    one completes (a done-callback added to and removed from each, ~40k outputs in a prod plan) and re-adds the
    not-done ones through `SETTINGS.outputs`, a context-variable property read once per task: ~15% of a prod
    program's CPU. Here each task is looked at once when it is first seen (a done one is taken as it is, a pending
    one gets one done-callback); the rest is the SDK's: the RPCs drained first, each completed task awaited as it
    completes (so its exception is raised here), outputs created meanwhile picked up, the whole cycle repeated
    while RPCs were queued."""
    from pulumi.runtime.settings import _get_rpc_manager

    rpc_manager = _get_rpc_manager()
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            await _await_outputs()
        if len(rpc_manager.rpcs) == 0:
            break


async def _await_outputs() -> None:
    """Every output task tracked in `SETTINGS.outputs` (`Output._track`), and every one created while waiting,
    awaited as it completes."""
    loop = asyncio.get_running_loop()
    outputs, lock = SETTINGS.outputs, SETTINGS.lock
    completed: collections.deque = collections.deque()
    seen: set = set()
    wake: list = [None]
    pending = 0

    def finished(task) -> None:
        completed.append(task)
        if wake[0] is not None and not wake[0].done():
            wake[0].set_result(None)

    while True:
        with lock:
            fresh = [t for t in outputs if t not in seen]
            outputs.clear()
        for task in fresh:
            seen.add(task)
            if task.done():
                completed.append(task)
            else:
                task.add_done_callback(finished)
        pending += len(fresh)
        if not completed:
            if pending == 0:
                return
            wake[0] = loop.create_future()
            await wake[0]
            wake[0] = None
        while completed:
            task = completed.popleft()
            pending -= 1
            await task


def _tracker(outputs: set, lock) -> Any:
    """`Output._track` (pinned in SOURCE_HASHES) for a run whose outstanding outputs `_await_outputs` awaits: the
    output's task goes into the run's `SETTINGS.outputs` set, read once when the run starts.

    The SDK's reads the context-variable properties `SETTINGS.lock` and `SETTINGS.outputs` (three times per output)
    and gives each task a done-callback that takes it out of the set again once it succeeded: ~52,000 outputs in a
    prod plan, each a scheduled callback. Here the set is swept instead whenever it has grown by half (at least
    `_SWEEP_MIN`) since the last sweep: the tasks that succeeded leave it (so they are not kept alive), a failed or
    cancelled one stays for the run's end to raise, as with the SDK's callback. `_await_outputs` takes a task that
    is already done as it is. (Sweeping at twice the size: 4 sweeps, ~6 ms, +9 MB of peak; every 4,096 outputs:
    11 sweeps, ~35 ms; at half: 6 sweeps, ~12 ms, +4 MB.)"""
    limit = [_SWEEP_MIN]

    def _track(self) -> None:
        with lock:
            outputs.add(self._data)
            if len(outputs) >= limit[0]:
                outputs.difference_update([t for t in outputs
                                           if t.done() and not t.cancelled() and t.exception() is None])
                limit[0] = len(outputs) + max(_SWEEP_MIN, len(outputs) // 2)
    return _track


_SWEEP_MIN = 4096


@contextlib.contextmanager
def linear_quiescence():
    """`wait_for_rpcs` as `_wait_for_rpcs` and `Output._track` as `_tracker`'s for the length of a run
    (`run_pulumi_func` looks the former up when called). Enter it after `set_mocks`: the run's set of outputs is
    the one `set_mocks` installed."""
    from pulumi.output import Output
    from pulumi.runtime import stack
    real, real_track = stack.wait_for_rpcs, Output.__dict__["_track"]
    stack.wait_for_rpcs = _wait_for_rpcs
    Output._track = _tracker(SETTINGS.outputs, SETTINGS.lock)  # type: ignore[method-assign]
    try:
        yield
    finally:
        stack.wait_for_rpcs = real
        Output._track = real_track  # type: ignore[method-assign]


def _contains_unknowns(val: Any) -> bool:
    """`pulumi.runtime.rpc.contains_unknowns` (pinned in SOURCE_HASHES), the same walk without its closure."""
    return _contains_unknowns_in(val, set())


_SCALARS = (str, int, float, bool, type(None))


def _contains_unknowns_in(val: Any, seen_ids: set) -> bool:
    """The SDK's `impl`: an `Unknown` anywhere in nested dicts and lists (each container walked once). Strings,
    numbers, booleans and None answer at once (never an `Unknown`, never walked: noting their ids changes
    nothing, a live container never shares an id with a live scalar); loops instead of `any(generator)`."""
    if type(val) in _SCALARS:
        return False
    if isinstance(val, Unknown):
        return True
    val_id = id(val)
    if val_id in seen_ids:
        return False
    seen_ids.add(val_id)
    if isinstance(val, dict):
        for k in val:
            if _contains_unknowns_in(val[k], seen_ids):
                return True
        return False
    if isinstance(val, list):
        for x in val:
            if _contains_unknowns_in(x, seen_ids):
                return True
    return False


@contextlib.contextmanager
def acyclic_unknown_checks():
    """`rpc.contains_unknowns` as `_contains_unknowns` for the length of a run.

    The SDK's defines its recursive `impl` inside each call: a function that refers to itself through its own
    closure cell, a reference cycle that only the collector frees. Every output's value is checked (~100,000
    calls in a prod plan), and the CLI runs with the collector off (docs/performance.md), so each call left a
    function, its cell and its closure tuple behind: 25 MB of a prod plan's heap (~12 MB of its peak RSS), and
    their allocation was CPU too. Same walk, same answers (tests/test_engine.py compares them on values with
    unknowns at every depth, shared and self-referring containers); module-level functions, no cycle. Every
    caller (output.py, invoke.py, rpc.py itself) looks it up on `rpc` at call time."""
    real = rpc.contains_unknowns
    rpc.contains_unknowns = _contains_unknowns
    try:
        yield
    finally:
        rpc.contains_unknowns = real


# --------------------------------------------------------------------------------------------------------------
# The mock monitor's registration with plain properties decoded and encoded directly.

class _NotPlain(Exception):
    """A value the direct walkers leave to the SDK's own (de)serializers: a signature (secret, asset, archive,
    resource reference, output value), a Value without a kind, an object that is not plain data."""


def _plain_in(value: Any, unknown: Any) -> Any:
    """`rpc.deserialize_property` of a Struct's Python value (str, float, bool, None, Struct, ListValue) that holds
    no signature: the engine's unknown sentinel becomes `unknown()` (a new `Unknown` in a preview), or None."""
    if isinstance(value, str):
        return (unknown() if unknown is not None else None) if value == UNKNOWN else value
    if isinstance(value, struct_pb2.Struct):
        return _plain_props(value, unknown)
    if isinstance(value, struct_pb2.ListValue):
        return [_plain_in(v, unknown) for v in value]
    return value


def _plain_props(struct: struct_pb2.Struct, unknown: Any) -> dict:
    """`rpc.deserialize_properties` of a Struct without signatures: values that deserialize to None left out."""
    fields = struct.fields
    if SECRET_SIG in fields:
        raise _NotPlain
    out = {}
    for key in fields:
        value = fields[key]
        if value.WhichOneof("kind") is None:
            raise _NotPlain
        value = _plain_in(struct[key], unknown)
        if value is not None:
            out[key] = value
    return out


def _plain_out(value: Any, unknown_type: type) -> Any:
    """`rpc.serialize_property` of plain data (no type, no name translation): str, bool, numbers, None, lists and
    tuples, dicts with string keys, `Unknown` (the sentinel)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_out(v, unknown_type) for v in value]
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise _NotPlain
        return {k: _plain_out(v, unknown_type) for k, v in value.items()}
    if type(value) is unknown_type:
        return UNKNOWN
    raise _NotPlain


def _struct_of(state: Any) -> struct_pb2.Struct | None:
    """`rpc.serialize_properties(state, {})` of a plain state, else None (not plain data: the SDK's to do)."""
    if type(state) is not dict or not all(type(k) is str for k in state):
        return None
    try:
        plain = {k: _plain_out(v, Unknown) for k, v in state.items()}
    except _NotPlain:
        return None
    struct = struct_pb2.Struct()
    for k, v in plain.items():
        if v is not None:       # serialize_properties leaves out what serializes to None
            struct[k] = v
    return struct


def register_resource(monitor: Any, request: Any) -> Any:
    """`MockMonitor.RegisterResource` (pinned in SOURCE_HASHES), the SDK's code, with the request's properties
    decoded and the mock's state encoded by `_plain_props` / `_plain_out` where they are plain data (nearly every
    resource), else by the SDK's own `deserialize_properties` / `serialize_properties`. The SDK's pair walks every
    value through its type dispatch (assets, resources, outputs, awaitables, input types) and runs an event loop on
    the worker thread for each resource's state (`_sync_await`): ~0.3 s of a prod plan's CPU. tests/test_engine.py
    checks both stacks' registrations, in both modes, give what the SDK's pair gives."""
    from pulumi.runtime import settings
    from pulumi.runtime.mocks import MockResourceArgs, _ensure_event_loop, _resolve_callbacks
    from pulumi.runtime.proto import resource_pb2

    urn = monitor.make_urn(request.parent, request.type, request.name)
    if request.type == "pulumi:pulumi:Stack":
        return resource_pb2.RegisterResourceResponse(urn=urn)
    _ensure_event_loop()
    try:
        inputs = _plain_props(request.object, Unknown if settings.is_dry_run() else None)
    except _NotPlain:
        inputs = rpc.deserialize_properties(request.object)
    resource_args = MockResourceArgs(
        typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
        resource_id=request.importId, custom=request.custom or False,
        transforms=_resolve_callbacks(request.transforms))
    id_, state = monitor.mocks.new_resource(resource_args)
    obj_proto = _struct_of(state)
    if obj_proto is None:
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
    monitor.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, id_, state)
    return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)


def source_hash(dotted: str) -> str:
    import hashlib
    import inspect
    return hashlib.sha256(inspect.getsource(resolve(dotted)).encode()).hexdigest()[:16]


def installed_versions() -> dict[str, str]:
    return {name: metadata.version(name.replace("_", "-")) for name in PINS}


# --------------------------------------------------------------------------------------------------------------
# The configured servicer's private state.

class Pack:
    """A configured `_PolicyAnalyzerServicer` seen from inside: its policies, levels, config, name and version."""

    def __init__(self, servicer: _PolicyAnalyzerServicer):
        self.servicer = servicer
        self.name: str = servicer._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]  # the SDK's private state (pinned)
        self.version: str = servicer._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]  # the SDK's private state (pinned)
        self.policies: list = servicer._PolicyAnalyzerServicer__policies  # type: ignore[attr-defined]  # the SDK's private state (pinned)
        self.stack_tags = servicer._PolicyAnalyzerServicer__stack_tags  # type: ignore[attr-defined]  # the SDK's private state (pinned)
        self.levels = {p.name: servicer._get_enforcement_level(p) for p in self.policies}
        self._reports: dict = {}
        self._by_type: dict[str, list] = {}
        self.remediating = any(level == EnforcementLevel.REMEDIATE and isinstance(p, ResourceValidationPolicy)
                               for p, level in zip(self.policies, self.levels.values(), strict=False))
        self.target = _Target()

    def config(self, name: str):
        return self.servicer._get_policy_config(name)

    def resource_policies(self, type_: str) -> list:
        """The SDK's Analyze loop's choice of policies for a resource of type `type_`, in the pack's order, made
        once per type: (policy, its report closure) for each one that runs, (policy, None) for each one that does
        not implement validate (a not-applicable result). Left out, as the loop skips them: disabled policies,
        stack policies, and registered rules whose validate does nothing for this type (`applies_to`,
        policies/rules/_registry.py). The levels are fixed when the Pack is made, a rule's types when it is
        registered: the loop re-tested all ~150 policies for each of ~1,200 resources."""
        chosen = self._by_type.get(type_)
        if chosen is None:
            chosen = self._by_type[type_] = []
            for policy in self.policies:
                enforcement_level = self.levels[policy.name]
                if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                    continue
                if not policy.has_validation():
                    chosen.append((policy, None))
                    continue
                applies_to = getattr(policy, "applies_to", None)
                if applies_to is not None and not applies_to(type_):
                    continue
                if enforcement_level == EnforcementLevel.REMEDIATE:
                    enforcement_level = EnforcementLevel.MANDATORY
                chosen.append((policy, self.report(self.target, policy, enforcement_level)))
        return chosen

    def report(self, target: _Target, policy, level):
        """`_create_report_violation`'s closure, made once per policy and level and pointed at `target.response`
        (the SDK makes one per resource and policy; the body is the SDK's, copied)."""
        key = (policy.name, level)
        fn = self._reports.get(key)
        if fn is None:
            fn = self._reports[key] = self._make_report(target, policy.name, policy.description, level,
                                                        policy.severity)
        return fn

    def _make_report(self, target, policy_name, policy_description, enforcement_level, severity):
        level_code = self.level_code(enforcement_level)
        severity_code = self.servicer._map_severity(severity)
        pack_name, pack_version = self.name, self.version

        def report_violation(message: str, urn: str | None = None) -> None:
            if message and not isinstance(message, str):
                raise TypeError("Expected message to be a string")
            if urn is not None and not isinstance(urn, str):
                raise TypeError("Expected urn to be a string")

            violation_message = policy_description
            if message:
                violation_message += f"\n{message}"

            target.response.diagnostics.append(proto.AnalyzeDiagnostic(
                policyName=policy_name,
                policyPackName=pack_name,
                policyPackVersion=pack_version,
                message=violation_message,
                urn=urn if urn else "",
                description=policy_description,
                enforcementLevel=level_code,
                severity=severity_code,
            ))
        return report_violation

    def level_code(self, level: EnforcementLevel):
        return self.servicer._map_enforcement_level(level)

    def options(self, request_like):
        return self.servicer._get_resource_options(request_like)

    def configure_runtime(self) -> None:
        self.servicer._configure_runtime_settings()

    def any_remediate(self) -> bool:
        """Whether Remediate has anything to run (else the SDK's loop skips every policy)."""
        return self.remediating

    def unknown_diagnostic(self, policy, exc: UnknownValueError):
        return proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=self.name, policyPackVersion=self.version,
            message=(f"can't run policy '{policy.name}' from policy pack "
                     f"'{self.name}@v{self.version}' during preview: {exc.message}"),
            urn="", description=policy.description,
            enforcementLevel=self.level_code(EnforcementLevel.ADVISORY))


class _Target:
    """Where the shared report closures append: the response being built."""
    __slots__ = ("response",)

    def __init__(self):
        self.response = None


@dataclasses.dataclass
class PolicyError:
    """A policy that raised: reported as that policy's own result, the others still run."""
    policy: str
    urn: str
    message: str


def _error(policy_name: str, urn: str, exc: BaseException) -> PolicyError:
    text = str(exc).strip().splitlines()
    return PolicyError(policy_name, urn, f"policy {policy_name} raised: {type(exc).__name__}"
                                         f"{': ' + text[0] if text else ''}")


def _run(result) -> Any:
    """The SDK's way of finishing an async validation or remediation: a fresh event loop per call."""
    loop = asyncio.new_event_loop()
    task = asyncio.Task(result, loop=loop)
    out = loop.run_until_complete(task)
    loop.close()
    return out


# --------------------------------------------------------------------------------------------------------------
# Decoding once. The proxies are the SDK's classes (policies and serialize_properties see what they always see);
# the subclasses only notice writes, so a view a policy wrote into is thrown away before the next policy.

class _Dirty:
    __slots__ = ("flag",)

    def __init__(self):
        self.flag = False


class _GuardedDictProxy(_DictProxy):
    def __init__(self, target, props_acc, dirty: _Dirty):
        super().__init__(target, props_acc)
        self._dirty = dirty

    def __setitem__(self, key, value):
        self._dirty.flag = True
        super().__setitem__(key, value)


def _proxy(value: Any, props_acc: list, dirty: _Dirty) -> Any:
    """pulumi_policy.proxy._proxy_helper, building write-noticing dict proxies."""
    if isinstance(value, list):
        return _ListProxy([_proxy(e, _append_prop(props_acc, i), dirty) for i, e in enumerate(value)], props_acc)
    if isinstance(value, dict):
        return _GuardedDictProxy({k: _proxy(value[k], _append_prop(props_acc, k), dirty) for k in value},
                                 props_acc, dirty)
    return value


def decode(props: dict, dirty: _Dirty):
    """What the SDK hands a policy as `args.props`: deserialized, wrapped in the unknown-checking proxy."""
    return _proxy(deserialize_properties(props), [], dirty)


def to_dict(struct: struct_pb2.Struct) -> dict:
    """`json_format.MessageToDict(struct)` (plan/structs.py: the same dict without the generic printer)."""
    return _structs.to_dict(struct)


class _Provider:
    """A resource's provider as the SDK builds it (`_get_provider_resource`), from a cached plain dict."""

    def __init__(self, message: proto.AnalyzerProviderResource | None):
        self.message = message
        self.plain = to_dict(message.properties) if message is not None else None

    def build(self, dirty: _Dirty):
        if self.message is None:
            return None
        m = self.message
        return _pp.PolicyProviderResource(m.type, decode(self.plain or {}, dirty), m.urn, m.name)


@dataclasses.dataclass
class ResourceInput:
    """One resource as Analyze/Remediate receive it: type, plain properties (after the protobuf round trip, as
    the servicer decodes them), urn, name, the options message, the provider message."""
    type: str
    props: dict
    urn: str
    name: str
    options: proto.AnalyzerResourceOptions
    provider: proto.AnalyzerProviderResource | None


class _Holder:
    """`request.options` for the SDK's own `_get_resource_options`."""
    __slots__ = ("options",)

    def __init__(self, options):
        self.options = options


def analyze_resource(pack: Pack, res: ResourceInput, errors: list[PolicyError]):
    """`_PolicyAnalyzerServicer.Analyze` for one resource, decoded once for all policies."""
    response = pack.target.response = proto.AnalyzeResponse()
    provider = _Provider(res.provider)
    view = None
    dirty = _Dirty()
    for policy, report_violation in pack.resource_policies(res.type):
        if report_violation is None:
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason="Policy does not implement validate"))
            continue
        try:
            if view is None or dirty.flag:
                dirty = _Dirty()
                view = (decode(res.props, dirty), pack.options(_Holder(res.options)), provider.build(dirty))
            props, opts, prov = view
            args = ResourceValidationArgs(res.type, props, res.urn, res.name, opts, prov, pack.config(policy.name),
                                          pack.stack_tags)
            result = policy.validate(args, report_violation)
            if result is not None and isawaitable(result):
                _run(result)
        except UnknownValueError as e:
            response.diagnostics.append(pack.unknown_diagnostic(policy, e))
        except _NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
        except Exception as e:  # noqa: BLE001 - isolation: this policy's error, the others still run
            errors.append(_error(policy.name, res.urn, e))
    return response


def remediate_resource(pack: Pack, res: ResourceInput, errors: list[PolicyError]):
    """`_PolicyAnalyzerServicer.Remediate` for one resource (one decode, by design in the SDK too)."""
    response = proto.RemediateResponse()
    if not pack.any_remediate():
        return response  # the SDK's loop would skip every policy
    try:
        # A remediation's writes are meant to reach the next policy here (the SDK decodes once too).
        props = unknown_checking_proxy(deserialize_properties(res.props, True))
    except Exception as e:  # noqa: BLE001
        errors.append(_error("(decode)", res.urn, e))
        return response
    opts = pack.options(_Holder(res.options))
    provider = _Provider(res.provider).build(_Dirty())
    for policy in pack.policies:
        if pack.levels[policy.name] != EnforcementLevel.REMEDIATE or not isinstance(policy, ResourceValidationPolicy):
            continue
        if not policy.has_remediation():
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason="Policy does not implement remediate"))
            continue
        args = ResourceValidationArgs(res.type, props, res.urn, res.name, opts, provider, pack.config(policy.name),
                                      pack.stack_tags)
        rpc_props = None
        diagnostic = None
        try:
            new_props = None
            result = policy.remediate(args)
            if isawaitable(result):
                new_props = _run(result)
            elif result is not None:
                new_props = result
            if new_props:
                ser_props = serialize_properties(new_props)
                rpc_props = struct_pb2.Struct()
                for k, v in ser_props.items():
                    rpc_props[k] = v
                props = new_props
        except UnknownValueError as e:
            diagnostic = (f"can't run remediation '{policy.name}' from policy pack "
                          f"'{pack.name}@v{pack.version}' during preview: {e.message}")
        except _NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
        except Exception as e:  # noqa: BLE001 - isolation
            errors.append(_error(policy.name, res.urn, e))
            rpc_props = None
        if rpc_props or diagnostic:
            response.remediations.append(proto.Remediation(
                policyName=policy.name, policyPackName=pack.name, policyPackVersion=pack.version,
                description=policy.description, properties=rpc_props, diagnostic=diagnostic or ""))
    return response


@dataclasses.dataclass
class StackInput:
    """One resource as AnalyzeStack receives it."""
    resource: ResourceInput
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]


class _GuardedPolicyResource(PolicyResource):
    def __init__(self, *args, dirty: _Dirty):
        object.__setattr__(self, "_dirty", dirty)
        super().__init__(*args)
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, key, value):
        if getattr(self, "_sealed", False):
            self._dirty.flag = True  # type: ignore[attr-defined]  # set by the guard's owner
        object.__setattr__(self, key, value)


def _guard(cls, names):
    def wrap(name):
        base = getattr(cls.__mro__[1], name)

        def method(self, *args, **kwargs):
            self._dirty.flag = True
            return base(self, *args, **kwargs)
        method.__name__ = name
        return method
    for name in names:
        setattr(cls, name, wrap(name))
    return cls


class _GuardedList(list):
    """A stack resource's dependency list: a list, that notices writes."""

    def __init__(self, dirty: _Dirty, items=()):
        super().__init__(items)
        self._dirty = dirty


class _GuardedDict(dict):
    """A stack resource's property-dependency map: a dict, that notices writes."""

    def __init__(self, dirty: _Dirty):
        super().__init__()
        self._dirty = dirty


_guard(_GuardedList, ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "__setitem__",
                      "__delitem__", "__iadd__", "__imul__"))
_guard(_GuardedDict, ("__setitem__", "__delitem__", "pop", "popitem", "clear", "update", "setdefault", "__ior__"))


def _stack_resources(pack: Pack, items: list[StackInput], dirty: _Dirty) -> list[PolicyResource]:
    """AnalyzeStack's intermediate pass: PolicyResources with parent and dependencies as objects."""
    built = []
    for item in items:
        r = item.resource
        opts = pack.options(_Holder(r.options))
        resource = _GuardedPolicyResource(r.type, decode(r.props, dirty), r.urn, r.name, opts,
                                          _Provider(r.provider).build(dirty), None, _GuardedList(dirty),
                                          _GuardedDict(dirty), dirty=dirty)
        built.append((resource, item))
    urns = {resource.urn: resource for resource, _ in built}
    for resource, item in built:
        if item.parent is not None and item.parent in urns:
            object.__setattr__(resource, "parent", urns[item.parent])
        list.extend(resource.dependencies, [urns[d] for d in item.dependencies if d in urns])
        for k, v in item.property_dependencies.items():
            dict.__setitem__(resource.property_dependencies, k, _GuardedList(dirty, [urns[d] for d in v if d in urns]))
    return [resource for resource, _ in built]


def analyze_stack(pack: Pack, items: list[StackInput], errors: list[PolicyError]):
    """`_PolicyAnalyzerServicer.AnalyzeStack`: the stack's resources built once for all stack policies."""
    response = pack.target.response = proto.AnalyzeResponse()
    resources: list[PolicyResource] | None = None
    dirty = _Dirty()
    for policy in pack.policies:
        enforcement_level = pack.levels[policy.name]
        if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
            continue
        if enforcement_level == EnforcementLevel.REMEDIATE:
            enforcement_level = EnforcementLevel.MANDATORY
        report_violation = pack.report(pack.target, policy, enforcement_level)
        if resources is None or dirty.flag:
            dirty = _Dirty()
            resources = _stack_resources(pack, items, dirty)
        args = StackValidationArgs(list(resources), pack.config(policy.name), pack.stack_tags)
        try:
            result = policy.validate(args, report_violation)
            if result is not None and isawaitable(result):
                _run(result)
        except UnknownValueError as e:
            response.diagnostics.append(pack.unknown_diagnostic(policy, e))
        except _NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
        except Exception as e:  # noqa: BLE001 - isolation
            errors.append(_error(policy.name, "", e))
    return response
