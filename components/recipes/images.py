"""ECR repositories, one building block: the ML tier's repositories and the DR region's replication targets
(components/dr_region.py `DrImages`) are the same repository (scan on push, KMS, tag mutability, the lifecycle
policy below, protected where the stack protects stateful resources)."""
from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def repository(logical: str, *, name: pulumi.Input[str], immutable_tags: bool, kms_key_arn: pulumi.Input[str],
               keep_tagged: int, untagged_days: int, force_delete: bool, tags: pulumi.Input,
               opts: pulumi.ResourceOptions, child: pulumi.ResourceOptions) -> aws.ecr.Repository:
    """A repository `logical` (opts: its own, e.g. the stack's stateful protection) and its lifecycle policy
    (`<logical>-lifecycle`, child options)."""
    repo = aws.ecr.Repository(
        logical, name=name,
        image_tag_mutability="IMMUTABLE" if immutable_tags else "MUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
        encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
            encryption_type="KMS", kms_key=kms_key_arn)],
        force_delete=force_delete, tags=tags, opts=opts)
    aws.ecr.LifecyclePolicy(f"{logical}-lifecycle", repository=repo.name,
                            policy=lifecycle_policy(keep_tagged, untagged_days), opts=child)
    return repo


def lifecycle_policy(keep_tagged: int, untagged_days: int) -> str:
    """Expire untagged images after N days first, then keep only the newest N tagged images."""
    return json.dumps({"rules": [
        {"rulePriority": 1, "description": f"expire untagged images after {untagged_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"keep the last {keep_tagged} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": keep_tagged},
         "action": {"type": "expire"}},
    ]})
