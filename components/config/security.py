"""Security tier settings: KMS key lifecycle and the Secrets Manager secrets the applications read."""
from __future__ import annotations

import dataclasses

from .schema import ConfigError, EnvDefault, Int, ListOf, Str, setting

SECRET_NAME = Str(r"[a-z][a-z0-9-]{1,62}", "a lowercase name of 2-63 letters, digits or hyphens, starting with a letter")


@dataclasses.dataclass(frozen=True)
class SecuritySettings:
    kms_deletion_window_days: int = setting(Int(7, 30), EnvDefault(7, 30),
                                            "Waiting period before a scheduled KMS key deletion completes.")
    secrets: tuple = setting(ListOf(SECRET_NAME, max_items=50), ["app-api-keys", "jwt-signing-secret"],
                             "Secrets Manager secrets to create (values are set out of band or from secret config).")
    secret_recovery_window_days: int = setting(Int(7, 30), EnvDefault(7, 30),
                                               "Days a deleted secret can be restored.")
    generated_secrets: tuple = setting(ListOf(SECRET_NAME, max_items=50), ["jwt-signing-secret"],
                                       "Secrets given a random initial value at creation (never changed by Pulumi after).")

    def validate(self, path: str) -> None:
        for name in self.generated_secrets:
            if name not in self.secrets:
                raise ConfigError(f"{path}.generatedSecrets", name, f"one of the secrets listed in {path}.secrets")
