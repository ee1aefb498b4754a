"""The one table of what the engine knows per resource type (plan/resource_types.json).

Cost (plan/cost.py), usage keys (plan/usage/STACK.yaml), the architecture picture (plan/diagram.py), the
critical path (plan/critical_path.py) and the tests all read this table, so a type is described once:

    "aws:kms/key:Key": {
      "cost":    {"lines": [...]} | {"handler": NAME} | {"free": REASON} | {"unpriced": REASON},
      "usage":   {KEY: "meaning"},                      # monthly usage keys the cost lines read
      "diagram": {"kind": LABEL, "icon": "aws.security.X", "role": ROLE},
      "create":  {"seconds": N, "source": "...", "assumption": bool, "variants": [...]},
      "name":    {"input": "name", "rule": "kms_alias"}  # the name input and its rule in components/naming.py
    }

`same_as: TOKEN` inherits every field not given (aws:alb/... is aws:lb/...). `patterns` (globs, first match
wins) give the reason for the many types with no charge of their own. A declarative cost line is
arithmetic only: quantity = (`quantity` or 1) x (730 if `hours`) x (input `count`) or the usage key's value x
`per` less the free allowance `free` (a `service/key` of the table, e.g. CloudFront's always-free tier), at the
price `service/key` of the resource's region table; `{input}` in item/price is filled from the
resource's inputs; `when` keeps the line only if an input equals / does not equal a value. Types whose price
needs more than that name a handler (plan/cost.py HANDLERS), checked by a test.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).resolve().parent / "resource_types.json"
COMPONENT_PREFIX = "ai-platform:tier:"


@dataclasses.dataclass(frozen=True)
class TypeInfo:
    token: str
    cost: dict | None = None
    usage: dict = dataclasses.field(default_factory=dict)
    diagram: dict | None = None
    create: dict | None = None
    name: dict | None = None


class Table:
    def __init__(self, doc: dict):
        self.doc = doc
        self.raw: dict[str, dict] = doc["types"]
        self.patterns: list[dict] = doc.get("patterns", [])
        self.create_default: dict = doc["_create_default"]
        self.create_component: dict = doc["_create_component"]
        self.types = {token: self._resolve(token) for token in self.raw}

    def _resolve(self, token: str, depth: int = 0) -> TypeInfo:
        entry = self.raw[token]
        base = self._resolve(entry["same_as"], depth + 1) if "same_as" in entry and depth < 5 else None
        fields: dict[str, Any] = {f: entry.get(f, getattr(base, f) if base else None) for f in ("cost", "usage", "diagram",
                                                                                   "create", "name")}
        fields["usage"] = fields["usage"] or {}
        return TypeInfo(token, **fields)

    def get(self, token: str) -> TypeInfo | None:
        return self.types.get(token)

    def cost_rule(self, token: str) -> dict | None:
        """The type's cost rule, else the first matching pattern's (free / unpriced), else None."""
        info = self.types.get(token)
        if info is not None and info.cost is not None:
            return info.cost
        for p in self.patterns:
            if fnmatch.fnmatchcase(token, p["match"]):
                return p
        return None

    def create_entry(self, token: str) -> dict:
        info = self.types.get(token)
        return info.create if info is not None and info.create else self.create_default

    def usage_keys(self) -> dict[str, dict]:
        return {t: i.usage for t, i in self.types.items() if i.usage}

    def diagram_kinds(self) -> dict[str, tuple[str, str, str]]:
        return {t: (i.diagram["kind"], i.diagram["icon"], i.diagram["role"])
                for t, i in self.types.items() if i.diagram}

    def named(self) -> dict[str, tuple[str, str]]:
        """type token -> (name input, rule key in components.naming.RULES)."""
        return {t: (i.name["input"], i.name["rule"]) for t, i in self.types.items() if i.name}


@functools.cache
def load(path: Path = TABLE_PATH) -> Table:
    return Table(json.loads(Path(path).read_text()))


def get_input(props: dict, dotted: str) -> Any:
    """props["a"]["b"] for "a.b"; None when a level is missing."""
    value: Any = props
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
