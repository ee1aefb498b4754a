"""`python -m components.config`: print the README's config reference (every key, default, meaning)."""
from __future__ import annotations

from . import PROJECT, TIERS
from .schema import describe


def markdown() -> str:
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for key, cls in TIERS.items():
        for path, default, doc in describe(cls, f"{PROJECT}:{key}"):
            lines.append(f"| `{path}` | {default} | {doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
