"""Read Pulumi.yaml and a stack file, and enforce the project's declared config as the CLI does.

The CLI (since 3.x project-level config) checks each key declared under `config:` in Pulumi.yaml:
a stack value must have the declared type, a missing value takes the declared default, and a
missing value without default is an error. A `secure:` value (ciphertext of a key this machine
does not have) becomes a deterministic local plaintext derived from the key and the ciphertext,
marked secret, so the program sees a secret Output of a plausible value as under `pulumi up`, and
the value never leaves the process (plans redact secrets).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from .errors import ROOT, PlanError

SECRET_PLACEHOLDER = "[secret-placeholder]"
TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise PlanError(f"stack file {path} not found") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PlanError(f"{path}: not valid YAML{where}") from None


def local_plaintext(key: str, ciphertext: Any) -> str:
    """The stand-in for a secure value: stable per key and ciphertext, obviously not a real secret."""
    return "local-secret-" + hashlib.sha256(f"{key}\0{ciphertext}".encode()).hexdigest()[:20]


def _decrypt(key: str, value: Any) -> tuple[Any, bool]:
    """(value with every {secure: ...} replaced by its local plaintext, whether any was secure)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return local_plaintext(key, value["secure"]), True
    if isinstance(value, dict):
        pairs = {k: _decrypt(f"{key}.{k}", v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_decrypt(f"{key}[{i}]", v) for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def load_project(root: Path = ROOT) -> dict:
    for candidate in ("Pulumi.yaml", "Pulumi.yml"):
        if (root / candidate).is_file():
            project = _load_yaml(root / candidate)
            break
    else:
        raise PlanError(f"{root}: not a Pulumi program directory (no Pulumi.yaml)")
    if not isinstance(project, dict) or not project.get("name"):
        raise PlanError(f"{root / 'Pulumi.yaml'}: missing project name")
    runtime = project.get("runtime")
    runtime = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime not in (None, "python"):
        raise PlanError(f"{root / 'Pulumi.yaml'}: runtime {runtime!r} is not supported; expected python")
    return project


def stack_file_path(stack: str | None, stack_file: str | None, root: Path = ROOT) -> tuple[str, Path]:
    if stack_file:
        path = Path(stack_file)
        name = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
        return name, path
    if not stack:
        raise PlanError("give --stack NAME or --stack-file PATH")
    return stack, root / f"Pulumi.{stack}.yaml"


def load_stack_config(stack: str, path: Path, root: Path = ROOT) -> tuple[dict, list[str]]:
    """(config with full keys, secret keys) after the CLI's project-config enforcement."""
    project = load_project(root)
    name = project["name"]
    doc = _load_yaml(path)
    if not isinstance(doc, dict):
        raise PlanError(f"{path.name}: expected a mapping with a 'config' key")
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise PlanError(f"{path.name}: 'config' must be a mapping")
    config: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{name}:{key}"
        value, secure = _decrypt(full, value)
        config[full] = value
        if secure:
            secrets.append(full)
    declared = project.get("config") or {}
    for key, decl in declared.items():
        full = key if ":" in key else f"{name}:{key}"
        decl = decl if isinstance(decl, dict) else {"default": decl}
        typ = decl.get("type")
        if full in config:
            value = config[full]
            if typ in TYPE_CHECKS and full not in secrets and not TYPE_CHECKS[typ](value):
                raise PlanError(f"Stack '{stack}' with configuration key '{full}' must be of type '{typ}' "
                                f"(got {type(value).__name__})")
        elif "default" in decl:
            config[full] = decl["default"]
        elif "value" in decl:
            config[full] = decl["value"]
        else:
            raise PlanError(f"Stack '{stack}' is missing configuration value '{full}'")
    return config, secrets
