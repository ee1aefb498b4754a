"""Redshift clusters (awsguard's rules). pulumi-aws 7: `encrypted` is a string defaulting to "true"."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, resource_policy

REDSHIFT = "aws:redshift/cluster:Cluster"


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


POLICIES = [
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
]
