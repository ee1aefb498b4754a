"""Copy the anchors' rule lists into policies/anchors/*.json (the coverage table and its tests read these copies,
never ../shared). Run once when the reference lists change:

    python policies/anchors/import_anchors.py /work/shared/reference/policy

Sources (see anchors.md there): checkov's AWS Terraform checks by family (checkov HEAD 03d5fdad), cdk-nag's
AwsSolutions pack (HEAD ca6d1b5), Pulumi's compliance-ready policies for AWS classic (712a901), AWSGuard
(pulumi-policy-aws HEAD 4355f3b, the table in anchors.md section 1).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def checkov(src: Path) -> list[dict]:
    out: dict[str, dict] = {}
    family = ""
    for line in (src / "checkov-aws-by-family.txt").read_text().splitlines():
        if line.startswith("## "):
            family = re.sub(r"\s*\(\d+\)$", "", line[3:]).strip()
            continue
        parts = line.split("\t")
        if not parts[0].startswith("CKV"):
            continue
        ident, title, types, kind = (parts + ["", "", ""])[:4]
        entry = out.setdefault(ident, {"id": ident, "title": title.strip(), "types": types.split(",") if types else [],
                                       "kind": kind, "families": []})
        if family not in entry["families"]:
            entry["families"].append(family)
    return sorted(out.values(), key=lambda e: (e["id"].startswith("CKV2"), int(e["id"].rsplit("_", 1)[1])))


def cdk_nag(src: Path) -> list[dict]:
    rows = [line.split("\t", 1) for line in (src / "cdk-nag-awssolutions.tsv").read_text().splitlines() if line]
    return sorted(({"id": i, "title": t.strip(), "group": re.sub(r"\d+$", "", i.split("-", 1)[1])} for i, t in rows),
                  key=lambda e: e["id"])


def pulumi(src: Path) -> list[dict]:
    out = []
    for line in (src / "pulumi-compliance-policies-aws.txt").read_text().splitlines():
        if not line.strip():
            continue
        name, severity, frameworks, level, description = line.split("|", 4)
        out.append({"id": name, "title": description, "severity": severity, "frameworks": frameworks.split(",")
                    if frameworks else [], "service": name.split("-")[1]})
    return sorted(out, key=lambda e: e["id"])


def awsguard(src: Path) -> list[dict]:
    text = (src / "anchors.md").read_text()
    section = text.split("## 1. AWSGuard", 1)[1].split("\n---", 1)[0]
    out = []
    for line in section.splitlines():
        m = re.match(r"\| ([a-z0-9-]+)(?: \([^|]*\))? \| (.*?) \| (.*?) \|", line)
        if m and m.group(1) not in ("rule",):
            out.append({"id": m.group(1), "title": m.group(3).strip(), "types": m.group(2).strip()})
    return sorted(out, key=lambda e: e["id"])


def main(argv=None) -> int:
    src = Path((argv or sys.argv[1:] or ["../shared/reference/policy"])[0])
    for name, fn in (("checkov", checkov), ("cdk-nag", cdk_nag), ("pulumi", pulumi), ("awsguard", awsguard)):
        data = fn(src)
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(f"policies/anchors/{name}.json: {len(data)} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
