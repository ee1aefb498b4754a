"""Read Pulumi.yaml and a stack file, and enforce the project's declared config as the CLI does.

The CLI (since 3.x project-level config) checks each key declared under `config:` in Pulumi.yaml:
a stack value must have the declared type, a missing value takes the declared default, and a
missing value without default is an error. Secure values are never decrypted here: they become a
placeholder marked secret, so the program sees a secret Output as under `pulumi up`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml

from .engine import ROOT, PlanError

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
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PlanError(f"{path.name}: not valid YAML{where}") from None


def load_project(root: Path = ROOT) -> dict:
    project = _load_yaml(root / "Pulumi.yaml")
    if not isinstance(project, dict) or not project.get("name"):
        raise PlanError("Pulumi.yaml: missing project name")
    return project


def stack_file_path(stack: Optional[str], stack_file: Optional[str], root: Path = ROOT) -> tuple[str, Path]:
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
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        else:
            config[full] = value
    declared = project.get("config") or {}
    for key, decl in declared.items():
        full = key if ":" in key else f"{name}:{key}"
        decl = decl if isinstance(decl, dict) else {"default": decl}
        typ = decl.get("type")
        if full in config:
            value = config[full]
            if typ and full not in secrets and not TYPE_CHECKS[typ](value):
                raise PlanError(f"Stack '{stack}' with configuration key '{full}' must be of type '{typ}' "
                                f"(got {type(value).__name__})")
        elif "default" in decl:
            config[full] = decl["default"]
        elif "value" in decl:
            config[full] = decl["value"]
        else:
            raise PlanError(f"Stack '{stack}' is missing configuration value '{full}'")
    return config, secrets
