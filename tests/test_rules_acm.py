"""Tests for policies/rules/acm.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table, check, names, rec, violations

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

EFS, CERT, RS = "aws:efs/fileSystem:FileSystem", "aws:acm/certificate:Certificate", "aws:redshift/cluster:Cluster"

CASES = [
    ("acm-certificate-secure", "cert-no-ct", CERT, {"domainName": "a.example.com", "validationMethod": "DNS",
                                                    "options": {"certificateTransparencyLoggingPreference": "DISABLED"}},
     "violation"),
    ("acm-certificate-secure", "cert-imported", CERT, {"privateKey": "k", "certificateBody": "b"}, "violation"),
    ("acm-certificate-secure", "cert-imported-preview", CERT, {"privateKey": UNKNOWN, "certificateBody": UNKNOWN},
     "violation"),
    ("acm-certificate-secure", "cert-ok", CERT, {"domainName": "a.example.com", "validationMethod": "DNS"}, "pass"),
    ("acm-certificate-secure", "cert-preview", CERT, {"domainName": "a.example.com", "validationMethod": "DNS",
                                                      "subjectAlternativeNames": [UNKNOWN]}, "pass"),
]


test_case = case_table(CASES)


def test_wildcard_certificates_only_when_disallowed():
    cert = rec(CERT, "wild", {"domainName": "*.example.com", "validationMethod": "DNS"})
    assert violations(check([cert]), "acm-certificate-secure") == []
    r = check([cert], config={"acm-certificate-secure": {"allowWildcard": False}})
    assert names(violations(r, "acm-certificate-secure")) == {"wild"}
