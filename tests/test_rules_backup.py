"""Tests for policies/rules/backup.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

PROD = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

DEV = dict(PROD, Environment="dev")

SELECTION = "aws:backup/selection:Selection"

RDS = "aws:rds/instance:Instance"

TABLE = "aws:dynamodb/table:Table"


def names(found) -> list[str]:
    return sorted(v.urn.split("::")[-1] for v in found)


# --- backup-plan-covers-stateful -------------------------------------------------------------
def test_stateful_resources_outside_every_selection_are_reported():
    r = check([rec(RDS, "db", {"tags": PROD}), rec(TABLE, "table", {"tags": PROD}),
               rec(RDS, "replica", {"tags": PROD, "replicateSourceDb": "db"}),
               rec(TABLE, "dev-table", {"tags": DEV}),
               rec(SELECTION, "sel", {"resources": ["arn:aws:rds:us-east-1:1:db:other"]})])
    assert names(violations(r, "backup-plan-covers-stateful")) == ["db", "table"]


def test_stateful_resources_selected_by_arn_or_by_tag_pass():
    r = check([rec(RDS, "db", {"tags": PROD}), rec(TABLE, "table", {"tags": dict(PROD, Backup="true")}),
               rec(SELECTION, "by-arn", {"resources": ["arn:aws:rds:us-east-1:1:db:db"]}, prop_deps={"resources": ["db"]}),
               rec(SELECTION, "by-tag", {"selectionTags": [{"type": "STRINGEQUALS", "key": "Backup", "value": "true"}]})])
    assert violations(r, "backup-plan-covers-stateful") == []


def test_selection_by_arn_unknown_in_preview_still_covers():
    r = check([rec(RDS, "db", {"tags": PROD, "identifier": UNKNOWN}),
               rec(SELECTION, "by-arn", {"resources": [UNKNOWN], "planId": UNKNOWN, "iamRoleArn": UNKNOWN},
                   prop_deps={"resources": ["db"]})])
    assert violations(r, "backup-plan-covers-stateful") == [] and skipped(r, "backup-plan-covers-stateful") == []
