"""The service role recipe: a role only the named AWS service may assume (scoped to this account where
the service sends aws:SourceAccount), with its managed policies and inline policies, each its own
resource so the pack and the flow check see exactly what was granted.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from ..context import Platform, assume_role_policy

MANAGED = "arn:aws:iam::aws:policy/"


@dataclasses.dataclass(frozen=True)
class ServiceRole:
    role: aws.iam.Role
    attachments: tuple              # aws.iam.RolePolicyAttachment, in the order given
    policies: Mapping[str, aws.iam.RolePolicy]

    @property
    def grants(self) -> list:
        """Everything that must exist before the role is used (IAM is eventually consistent)."""
        return [*self.attachments, *self.policies.values()]


def service_role(parent: pulumi.Resource, platform: Platform, logical_name: str, *, service: str,
                 description: str, tag_name: str, name: str | None = None,
                 managed: Mapping[str, str] | None = None, inline: Mapping[str, pulumi.Input[str]] | None = None,
                 scope_to_account: bool = True, tags: dict | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> ServiceRole:
    """`managed`: logical name -> managed policy ARN; `inline`: logical name -> policy document.
    `tag_name` is the role's Name tag (from the naming helper); `name` an explicit IAM name (Namer.physical)."""
    p = platform
    child = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts)
    role = aws.iam.Role(
        logical_name, name=name, description=description,
        assume_role_policy=assume_role_policy(service, p.account_id if scope_to_account else None),
        tags=tags if tags is not None else p.tags(tag_name), opts=child)
    attachments = tuple(aws.iam.RolePolicyAttachment(key, role=role.name, policy_arn=arn, opts=child)
                        for key, arn in (managed or {}).items())
    policies = {key: aws.iam.RolePolicy(key, role=role.id, policy=doc, opts=child)
                for key, doc in (inline or {}).items()}
    return ServiceRole(role=role, attachments=attachments, policies=policies)
