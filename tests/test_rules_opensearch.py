"""Tests for policies/rules/opensearch.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table

ES, OS = "aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain"

ES, OS = "aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain"

CASES = [
    ("elasticsearch-encrypted-at-rest", "es-plain", ES, {"vpcOptions": {"subnetIds": ["s"]}}, "violation"),
    ("elasticsearch-encrypted-at-rest", "os-enc", OS, {"encryptAtRest": {"enabled": True},
                                                       "vpcOptions": {"subnetIds": ["s"]}}, "pass"),
    ("elasticsearch-encrypted-at-rest", "os-preview", OS, {"encryptAtRest": {"enabled": True, "kmsKeyId": UNKNOWN},
                                                           "vpcOptions": {"subnetIds": UNKNOWN}}, "pass"),
    ("elasticsearch-in-vpc-only", "os-public", OS, {"encryptAtRest": {"enabled": True}}, "violation"),
    ("elasticsearch-in-vpc-only", "os-enc", OS, {}, "pass"),
    ("elasticsearch-in-vpc-only", "os-preview", OS, {}, "pass"),
]


test_case = case_table(CASES)
