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
        tags=["encryption", "opensearch", "awsguard:elasticsearch-encrypted-at-rest"]),
    resource_policy(
        "elasticsearch-in-vpc-only", "Elasticsearch/OpenSearch domains must be reachable only inside a VPC.",
        SEARCH_DOMAINS, _search_vpc, severity=Severity.HIGH, framework=fsbp("ES.2"),
        remediation="Set vpcOptions with subnetIds and securityGroupIds.",
        tags=["exposure", "opensearch", "awsguard:elasticsearch-in-vpc-only"]),
]
