"""ECR repositories: scan on push, KMS encryption, immutable tags."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import is_set
from ._lib import flag, fsbp, get, items, resource_policy

ECR_REPOSITORY = "aws:ecr/repository:Repository"


def _scan_on_push(props, report, args):
    if flag(props, "imageScanningConfiguration.scanOnPush") is not True:
        report("imageScanningConfiguration.scanOnPush must be true (or use registry-level enhanced scanning).")


def _ecr_kms(props, report, args):
    configs = items(get(props, "encryptionConfigurations"))
    if not configs or get(configs[0], "encryptionType") != "KMS":
        report("encryptionConfigurations[0].encryptionType must be 'KMS' "
               "(the default is AES256 with an AWS-owned key).")
    elif not is_set(configs[0], "kmsKey"):
        report("encryptionConfigurations[0].kmsKey must name a customer managed key (without it ECR uses the AWS "
               "managed key aws/ecr, whose policy cannot restrict who decrypts).")


def _ecr_immutable(props, report, args):
    mutability = get(props, "imageTagMutability", "MUTABLE")
    if mutability != "IMMUTABLE":
        report(f"imageTagMutability is {mutability}: a tag must always mean the same image (IMMUTABLE).")


POLICIES = [
    resource_policy(
        "ecr-scan-on-push", "ECR repositories must scan images for vulnerabilities on push.", (ECR_REPOSITORY,),
        _scan_on_push, severity=Severity.MEDIUM, framework=fsbp("ECR.1"),
        remediation="image_scanning_configuration={'scan_on_push': True}.",
        tags=["compliance-policies:aws-ecr-repository-enable-image-scan",
              "compliance-policies:aws-ecr-repository-configure-image-scan",
              "ecr", "vulnerability", "CKV_AWS_163"]),
    resource_policy(
        "ecr-kms-encryption", "ECR repositories must be encrypted with a customer managed KMS key.", (ECR_REPOSITORY,),
        _ecr_kms, severity=Severity.MEDIUM,
        remediation="encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <key ARN>}] (set at creation: "
                    "changing it replaces the repository).",
        tags=["ecr", "encryption", "CKV_AWS_136",
              "compliance-policies:aws-ecr-repository-configure-customer-managed-key",
              "compliance-policies:aws-ecr-repository-disallow-unencrypted-repository"]),
    resource_policy(
        "ecr-immutable-tags", "ECR image tags must be immutable (a deployed tag always names the same image).",
        (ECR_REPOSITORY,), _ecr_immutable, severity=Severity.HIGH, framework=fsbp("ECR.2"),
        remediation="image_tag_mutability='IMMUTABLE' (ai-platform:ml.immutableTags, true by default in prod).",
        tags=["compliance-policies:aws-ecr-repository-disallow-mutable-image",
              "ecr", "supply-chain", "CKV_AWS_51"]),
]
