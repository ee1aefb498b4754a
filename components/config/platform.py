"""Stack-wide settings: who owns the stack, which environment it is, and how hard it is protected."""
from __future__ import annotations

import dataclasses

from .schema import Bool, Enum, EnvDefault, Str, setting

# CloudWatch Logs accepts only these retention values (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
REGION = Str(r"[a-z]{2}(-gov)?-[a-z]+-\d", "an AWS region code such as 'us-east-1'", max_len=20)


@dataclasses.dataclass(frozen=True)
class PlatformSettings:
    environment: str = setting(Enum("dev", "staging", "prod"), dataclasses.MISSING,
                               "Environment name; selects the environment defaults of every tier.")
    owner: str = setting(Str(r"[\w .@+=:/-]{1,128}", "1-128 letters, digits, spaces or . @ + = : / - _"),
                         "platform-team", "Owner tag value (team or e-mail).")
    cost_center: str = setting(Str(r"[\w .@+=:/-]{1,128}", "1-128 letters, digits, spaces or . @ + = : / - _"),
                               "ai-platform", "CostCenter tag value, used by budgets and cost allocation.")
    protect: bool = setting(Bool(), EnvDefault(False, True),
                            "Protect stateful resources: deletion protection, final snapshots, Pulumi protect/retainOnDelete.")
    app_log_retention_days: int = setting(Enum(*LOG_RETENTION_DAYS), EnvDefault(30, 30),
                                          "Retention of application log groups (days).")
    audit_log_retention_days: int = setting(Enum(*LOG_RETENTION_DAYS), EnvDefault(90, 365),
                                            "Retention of audit and flow log groups (days).")
