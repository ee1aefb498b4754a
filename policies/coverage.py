"""The pack measured against the anchors' rule lists: for every check of checkov (AWS Terraform), cdk-nag
(AwsSolutions), Pulumi's compliance-ready policies (AWS classic) and AWSGuard, the pack rule that implements it
(read from the registry's `refs`; an AWSGuard name also counts when a rule has that id) or the recorded reason it
does not (policies/coverage-decisions.json). FSBP controls and CIS sections the rules cite are listed too (the
reference holds no complete list of those, so they count only what is implemented).

    python -m policies.catalog --coverage          # the table (markdown) on stdout
    python -m policies.catalog --write-coverage    # regenerate policies/COVERAGE.md and policies/coverage.json

Inputs, all in the repository: policies/anchors/*.json (copies of the anchors' lists; import_anchors.py made them),
policies/coverage-decisions.json (the reasons), the rule registry. Outputs: policies/coverage.json (machine-readable)
and policies/COVERAGE.md. A test fails when either output is stale, when a rule cites an id no anchor list has, or
when a check has neither a rule nor a reason.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
ANCHORS_DIR = POLICIES / "anchors"
DECISIONS = POLICIES / "coverage-decisions.json"
COVERAGE_JSON = POLICIES / "coverage.json"
COVERAGE_MD = POLICIES / "COVERAGE.md"
REGENERATE = "python -m policies.catalog --write-coverage"

# anchor -> (title, how a check is grouped for default decisions)
ANCHORS = {
    "checkov": ("checkov, AWS Terraform checks (the reference's excerpt, by family)", "families"),
    "cdk-nag": ("cdk-nag AwsSolutions pack", "group"),
    "pulumi": ("Pulumi compliance-ready policies, AWS classic", "service"),
    "awsguard": ("AWSGuard (pulumi-policy-aws)", None),
}
CITED_ONLY = {"fsbp": "AWS Foundational Security Best Practices (controls cited by rules)",
              "cis": "CIS AWS Foundations Benchmark 3.0 (sections cited by rules)"}
STATUSES = {
    "implemented": "implemented",
    "not-applicable": "not applicable to Pulumi",
    "account-level": "account-level",
    "runtime": "needs runtime data",
    "not-enforced": "deliberately not enforced",
    "open": "open (not implemented yet)",
}


def anchors() -> dict[str, list[dict]]:
    out = {}
    for name in ANCHORS:
        checks = json.loads((ANCHORS_DIR / f"{name}.json").read_text())
        extra = ANCHORS_DIR / f"{name}-extra.json"
        if extra.exists():
            known = {c["id"] for c in checks}
            checks += [c for c in json.loads(extra.read_text()) if c["id"] not in known]
        out[name] = checks
    return out


def decisions() -> dict:
    return json.loads(DECISIONS.read_text())


def _groups(anchor: str, check: dict) -> list[str]:
    key = ANCHORS[anchor][1]
    if key is None:
        return []
    value = check.get(key)
    return list(value) if isinstance(value, list) else [value] if value else []


def _implementers(specs) -> dict[tuple[str, str], list[str]]:
    out: dict = {}
    for s in specs:
        for kind, ids in s.refs.items():
            for i in ids:
                out.setdefault((kind, i), []).append(s.id)
        fw = s.framework
        if fw is not None and fw.reference:
            kind = "cis" if fw.name.startswith("CIS") else "fsbp" if "Foundational" in fw.name else None
            if kind:
                out.setdefault((kind, fw.reference), []).append(s.id)
        out.setdefault(("awsguard", s.id), []).append(s.id)  # awsguard's name reused where the intent is the same
    return {k: sorted(set(v)) for k, v in out.items()}


def build(specs=None) -> dict:
    """The coverage data: per anchor, every check with its status and rules or reason; counts; cited FSBP/CIS."""
    if specs is None:
        from policies.rules import load
        specs = load()
    impl = _implementers(specs)
    dec = decisions()
    result: dict = {"generatedBy": REGENERATE, "statuses": STATUSES, "anchors": {}, "counts": {}, "cited": {}}
    for anchor, checks in anchors().items():
        d = dec.get(anchor, {})
        rows = []
        for c in checks:
            rules = impl.get((anchor, c["id"]), [])
            if anchor == "awsguard" and not rules:
                rules = []
            if rules:
                row = {"status": "implemented", "rules": rules}
            else:
                choice = d.get("byId", {}).get(c["id"])
                for g in _groups(anchor, c):
                    choice = choice or d.get("byGroup", {}).get(g)
                row = ({"status": choice["status"], "reason": choice["reason"]} if choice
                       else {"status": "unclassified", "reason": ""})
            rows.append({"id": c["id"], "title": c.get("title", ""), **row})
        result["anchors"][anchor] = rows
        counts = {s: sum(r["status"] == s for r in rows) for s in list(STATUSES) + ["unclassified"]}
        counts["total"] = len(rows)
        result["counts"][anchor] = {k: v for k, v in counts.items() if v or k in ("implemented", "total")}
    for kind in CITED_ONLY:
        cited = {i: rules for (k, i), rules in impl.items() if k == kind}
        result["cited"][kind] = dict(sorted(cited.items(), key=lambda kv: _natural(kv[0])))
        result["counts"][kind] = {"implemented": len(cited), "total": len(cited)}
    return result


def _natural(ident: str):
    import re
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ident)]


def unknown_citations(specs=None) -> list[str]:
    """'rule: kind id' for every id a rule cites that no anchor list has."""
    if specs is None:
        from policies.rules import load
        specs = load()
    known = {a: {c["id"] for c in checks} for a, checks in anchors().items()}
    return [f"{s.id}: {kind} {i}" for s in specs for kind, ids in s.refs.items() if kind in known
            for i in ids if i not in known[kind]]


def unknown_decisions() -> list[str]:
    known = {a: {c["id"] for c in checks} for a, checks in anchors().items()}
    groups = {a: {g for c in checks for g in _groups(a, c)} for a, checks in anchors().items()}
    bad = []
    for anchor, d in decisions().items():
        if anchor.startswith("_"):
            continue
        if anchor not in known:
            bad.append(f"{anchor}: no such anchor")
            continue
        bad += [f"{anchor} byId {i}" for i in d.get("byId", {}) if i not in known[anchor]]
        bad += [f"{anchor} byGroup {g}" for g in d.get("byGroup", {}) if g not in groups[anchor]]
        bad += [f"{anchor} {i}: status {v.get('status')!r}" for i, v in {**d.get("byId", {}), **d.get("byGroup", {})}.items()
                if v.get("status") not in STATUSES or v.get("status") == "implemented" or not v.get("reason")]
    return bad


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(data: dict | None = None) -> str:
    data = data or build()
    cols = list(STATUSES)
    lines = ["# Policy pack coverage against the anchors' rule lists", "",
             f"Generated from the rule registry by `{REGENERATE}` (do not edit by hand; reasons live in "
             "`policies/coverage-decisions.json`, anchor lists in `policies/anchors/`). Every check of each list "
             "is implemented by a pack rule or carries the reason it is not.", "",
             "| anchor | " + " | ".join(STATUSES[c] for c in cols) + " | total |",
             "|---|" + "---|" * (len(cols) + 1)]
    for anchor, (title, _) in ANCHORS.items():
        c = data["counts"][anchor]
        lines.append(f"| {title} | " + " | ".join(str(c.get(s, 0)) for s in cols) + f" | {c['total']} |")
    for kind, title in CITED_ONLY.items():
        c = data["counts"][kind]
        lines.append(f"| {title} | {c['implemented']} | " + " | ".join("-" for _ in cols[1:]) + f" | {c['total']} |")
    for anchor, (title, _) in ANCHORS.items():
        lines += ["", f"## {title}", "", "| id | check | status | pack rule(s) or reason |", "|---|---|---|---|"]
        for r in data["anchors"][anchor]:
            what = ", ".join(f"`{x}`" for x in r["rules"]) if r["status"] == "implemented" else _cell(r["reason"])
            lines.append(f"| {r['id']} | {_cell(r['title'])} | {STATUSES.get(r['status'], r['status'])} | {what} |")
    for kind, title in CITED_ONLY.items():
        lines += ["", f"## {title}", "", "| id | pack rule(s) |", "|---|---|"]
        for ident, rules in data["cited"][kind].items():
            lines.append(f"| {ident} | " + ", ".join(f"`{x}`" for x in rules) + " |")
    return "\n".join(lines) + "\n"


def as_json(data: dict | None = None) -> str:
    return json.dumps(data or build(), indent=1, sort_keys=False) + "\n"


def write() -> list[str]:
    data = build()
    changed = []
    for path, text in ((COVERAGE_JSON, as_json(data)), (COVERAGE_MD, markdown(data))):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(str(path.relative_to(ROOT)))
    return changed
