"""ai-platform: load the stack's settings, build the platform (components/platform.py), export what other
stacks and operators need. No resource logic here."""
import pulumi

from components.config import load_settings
from components.context import required
from components.platform import build

out = build(load_settings())

# Stack outputs: identifiers other stacks and operators need. Never a secret value.
pulumi.export("vpcId", out.network.vpc_id)
pulumi.export("privateSubnetIds", out.network.private_subnet_ids)
pulumi.export("dataKeyArn", out.security.data_key_arn)
pulumi.export("secretArns", out.security.secret_arns)
pulumi.export("albDnsName", out.application.alb_dns_name)
pulumi.export("ecsClusterName", out.application.cluster_name)
pulumi.export("siteUrl", required(out.edge.distribution_domain_name, "edge.distribution_domain_name").apply(
    lambda d: f"https://{d}"))
pulumi.export("apiEndpoint", out.edge.api_endpoint)
pulumi.export("userPoolId", out.edge.user_pool_id)
pulumi.export("userPoolClientId", out.edge.user_pool_client_id)
pulumi.export("eventBusName", out.events.event_bus_name)
pulumi.export("alertsTopicArn", out.events.alerts_topic_arn)
pulumi.export("warningsTopicArn", out.events.warnings_topic_arn)
pulumi.export("ecrRepositoryUrls", out.ml.repository_urls)
pulumi.export("mlFunctionNames", out.ml.function_names)
pulumi.export("bedrockInvokePolicyArn", out.ml.bedrock_invoke_policy_arn)
pulumi.export("datasetUploaderPolicyArn", out.ml.uploader_policy_arn)
pulumi.export("mlSubmitterPolicyArn", out.ml.submitter_policy_arn)
pulumi.export("budgetName", out.governance.budget_name)
pulumi.export("backupVaultName", out.dr.backup_vault_name)
pulumi.export("pipelineNames", out.delivery.pipeline_names if out.delivery else None)
pulumi.export("gitConnectionArn", out.delivery.connection_arn if out.delivery else None)
pulumi.export("pipelineArtifactsBucket", out.delivery.artifacts_bucket_name if out.delivery else None)
if out.dr_region is not None:
    # pilot-light / warm-standby: what `python -m functions.dr_failover --manifest` reads (ids, ARNs, names).
    pulumi.export("drManifest", out.dr_region.manifest)
