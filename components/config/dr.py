"""Dr tier settings. (Placeholder: the tier's issue fills in its fields.)"""
from __future__ import annotations

import dataclasses

from .schema import Bool, Enum, EnvDefault, Int, ListOf, MapOf, Section, Str, setting  # noqa: F401


@dataclasses.dataclass(frozen=True)
class DrSettings:
    pass
