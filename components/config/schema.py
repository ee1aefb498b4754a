"""Declarative, typed, immutable stack settings.

Why not pulumi.Config getters scattered through the tiers: a wrong value must fail before any
resource is declared, with one line naming the key path, the bad value and what is accepted.
Each tier declares a frozen dataclass whose fields carry a `Spec`; `parse_section` turns the raw
stack-config object into that dataclass or raises `ConfigError`.

Stack files spell keys in camelCase (like every Pulumi provider); Python fields are snake_case.
"""
from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

import pulumi


class ConfigError(pulumi.RunError):
    """A stack-config value is wrong. `pulumi.RunError` makes the CLI print one line, no traceback."""

    def __init__(self, path: str, value: Any, accepted: str):
        self.path, self.value, self.accepted = path, value, accepted
        super().__init__(f"config error: {path} = {_show(value)} is not valid; expected {accepted}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclasses.dataclass(frozen=True)
class EnvDefault:
    """A default that depends on the stack's environment (dev/prod): values differ, code paths don't."""
    dev: Any
    prod: Any

    def resolve(self, environment: str) -> Any:
        return self.prod if environment == "prod" else self.dev


class Spec:
    accepted: str = "a value"

    def parse(self, value: Any, path: str, env: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def fail(self, path: str, value: Any) -> ConfigError:
        return ConfigError(path, value, self.accepted)


class Bool(Spec):
    accepted = "true or false"

    def parse(self, value, path, env):
        if isinstance(value, bool):
            return value
        raise self.fail(path, value)


class Int(Spec):
    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum
        lo = "" if minimum is None else f" >= {minimum}"
        hi = "" if maximum is None else f" <= {maximum}"
        self.accepted = f"an integer{lo}{' and' if lo and hi else ''}{hi}"

    def parse(self, value, path, env):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, value)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise self.fail(path, value)
        return value


class Num(Spec):
    def __init__(self, minimum: float, maximum: float):
        self.minimum, self.maximum = minimum, maximum
        self.accepted = f"a number from {minimum} to {maximum}"

    def parse(self, value, path, env):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not self.minimum <= value <= self.maximum:
            raise self.fail(path, value)
        return value


class Str(Spec):
    def __init__(self, pattern: str | None = None, accepted: str | None = None, max_len: int = 256,
                 min_len: int = 1):
        self.regex = re.compile(pattern) if pattern else None
        self.max_len, self.min_len = max_len, min_len
        self.accepted = accepted or f"a string of {min_len} to {max_len} characters"

    def parse(self, value, path, env):
        if not isinstance(value, str) or not self.min_len <= len(value) <= self.max_len:
            raise self.fail(path, value)
        if self.regex and not self.regex.fullmatch(value):
            raise self.fail(path, value)
        return value


class Enum(Spec):
    def __init__(self, *choices: str | int):  # ints too: retention days, instance counts
        self.choices = choices
        self.accepted = "one of " + ", ".join(repr(c) for c in choices)

    def parse(self, value, path, env):
        if value not in self.choices:
            raise self.fail(path, value)
        return value


class Cidr(Spec):
    def __init__(self, min_prefix: int = 8, max_prefix: int = 28):
        self.min_prefix, self.max_prefix = min_prefix, max_prefix
        self.accepted = f"an IPv4 CIDR block such as '10.0.0.0/16' with a prefix from /{min_prefix} to /{max_prefix}"

    def parse(self, value, path, env):
        if not isinstance(value, str) or "/" not in value:
            raise self.fail(path, value)
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError:
            raise self.fail(path, value) from None
        if not self.min_prefix <= net.prefixlen <= self.max_prefix:
            raise self.fail(path, value)
        return value


class ListOf(Spec):
    def __init__(self, item: Spec, min_items: int = 0, max_items: int = 100, unique: bool = True):
        self.item, self.min_items, self.max_items, self.unique = item, min_items, max_items, unique
        self.accepted = f"a list of {min_items} to {max_items} items, each {item.accepted}"

    def parse(self, value, path, env):
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise self.fail(path, value)
        out = tuple(self.item.parse(v, f"{path}[{i}]", env) for i, v in enumerate(value))
        if self.unique and len({repr(v) for v in out}) != len(out):
            raise ConfigError(path, value, "a list without duplicates")
        return out


class MapOf(Spec):
    """A mapping with free-form keys (e.g. a service catalogue keyed by service name)."""

    def __init__(self, value: Spec, key: Spec | None = None, max_items: int = 100):
        self.value, self.key, self.max_items = value, key or Str(r"[A-Za-z0-9_.:/-]+"), max_items
        self.accepted = f"an object of at most {max_items} entries, each {value.accepted}"

    def parse(self, value, path, env):
        if not isinstance(value, dict) or len(value) > self.max_items:
            raise self.fail(path, value)
        out = {}
        for k, v in value.items():
            self.key.parse(k, f"{path}.{k}", env)
            out[k] = self.value.parse(v, f"{path}.{k}", env)
        return pulumi_frozendict(out)


class Maybe(Spec):
    """An optional value: absent/null means "not set" (or "derive it"), otherwise valid for `inner`."""

    def __init__(self, inner: Spec):
        self.inner = inner
        self.accepted = f"null or {inner.accepted}"

    def parse(self, value, path, env):
        return None if value is None else self.inner.parse(value, path, env)


DOMAIN = Str(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a lowercase DNS name such as app.example.com",
             max_len=253)
HOSTED_ZONE_ID = Str(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id")


class Section(Spec):
    """A nested settings object (another frozen dataclass)."""

    def __init__(self, cls: type):
        self.cls = cls
        self.accepted = f"an object with keys {', '.join(sorted(keys_of(cls)))}"

    def parse(self, value, path, env):
        return parse_section(self.cls, value, path, env)


class pulumi_frozendict(dict):
    """A read-only dict: settings are immutable once parsed."""

    def _readonly(self, *a, **k):
        raise TypeError("settings are immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly

    def __hash__(self):  # type: ignore[override]  # frozen dataclasses holding maps stay hashable
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


def setting(spec: Spec, default: Any = dataclasses.MISSING, doc: str = "") -> Any:
    """Declare a settings field: its validation spec, its default (plain or EnvDefault) and its doc."""
    meta = {"spec": spec, "doc": doc, "default": default}
    if isinstance(default, (list, dict, EnvDefault)) or default is dataclasses.MISSING:
        return dataclasses.field(default=None, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def keys_of(cls: type) -> list[str]:
    return [camel(f.name) for f in dataclasses.fields(cls)]


def parse_section(cls: type, raw: Any, path: str, env: str) -> Any:
    """Validate one raw config object into the frozen dataclass `cls`, or raise ConfigError."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(path, raw, "an object")
    fields = {camel(f.name): f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{path}.{key}", raw[key], f"one of the keys {', '.join(sorted(fields))}{hint}")
    values = {}
    for key, f in fields.items():
        spec: Spec = f.metadata["spec"]
        default = f.metadata["default"]
        if key in raw and raw[key] is not None:
            values[f.name] = spec.parse(raw[key], f"{path}.{key}", env)
        elif default is dataclasses.MISSING:
            raise ConfigError(f"{path}.{key}", None, f"a value ({spec.accepted})")
        else:
            if isinstance(default, EnvDefault):
                default = default.resolve(env)
            values[f.name] = spec.parse(_thaw(default), f"{path}.{key} (default)", env)
    obj = cls(**values)
    check = getattr(obj, "validate", None)
    if callable(check):
        check(path)
    return obj


def _thaw(value: Any) -> Any:
    """Defaults are written as plain Python; parse them through the same specs as stack values."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {camel(f.name): _thaw(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def describe(cls: type, prefix: str) -> list[tuple[str, str, str]]:
    """(key path, default, doc) rows for the README's config reference."""
    rows = []
    for f in dataclasses.fields(cls):
        spec: Spec = f.metadata["spec"]
        key = f"{prefix}.{camel(f.name)}"
        default = f.metadata["default"]
        if isinstance(spec, Section):
            rows.extend(describe(spec.cls, key))
            continue
        if isinstance(default, EnvDefault):
            shown = f"dev: `{_fmt(default.dev)}`, prod: `{_fmt(default.prod)}`"
        elif default is dataclasses.MISSING:
            shown = "required"
        else:
            shown = f"`{_fmt(default)}`"
        rows.append((key, shown, f.metadata["doc"] or spec.accepted))
    return rows


def _fmt(value: Any) -> str:
    import json
    try:
        return json.dumps(_thaw(value))
    except TypeError:
        return str(value)


Validator = Callable[[Any, str], None]
__all__ = ["ConfigError", "EnvDefault", "Spec", "Bool", "Int", "Num", "Str", "Enum", "Cidr", "ListOf", "MapOf", "Maybe",
           "DOMAIN", "HOSTED_ZONE_ID",
           "Section", "setting", "parse_section", "describe", "camel", "keys_of"]
