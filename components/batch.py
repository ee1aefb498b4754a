"""AWS Batch for spot-priced batch jobs: a managed SPOT compute environment that scales to zero, a
job queue and a job definition template teams copy.

No service role is passed: Batch then uses its service-linked role (AWSServiceRoleForBatch), which
AWS maintains at least privilege. Instances get the ECS-for-EC2 managed policy only; job code runs
with the job role (the ECS task role, which Batch containers assume through ecs-tasks).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .config.application import BatchSettings
from .context import Platform
from .eks import launch_template
from .recipes.log_groups import log_group
from .recipes.roles import MANAGED, service_role


@dataclasses.dataclass
class BatchResources:
    compute_environment: aws.batch.ComputeEnvironment
    job_queue: aws.batch.JobQueue
    job_definition: aws.batch.JobDefinition
    launch_template: aws.ec2.LaunchTemplate


def batch_environment(parent: pulumi.Resource, p: Platform, b: BatchSettings, *,
                      subnet_ids: pulumi.Input[Sequence[str]], security_group_id: pulumi.Input[str],
                      job_role_arn: pulumi.Input[str], logs_key_arn: pulumi.Input[str]) -> BatchResources:
    child = pulumi.ResourceOptions(parent=parent)
    tags = p.tags(p.namer.base("batch"))

    instance = service_role(
        parent, p, "batch-instance-role", service="ec2.amazonaws.com", scope_to_account=False,
        description="Batch container instances: ECS agent only", tag_name=p.namer.base("batch"), tags=tags,
        managed={"batch-instance-ecs": MANAGED + "service-role/AmazonEC2ContainerServiceforEC2Role"})
    instance_role, [attachment] = instance.role, instance.attachments
    profile = aws.iam.InstanceProfile("batch-instance-profile", role=instance_role.name, tags=tags, opts=child)

    template = launch_template("batch-lt", parent, p, disk_size=30, hop_limit=1,
                               description="Batch instances: IMDSv2 only, encrypted gp3 root volume")

    # Auto-named: most compute-resource changes replace the environment, and the replacement is
    # created (and the queue repointed) before the old one is deleted.
    compute = aws.batch.ComputeEnvironment(
        "batch-spot", type="MANAGED", state="ENABLED",
        compute_resources=aws.batch.ComputeEnvironmentComputeResourcesArgs(
            type="SPOT", allocation_strategy="SPOT_CAPACITY_OPTIMIZED",
            min_vcpus=b.min_vcpus, max_vcpus=b.max_vcpus, instance_types=list(b.instance_types),
            instance_role=profile.arn, subnets=subnet_ids, security_group_ids=[security_group_id],
            launch_template=aws.batch.ComputeEnvironmentComputeResourcesLaunchTemplateArgs(
                launch_template_id=template.id, version="$Latest"),
            ec2_configurations=[aws.batch.ComputeEnvironmentComputeResourcesEc2ConfigurationArgs(
                image_type="ECS_AL2023")],
            tags=tags),
        tags=tags, opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachment]))

    queue = aws.batch.JobQueue(
        "batch-queue", name=p.namer.physical("batch", "jobs"), state="ENABLED", priority=b.queue_priority,
        compute_environment_orders=[aws.batch.JobQueueComputeEnvironmentOrderArgs(
            order=1, compute_environment=compute.arn)],
        tags=tags, opts=child)

    log_name = p.namer.log_group("batch", "jobs")
    log_group(parent, p, "batch-job-logs", log_name, kms_key_arn=logs_key_arn, tags=tags)
    container = {
        "image": b.job_image,
        "command": ["echo", "override the command when submitting a job"],
        "jobRoleArn": job_role_arn,
        "resourceRequirements": [{"type": "VCPU", "value": str(b.job_vcpus)},
                                 {"type": "MEMORY", "value": str(b.job_memory)}],
        "readonlyRootFilesystem": True,
        "privileged": False,
        "user": "1000:1000",
        "environment": [{"name": "ENVIRONMENT", "value": p.environment}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_name, "awslogs-region": p.region, "awslogs-stream-prefix": "job"}},
    }
    definition = aws.batch.JobDefinition(
        "batch-job-template", name=p.namer.physical("batch", "job-template"), type="container",
        platform_capabilities=["EC2"], container_properties=pulumi.Output.json_dumps(container),
        retry_strategy=aws.batch.JobDefinitionRetryStrategyArgs(
            attempts=b.job_attempts,
            # Retry only when Spot reclaimed the host; a failing job fails fast.
            evaluate_on_exits=[aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(
                                   action="RETRY", on_status_reason="Host EC2*"),
                               aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(
                                   action="EXIT", on_reason="*")]),
        timeout=aws.batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=b.job_timeout),
        propagate_tags=True, tags=tags, opts=child)
    return BatchResources(compute_environment=compute, job_queue=queue, job_definition=definition,
                          launch_template=template)
