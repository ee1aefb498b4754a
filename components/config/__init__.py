"""Read every tier's stack config once, validate it, and hand out typed, immutable settings.

`load_settings()` is the only place that reads `pulumi.Config`; tiers receive their dataclass.
Adding a tier: write `config/<tier>.py` with a frozen dataclass of `setting(...)` fields, add it to
`TIERS` below and declare the key (type: object) in Pulumi.yaml.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping
from typing import Any

import pulumi

from .application import ApplicationSettings
from .checks import check
from .data import DataSettings
from .delivery import DeliverySettings
from .dr import DrSettings
from .edge import EdgeSettings
from .events import EventsSettings
from .ml import MlSettings
from .network import NetworkSettings
from .observability import ObservabilitySettings
from .platform import REGION, PlatformSettings
from .schema import ConfigError, parse_section
from .security import SecuritySettings

PROJECT = "ai-platform"

# Config key (under the project namespace) -> settings class. Order is the README's order.
TIERS: dict[str, type] = {
    "platform": PlatformSettings,
    "network": NetworkSettings,
    "security": SecuritySettings,
    "data": DataSettings,
    "application": ApplicationSettings,
    "edge": EdgeSettings,
    "events": EventsSettings,
    "ml": MlSettings,
    "delivery": DeliverySettings,
    "observability": ObservabilitySettings,
    "dr": DrSettings,
}


@dataclasses.dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    region: str
    platform: PlatformSettings
    network: NetworkSettings
    security: SecuritySettings
    data: DataSettings
    application: ApplicationSettings
    edge: EdgeSettings
    events: EventsSettings
    ml: MlSettings
    delivery: DeliverySettings
    observability: ObservabilitySettings
    dr: DrSettings

    @property
    def environment(self) -> str:
        return self.platform.environment

    @property
    def is_prod(self) -> bool:
        return self.platform.environment == "prod"


def _raw_tier(cfg: pulumi.Config, key: str) -> Any:
    text = cfg.get(key)
    if text is None:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{PROJECT}:{key}", text, "an object (structured YAML under the key)") from None


def _reject_unknown_keys() -> None:
    """A misspelt top-level key (ai-platform:netwrok) must not be silently ignored."""
    from pulumi.runtime.config import CONFIG
    for full in CONFIG.get():
        ns, _, key = full.partition(":")
        if ns == PROJECT and key not in TIERS:
            close = difflib.get_close_matches(key, list(TIERS), n=1)
            hint = f" (did you mean '{PROJECT}:{close[0]}'?)" if close else ""
            raise ConfigError(full, "...", f"one of the keys {', '.join(PROJECT + ':' + k for k in TIERS)}{hint}")


def load_settings(raw: Mapping[str, Any] | None = None, *, stack: str | None = None,
                  region: str | None = None) -> Settings:
    """Validate all tiers. `raw` (tier key -> object) is for tests; by default read the stack's config."""
    if raw is None:
        _reject_unknown_keys()
        cfg = pulumi.Config(PROJECT)
        raw_tiers = {k: _raw_tier(cfg, k) for k in TIERS}
    else:
        raw_tiers = {k: raw.get(k, {}) for k in TIERS}
    if raw is not None:
        unknown = sorted(set(raw) - set(TIERS))
        if unknown:
            raise ConfigError(f"{PROJECT}:{unknown[0]}", raw[unknown[0]], f"one of the keys {', '.join(TIERS)}")
    # The environment selects every EnvDefault, including the platform section's own.
    env = parse_section(PlatformSettings, raw_tiers["platform"], f"{PROJECT}:platform", "dev").environment
    platform = parse_section(PlatformSettings, raw_tiers["platform"], f"{PROJECT}:platform", env)
    parsed = {"platform": platform}
    for key, cls in TIERS.items():
        if key != "platform":
            parsed[key] = parse_section(cls, raw_tiers[key], f"{PROJECT}:{key}", env)
    if region is None:
        region = pulumi.Config("aws").get("region")
    if region is None:
        raise ConfigError("aws:region", None, "an AWS region code such as 'us-east-1' (pulumi config set aws:region ...)")
    REGION.parse(region, "aws:region", env)
    settings = Settings(project=PROJECT, stack=stack or pulumi.get_stack(), region=region, **parsed)
    check(settings)
    return settings


__all__ = ["ConfigError", "Settings", "load_settings", "TIERS", "PROJECT"]
