"""`python -m components.config`: write the configuration reference (every key, default, meaning) to
docs/configuration.md; `--print` writes it to stdout instead. tests/test_project.py checks the file is current."""
from __future__ import annotations

import sys
from pathlib import Path

from . import PROJECT, TIERS
from .schema import describe

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
HEADER = """# Configuration reference

Generated from the settings classes in `components/config/` by `venv/bin/python -m components.config`:
do not edit by hand. Every key lives under the project namespace as a structured object per section
(`ai-platform:<section>` in `Pulumi.<stack>.yaml`); defaults marked dev/prod depend on `platform.environment`.
Cross-section rules (service ports within the application port range, service secrets among the security
tier's, DR region and backups) are checked in `components/config/checks.py`.

"""


def markdown() -> str:
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for key, cls in TIERS.items():
        for path, default, doc in describe(cls, f"{PROJECT}:{key}"):
            lines.append(f"| `{path}` | {default} | {doc} |")
    return "\n".join(lines)


def document() -> str:
    return HEADER + markdown() + "\n"


if __name__ == "__main__":
    if "--print" in sys.argv[1:]:
        print(markdown())
    else:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(document())
        print(f"wrote {DOC}")
