"""Secret values as the engine records them (the SDK's secret signature): what a provider receives (unwrapped)
and what a report may show (redacted). A leaf module, so the engine and the checks it runs import it, not each
other."""
from __future__ import annotations

from typing import Any

from .sdk import SECRET_SIG, SECRET_VALUE


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def unwrap_secrets(value: Any) -> Any:
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    return value


def redact_secrets(value: Any) -> Any:
    if is_secret(value):
        return "[secret]"
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items()}
    return value
