"""Tests for policies/rules/eks.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

EKS = "aws:eks/cluster:Cluster"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- EKS ---------------------------------------------------------------------------------------------
GOOD_EKS = {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["s"]},
            "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}},
            "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}


def test_eks_endpoint_violations():
    r = check([rec(EKS, "default-public", {**GOOD_EKS, "vpcConfig": {"subnetIds": ["s"]}}),
               rec(EKS, "world", {**GOOD_EKS, "vpcConfig": {"endpointPublicAccess": True,
                                                            "publicAccessCidrs": ["0.0.0.0/0"]}})])
    assert names(r, "eks-endpoint-restricted") == ["default-public", "world"]


def test_eks_endpoint_pass_private_or_restricted():
    r = check([rec(EKS, "private", GOOD_EKS),
               rec(EKS, "restricted", {**GOOD_EKS, "vpcConfig": {"endpointPublicAccess": True,
                                                                 "publicAccessCidrs": ["203.0.113.0/24"]}})])
    assert names(r, "eks-endpoint-restricted") == []


def test_eks_endpoint_preview_unknown_subnets_still_decides():
    r = check([rec(EKS, "private", {**GOOD_EKS, "vpcConfig": {**GOOD_EKS["vpcConfig"], "subnetIds": UNKNOWN}})])
    assert names(r, "eks-endpoint-restricted") == [] and not skipped(r, "eks-endpoint-restricted")


def test_eks_secrets_encryption_violation():
    r = check([rec(EKS, "none", {k: v for k, v in GOOD_EKS.items() if k != "encryptionConfig"}),
               rec(EKS, "no-secrets", {**GOOD_EKS, "encryptionConfig": {"resources": [], "provider": {"keyArn": "k"}}}),
               rec(EKS, "no-key", {**GOOD_EKS, "encryptionConfig": {"resources": ["secrets"], "provider": {}}})])
    assert names(r, "eks-secrets-encryption") == ["no-key", "no-secrets", "none"]


def test_eks_secrets_encryption_pass():
    assert names(check([rec(EKS, "ok", GOOD_EKS)]), "eks-secrets-encryption") == []


def test_eks_secrets_encryption_preview_unknown_key_arn_is_a_key():
    r = check([rec(EKS, "ok", {**GOOD_EKS, "encryptionConfig": {"resources": ["secrets"],
                                                                 "provider": {"keyArn": UNKNOWN}}})])
    assert names(r, "eks-secrets-encryption") == [] and not skipped(r, "eks-secrets-encryption")


def test_eks_logging_violation_names_missing_types():
    [v] = violations(check([rec(EKS, "c", {**GOOD_EKS, "enabledClusterLogTypes": ["api"]})]),
                     "eks-control-plane-logging")
    assert "audit, authenticator, controllerManager, scheduler" in v.message


def test_eks_logging_pass_and_configurable():
    assert names(check([rec(EKS, "c", GOOD_EKS)]), "eks-control-plane-logging") == []
    r = check([rec(EKS, "c", {**GOOD_EKS, "enabledClusterLogTypes": ["audit"]})],
              config={"eks-control-plane-logging": {"requiredLogTypes": ["audit"]}})
    assert names(r, "eks-control-plane-logging") == []


def test_eks_logging_preview_unknown_role_still_decides():
    r = check([rec(EKS, "c", {**GOOD_EKS, "roleArn": UNKNOWN})])
    assert names(r, "eks-control-plane-logging") == [] and not skipped(r, "eks-control-plane-logging")
