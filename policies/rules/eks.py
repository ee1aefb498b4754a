"""EKS clusters (aws.eks.Cluster and pulumi-eks' eks:index:Cluster): endpoint access, secrets
encryption, control-plane logging."""
from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import fsbp, get, items, resource_policy
from ._shared import present

EKS_CLUSTER = "aws:eks/cluster:Cluster"

EKS_COMPONENT = "eks:index:Cluster"

EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

WORLD = ("0.0.0.0/0", "::/0")


def _eks_endpoint(props, report, args):
    if args.resource_type == EKS_COMPONENT:
        public = get(props, "endpointPublicAccess", True)
        cidrs = items(get(props, "publicAccessCidrs"))
    else:
        public = get(props, "vpcConfig.endpointPublicAccess", True)
        cidrs = items(get(props, "vpcConfig.publicAccessCidrs"))
    if public is not False and (not cidrs or any(c in WORLD for c in cidrs)):
        report("the public API endpoint is open to the internet: set endpointPublicAccess false (private "
               "endpoint) or restrict publicAccessCidrs.")


def _eks_secrets(props, report, args):
    if args.resource_type == EKS_COMPONENT:
        if not present(props, "encryptionConfigKeyArn"):
            report("encryptionConfigKeyArn must be set to envelope-encrypt Kubernetes secrets with KMS.")
        return
    config = get(props, "encryptionConfig")
    configs = [config] if isinstance(config, Mapping) else items(config)
    for cfg in configs:
        if "secrets" in items(get(cfg, "resources")) and present(get(cfg, "provider") or {}, "keyArn"):
            return
    report("encryptionConfig must cover resources ['secrets'] with provider.keyArn (KMS envelope encryption).")


def _eks_logging(props, report, args):
    required = list((args.get_config() or {}).get("requiredLogTypes", EKS_LOG_TYPES))
    key = "enabledClusterLogTypes"
    enabled = [str(t) for t in items(get(props, key))]
    missing = [t for t in required if t not in enabled]
    if missing:
        report(f"{key} lacks {', '.join(missing)}.")


POLICIES = [
    resource_policy(
        "eks-endpoint-restricted", "The EKS API endpoint must be private or restricted to known CIDRs.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_endpoint, severity=Severity.HIGH, framework=fsbp("EKS.1"),
        remediation="vpc_config: endpoint_private_access=True, endpoint_public_access=False (or public_access_cidrs "
                    "set to office/VPN ranges).",
        tags=["eks", "exposure", "checkov:CKV_AWS_39", "checkov:CKV_AWS_38", "cdk-nag:AwsSolutions-EKS1",
              "compliance-policies:aws-eks-cluster-disallow-api-endpoint-public-access"]),
    resource_policy(
        "eks-secrets-encryption", "EKS must envelope-encrypt Kubernetes secrets with KMS.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_secrets, severity=Severity.HIGH, framework=fsbp("EKS.3"),
        remediation="encryption_config={resources: ['secrets'], provider: {key_arn: <KMS key>}}.",
        tags=["compliance-policies:aws-eks-cluster-enable-cluster-encryption-config",
              "eks", "encryption", "checkov:CKV_AWS_58"]),
    resource_policy(
        "eks-control-plane-logging", "EKS must send every control-plane log type to CloudWatch Logs.",
        (EKS_CLUSTER, EKS_COMPONENT), _eks_logging, severity=Severity.MEDIUM, framework=fsbp("EKS.8"),
        remediation="enabled_cluster_log_types=['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].",
        tags=["cdk-nag:AwsSolutions-EKS2",
              "eks", "logging", "checkov:CKV_AWS_37"],
        config_schema=PolicyConfigSchema(properties={
            "requiredLogTypes": {"type": "array", "items": {"type": "string", "enum": EKS_LOG_TYPES},
                                 "default": EKS_LOG_TYPES}})),
]
