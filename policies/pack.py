"""The pack's constructor arguments, importable by tests and the offline engine (plan/analyze.py)."""
from __future__ import annotations

import os
import sys

from pulumi_policy import EnforcementLevel

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:  # under the CLI, `rules` is imported from this folder
    sys.path.insert(0, _HERE)

try:
    from policies.rules import all_policies
except ImportError:  # pragma: no cover - CLI layout (policies/ is the working directory)
    from rules import all_policies  # type: ignore[no-redef]

PACK_NAME = "ai-platform-policies"


def pack_args() -> dict:
    return {
        "name": PACK_NAME,
        "policies": all_policies(),
        # Advisory unless a policy config raises it: prod.json makes the data/access rules mandatory.
        "enforcement_level": EnforcementLevel.ADVISORY,
        "description": "AWS guardrails for AI/ML platforms: tagging, network exposure, encryption, IAM, logging, "
                       "protection of data.",
        "display_name": "ai-platform AWS guardrails",
        "provider": "aws",
        "tags": ["aws", "security", "compliance"],
    }
