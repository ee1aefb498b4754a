"""Tests for policies/rules/efs.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

CASES = [
    ("efs-encrypted", "efs-plain", EFS, {}, "violation"),
    ("efs-encrypted", "efs-aws-key", EFS, {"encrypted": True}, "violation"),
    ("efs-encrypted", "efs-cmk", EFS, {"encrypted": True, "kmsKeyId": "arn:k"}, "pass"),
    ("efs-encrypted", "efs-cmk-preview", EFS, {"encrypted": True, "kmsKeyId": UNKNOWN}, "pass"),
]


test_case = case_table(CASES)
