"""EFS and ACM, plus awsguard's Redshift and Elasticsearch rules kept for standalone org use (this platform
runs neither)."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_set
from ._lib import cis, flag, fsbp, get, items, resource_policy

EFS = "aws:efs/fileSystem:FileSystem"
CERTIFICATE = "aws:acm/certificate:Certificate"
REDSHIFT = "aws:redshift/cluster:Cluster"
SEARCH_DOMAINS = ("aws:elasticsearch/domain:Domain", "aws:opensearch/domain:Domain")


def _efs(props, report, args):
    if flag(props, "encrypted") is not True:
        report("encrypted must be true.")
        return
    # A kmsKeyId from another resource (unknown in a preview) is a customer key: presence decides.
    if (args.get_config() or {}).get("requireCustomerKey", True) and not is_set(props, "kmsKeyId"):
        report("kmsKeyId is not set: the file system uses the AWS managed key aws/elasticfilesystem.")


def _acm(props, report, args):
    cfg = args.get_config() or {}
    if get(props, "options.certificateTransparencyLoggingPreference") == "DISABLED":
        report("options.certificateTransparencyLoggingPreference DISABLED: browsers reject certificates missing "
               "from CT logs and mis-issuance goes unnoticed.")
    algorithm = str(get(props, "keyAlgorithm", "RSA_2048"))
    if algorithm in ("RSA_1024",):
        report(f"keyAlgorithm {algorithm} is below 2048 bits.")
    # presence decides (an imported key is often another resource's output, e.g. tls.PrivateKey)
    if is_set(props, "privateKey") or is_set(props, "certificateBody") or is_set(props, "privateKeyWo"):
        if not cfg.get("allowImported", False):
            report("imported certificates do not renew automatically; request an ACM certificate instead.")
    if not cfg.get("allowWildcard", True):
        names = [get(props, "domainName")] + items(get(props, "subjectAlternativeNames"))
        wild = [n for n in names if isinstance(n, str) and n.startswith("*.")]
        if wild:
            report(f"wildcard name(s) {', '.join(wild)}: a leaked key impersonates every host of the domain.")


def _redshift_config(props, report, args):
    cfg = args.get_config() or {}
    if flag(props, "encrypted", True) != bool(cfg.get("clusterDbEncrypted", True)):  # v7: a string, default "true"
        report(f"encrypted must be {cfg.get('clusterDbEncrypted', True)}.")
    node_types = list(cfg.get("nodeTypes", []))
    if node_types and get(props, "nodeType") not in node_types:
        report(f"nodeType {get(props, 'nodeType')} is not one of {', '.join(node_types)}.")


def _redshift_maintenance(props, report, args):
    cfg = args.get_config() or {}
    if flag(props, "allowVersionUpgrade", True) != bool(cfg.get("allowVersionUpgrade", True)):
        report(f"allowVersionUpgrade must be {cfg.get('allowVersionUpgrade', True)}.")
    window = cfg.get("preferredMaintenanceWindow")
    if window and get(props, "preferredMaintenanceWindow") != window:
        report(f"preferredMaintenanceWindow must be {window}.")
    retention = int(cfg.get("automatedSnapshotRetentionPeriod", 1))
    if get(props, "automatedSnapshotRetentionPeriod", 1) < retention:
        report(f"automatedSnapshotRetentionPeriod must be at least {retention}.")


def _redshift_public(props, report, args):
    if flag(props, "publiclyAccessible") is not False:
        report("publiclyAccessible must be set to false.")


def _search_encrypted(props, report, args):
    if flag(props, "encryptAtRest.enabled") is not True:
        report("encryptAtRest.enabled must be true.")


def _search_vpc(props, report, args):
    if get(props, "vpcOptions") is None:
        report("vpcOptions must place the domain in a VPC.")


POLICIES = [
    resource_policy(
        "efs-encrypted", "EFS file systems must be encrypted with a customer managed KMS key.", (EFS,), _efs,
        severity=Severity.HIGH, framework=cis("2.4.1"),
        remediation="Set encrypted=True and kmsKeyId to a customer managed key (replaces the file system).",
        tags=["encryption", "efs", "awsguard:efs-encrypted", "cdk-nag:AwsSolutions-EFS1", "checkov:CKV_AWS_42"],
        config_schema=PolicyConfigSchema(properties={"requireCustomerKey": {"type": "boolean", "default": True}})),
    resource_policy(
        "acm-certificate-secure", "ACM certificates keep transparency logging, use 2048+ bit keys and renew "
        "automatically (no imported certificates, optionally no wildcards).", (CERTIFICATE,), _acm,
        severity=Severity.MEDIUM, framework=fsbp("ACM.2"),
        remediation="Request DNS-validated ACM certificates with default options; list exact host names.",
        tags=["tls", "acm", "awsguard:acm-certificate-expiration"],
        config_schema=PolicyConfigSchema(properties={
            "allowImported": {"type": "boolean", "default": False},
            "allowWildcard": {"type": "boolean", "default": True}})),
    resource_policy(
        "redshift-cluster-configuration", "Redshift clusters must be encrypted and use allowed node types.",
        (REDSHIFT,), _redshift_config, severity=Severity.HIGH, framework=fsbp("Redshift.10"),
        remediation="Set encrypted=True (and kmsKeyId); pick a node type from nodeTypes; enable logging with an "
                    "aws.redshift.Logging resource.",
        tags=["encryption", "redshift", "awsguard:redshift-cluster-configuration"],
        config_schema=PolicyConfigSchema(properties={
            "clusterDbEncrypted": {"type": "boolean", "default": True},
            "nodeTypes": {"type": "array", "items": {"type": "string"}, "default": []}})),
    resource_policy(
        "redshift-cluster-maintenance-settings", "Redshift clusters must allow version upgrades and keep "
        "automated snapshots.", (REDSHIFT,), _redshift_maintenance, severity=Severity.MEDIUM,
        framework=fsbp("Redshift.3"), remediation="Set allowVersionUpgrade and automatedSnapshotRetentionPeriod.",
        tags=["resilience", "redshift", "awsguard:redshift-cluster-maintenance-settings"],
        config_schema=PolicyConfigSchema(properties={
            "allowVersionUpgrade": {"type": "boolean", "default": True},
            "preferredMaintenanceWindow": {"type": "string", "default": ""},
            "automatedSnapshotRetentionPeriod": {"type": "integer", "minimum": 0, "maximum": 35, "default": 1}})),
    resource_policy(
        "redshift-cluster-public-access", "Redshift clusters must not be publicly accessible.", (REDSHIFT,),
        _redshift_public, severity=Severity.CRITICAL, framework=fsbp("Redshift.1"),
        remediation="Set publiclyAccessible=False explicitly.",
        tags=["exposure", "redshift", "awsguard:redshift-cluster-public-access"]),
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
