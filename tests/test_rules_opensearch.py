"""Tests for policies/rules/opensearch.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, case_table, check, names, rec, skipped, violations

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


# --- issue 31: encryption in transit ---------------------------------------------------------------------------
IN_TRANSIT = {"nodeToNodeEncryption": {"enabled": True},
              "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}


def test_node_to_node_https_and_tls_policy_are_required():
    r = check([
        rec(OS, "n2n-off", {**IN_TRANSIT, "nodeToNodeEncryption": {"enabled": "false"}}),
        rec(OS, "no-https", {**IN_TRANSIT, "domainEndpointOptions": {"enforceHttps": False,
                                                                     "tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"}}),
        rec(ES, "tls10-default", {**IN_TRANSIT, "domainEndpointOptions": {"enforceHttps": True}}),
        rec(OS, "bare", {}),
        rec(OS, "good", IN_TRANSIT),
        rec(OS, "good-pfs-strings", {"nodeToNodeEncryption": {"enabled": "true"}, "domainEndpointOptions": {
            "enforceHttps": "true", "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
            "customEndpointCertificateArn": UNKNOWN}}),
    ])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "opensearch-encryption-in-transit")}
    assert set(found) == {"n2n-off", "no-https", "tls10-default", "bare"}
    assert "nodeToNodeEncryption.enabled" in found["n2n-off"] and "Policy-Min-TLS-1-0" in found["tls10-default"]
    assert not names(skipped(r, "opensearch-encryption-in-transit"))
