"""Tests for policies/rules/redshift.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

CASES = [
    ("redshift-cluster-configuration", "rs-plain", RS, {"nodeType": "ra3.xlplus", "publiclyAccessible": False},
     "pass"),
    ("redshift-cluster-configuration", "rs-string-false", RS, {"nodeType": "ra3.xlplus", "encrypted": "false"},
     "violation"),
    ("redshift-cluster-configuration", "rs-string-true", RS, {"nodeType": "ra3.xlplus", "encrypted": "true"}, "pass"),
    ("redshift-cluster-configuration", "rs-enc", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                      "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-configuration", "rs-preview", RS, {"nodeType": "ra3.xlplus", "encrypted": True,
                                                          "kmsKeyId": UNKNOWN, "publiclyAccessible": False}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-nosnap", RS, {"automatedSnapshotRetentionPeriod": 0,
                                                                "encrypted": True}, "violation"),
    ("redshift-cluster-maintenance-settings", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-maintenance-settings", "rs-preview", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-public", RS, {"publiclyAccessible": True, "encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-unset", RS, {"encrypted": True}, "violation"),
    ("redshift-cluster-public-access", "rs-enc", RS, {}, "pass"),
    ("redshift-cluster-public-access", "rs-preview", RS, {}, "pass"),
]


test_case = case_table(CASES)
