"""Many public programs name every resource of a feature the same ("app"): legal, the URN includes the type."""
import json

import pulumi
import pulumi_aws as aws

tags = {"Owner": "team-a", "Environment": "dev", "CostCenter": "cc-1"}
key = aws.kms.Key("app", description="app data", enable_key_rotation=True, deletion_window_in_days=7, tags=tags)
bucket = aws.s3.Bucket("app", tags=tags)
aws.s3.BucketServerSideEncryptionConfiguration("app", bucket=bucket.id, rules=[
    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=key.arn))])
aws.s3.BucketPublicAccessBlock("app", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                               ignore_public_acls=True, restrict_public_buckets=True)
aws.s3.BucketVersioning("app", bucket=bucket.id,
                        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"))
queue = aws.sqs.Queue("app", kms_master_key_id=key.arn, tags=tags)
topic = aws.sns.Topic("app", kms_master_key_id=key.arn, tags=tags)
log_group = aws.cloudwatch.LogGroup("app", retention_in_days=30, kms_key_id=key.arn, tags=tags)
role = aws.iam.Role("app", assume_role_policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}),
    tags=tags)
aws.iam.RolePolicy("app", role=role.id, policy=pulumi.Output.json_dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue.arn},
                  {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                   "Resource": pulumi.Output.concat(log_group.arn, ":*")}]}))
fn = aws.lambda_.Function(
    "app", runtime="python3.12", handler="index.handler", role=role.arn,
    code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c):\n    return 'ok'\n")}),
    logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
    tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"), reserved_concurrent_executions=5,
    tags=tags)
pulumi.export("functionArn", fn.arn)
pulumi.export("queueUrl", queue.url)
