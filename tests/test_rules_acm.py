"""Tests for policies/rules/acm.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import functools

import pytest

from policy_harness import UNKNOWN, check, rec, skipped, violations

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


@functools.cache
def _result():
    seen, records = set(), []
    for _, n, t, p, _ in CASES:
        if n not in seen:
            seen.add(n)
            records.append(rec(t, n, p))
    return check(records)


def _names(findings):
    return {f.urn.split("::")[-1] for f in findings}


@pytest.mark.parametrize("policy,name,rtype,props,expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_case(policy, name, rtype, props, expected):
    r = _result()
    assert (name in _names(violations(r, policy))) == (expected == "violation")
    assert (name in _names(skipped(r, policy))) == (expected == "skipped")


def test_wildcard_certificates_only_when_disallowed():
    cert = rec(CERT, "wild", {"domainName": "*.example.com", "validationMethod": "DNS"})
    assert violations(check([cert]), "acm-certificate-secure") == []
    r = check([cert], config={"acm-certificate-secure": {"allowWildcard": False}})
    assert _names(violations(r, "acm-certificate-secure")) == {"wild"}
