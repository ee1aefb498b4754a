"""OpenSearch / Elasticsearch domains: encryption at rest and VPC-only access (awsguard's names)."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import flag, fsbp, get, resource_policy

SEARCH_DOMAINS = ("aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain")


def _search_encrypted(props, report, args):
    if flag(props, "encryptAtRest.enabled") is not True:
        report("encryptAtRest.enabled must be true.")


def _search_vpc(props, report, args):
    if get(props, "vpcOptions") is None:
        report("vpcOptions must place the domain in a VPC.")


POLICIES = [
    resource_policy(
        "elasticsearch-encrypted-at-rest", "Elasticsearch/OpenSearch domains must be encrypted at rest.",
        SEARCH_DOMAINS, _search_encrypted, severity=Severity.HIGH, framework=fsbp("ES.1"),
        remediation="Set encryptAtRest={'enabled': True, 'kmsKeyId': ...}.",
        tags=["checkov:CKV_AWS_5", "cdk-nag:AwsSolutions-OS8",
              "encryption", "opensearch", "awsguard:elasticsearch-encrypted-at-rest"]),
    resource_policy(
        "elasticsearch-in-vpc-only", "Elasticsearch/OpenSearch domains must be reachable only inside a VPC.",
        SEARCH_DOMAINS, _search_vpc, severity=Severity.HIGH, framework=fsbp("ES.2"),
        remediation="Set vpcOptions with subnetIds and securityGroupIds.",
        tags=["checkov:CKV_AWS_137", "cdk-nag:AwsSolutions-OS1",
              "exposure", "opensearch", "awsguard:elasticsearch-in-vpc-only"]),
]


# --- encryption in transit (issue 31) -------------------------------------------------------------------------
# TLSSecurityPolicy values (botocore's opensearch model): every Policy-Min-TLS-1-2-* policy; 1-0 is the default.
MODERN_TLS_PREFIX = "Policy-Min-TLS-1-2-"


def _search_in_transit(props, report, args):
    problems = []
    if flag(props, "nodeToNodeEncryption.enabled") is not True:
        problems.append("nodeToNodeEncryption.enabled must be true (traffic between data nodes is in clear)")
    if flag(props, "domainEndpointOptions.enforceHttps") is not True:
        problems.append("domainEndpointOptions.enforceHttps must be true")
    policy = get(props, "domainEndpointOptions.tlsSecurityPolicy", "Policy-Min-TLS-1-0-2019-07")
    if not str(policy).startswith(MODERN_TLS_PREFIX):
        problems.append(f"domainEndpointOptions.tlsSecurityPolicy {policy!r} accepts TLS below 1.2; use a "
                        f"{MODERN_TLS_PREFIX}* policy")
    if problems:
        report("; ".join(problems) + ".")


POLICIES.append(resource_policy(
    "opensearch-encryption-in-transit", "OpenSearch/Elasticsearch domains must encrypt node-to-node traffic and "
    "require HTTPS with TLS 1.2+.", SEARCH_DOMAINS, _search_in_transit, severity=Severity.HIGH,
    framework=fsbp("Opensearch.3"),
    remediation="node_to_node_encryption={'enabled': True}, domain_endpoint_options={'enforce_https': True, "
                "'tls_security_policy': 'Policy-Min-TLS-1-2-2019-07'} (node-to-node needs a blue/green update).",
    refs={"cdk-nag": "AwsSolutions-OS2", "fsbp": ["ES.3", "Opensearch.8", "ES.8"]},
    tags=["checkov:CKV_AWS_6", "checkov:CKV_AWS_83",
          "opensearch", "encryption"]))
