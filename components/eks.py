"""EKS for Kubernetes workloads: a private control plane with envelope-encrypted secrets and every
control-plane log type, an OIDC provider for service-account roles (IRSA), and one managed node
group whose launch template enforces IMDSv2 (hop limit 1: pods use IRSA, not the node role) and
encrypted gp3 root volumes.

Plain pulumi-aws rather than the `pulumi_eks` component: the component is remote (its children are
invisible to tests and to the offline plan) and adds a kubeconfig/provider this program never uses.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .config.application import EksSettings
from .context import Platform, policy_json
from .recipes.log_groups import log_group
from .recipes.roles import MANAGED, service_role

CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")


@dataclasses.dataclass
class EksResources:
    cluster: aws.eks.Cluster
    node_group: aws.eks.NodeGroup
    oidc_provider: aws.iam.OpenIdConnectProvider
    launch_template: aws.ec2.LaunchTemplate


def launch_template(name: str, parent: pulumi.Resource, p: Platform, *, disk_size: int, hop_limit: int,
                    description: str) -> aws.ec2.LaunchTemplate:
    """IMDSv2-only metadata and an encrypted gp3 root volume. Encrypted with the account's EBS key, not
    a customer key: Auto Scaling's service-linked role would need a grant in that key's policy."""
    tags = p.tags(p.namer.base(name))
    return aws.ec2.LaunchTemplate(
        name, description=description, update_default_version=True,
        monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=hop_limit,
            instance_metadata_tags="disabled"),
        block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name="/dev/xvda",
            ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                volume_size=disk_size, volume_type="gp3", encrypted="true", delete_on_termination="true"))],
        tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                            for kind in ("instance", "volume", "network-interface")],
        tags=tags, opts=pulumi.ResourceOptions(parent=parent))


def eks_cluster(parent: pulumi.Resource, p: Platform, e: EksSettings, *, subnet_ids: pulumi.Input[Sequence[str]],
                secrets_key_arn: pulumi.Input[str], secrets_key_alias: str,
                logs_key_arn: pulumi.Input[str]) -> EksResources:
    child = pulumi.ResourceOptions(parent=parent)
    account = p.account_id
    name = p.namer.physical("eks", "apps")
    tags = p.tags(name)

    # Scoped by the key's alias (published by the security tier) rather than by its ARN, which is
    # unknown until the key exists: the policy stays decidable in a preview of a new stack.
    cluster_role = service_role(
        parent, p, "eks-cluster-role", service="eks.amazonaws.com", description=f"EKS control plane of {name}",
        tag_name=name, tags=tags, managed={f"eks-cluster-{pol}": MANAGED + pol for pol in CLUSTER_POLICIES},
        inline={"eks-cluster-secrets-key": policy_json(
            {"Sid": "EnvelopeEncryptSecrets", "Effect": "Allow",
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
             "Resource": account.apply(lambda a: f"arn:aws:kms:{p.region}:{a}:key/*"),
             "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": secrets_key_alias}}})})
    attachments = cluster_role.grants

    # EKS writes to this exact group; creating it first gives it KMS and a retention.
    control_plane_logs = log_group(parent, p, "eks-control-plane-logs",
                                   p.namer.service_log_group("/aws/eks", name, "cluster"),
                                   kms_key_arn=logs_key_arn, retention="audit", tags=tags)

    public = list(e.public_access_cidrs)
    cluster = aws.eks.Cluster(
        "eks-cluster", name=name, version=e.version, role_arn=cluster_role.role.arn,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=subnet_ids, endpoint_private_access=True, endpoint_public_access=bool(public),
            public_access_cidrs=public or None),
        encryption_config=aws.eks.ClusterEncryptionConfigArgs(
            resources=["secrets"], provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key_arn)),
        enabled_cluster_log_types=list(e.log_types),
        access_config=aws.eks.ClusterAccessConfigArgs(authentication_mode="API",
                                                      bootstrap_cluster_creator_admin_permissions=True),
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=e.support_type),
        deletion_protection=p.protect,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*attachments, control_plane_logs]))

    oidc = aws.iam.OpenIdConnectProvider(
        "eks-oidc", url=cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer),  # type: ignore[index]  # set once created
        client_id_lists=["sts.amazonaws.com"], thumbprint_lists=[e.oidc_thumbprint], tags=tags, opts=child)

    nodes = service_role(
        parent, p, "eks-node-role", service="ec2.amazonaws.com", description=f"Worker nodes of {name}",
        tag_name=p.namer.base("eks-nodes"), scope_to_account=False,
        managed={f"eks-node-{pol}": MANAGED + pol for pol in NODE_POLICIES})
    node_role, node_attachments = nodes.role, list(nodes.attachments)

    template = launch_template("eks-nodes-lt", parent, p, disk_size=e.disk_size, hop_limit=1,
                               description=f"Worker nodes of {name}: IMDSv2 only, encrypted gp3 root volume")
    node_group = aws.eks.NodeGroup(
        "eks-nodes", cluster_name=cluster.name, node_role_arn=node_role.arn, subnet_ids=subnet_ids,
        instance_types=list(e.instance_types), capacity_type=e.capacity_type, ami_type="AL2023_x86_64_STANDARD",
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=e.min_size, max_size=e.max_size,
                                                          desired_size=e.desired_size),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id,
                                                            version=template.latest_version.apply(str)),
        tags=p.tags(p.namer.base("eks-nodes")),
        # The cluster autoscaler owns the desired size after creation.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=node_attachments,
                                    ignore_changes=["scalingConfig.desiredSize"]))
    return EksResources(cluster=cluster, node_group=node_group, oidc_provider=oidc, launch_template=template)
