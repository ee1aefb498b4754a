"""Tags built inside `apply` from another resource's output (a common way to stamp a build id or an
account id): in a new stack's preview the whole `tags` map is unknown. Plus a secret config value."""
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
team = config.require("team")
db_password = config.require_secret("dbPassword")
me = aws.get_caller_identity()

key = aws.kms.Key("data", description="data key", enable_key_rotation=True, deletion_window_in_days=30,
                  tags={"Team": team})
# The tags depend on the key's id: unknown until the key exists.
tags = key.key_id.apply(lambda kid: {"Team": team, "DataKey": kid, "Environment": pulumi.get_stack(),
                                     "Owner": team, "CostCenter": f"cc-{team}"})

queue = aws.sqs.Queue("events", kms_master_key_id=key.arn, tags=tags)
dlq = aws.sqs.Queue("events-dlq", kms_master_key_id=key.arn, tags=tags)
topic = aws.sns.Topic("alerts", kms_master_key_id=key.arn, tags=tags)
secret = aws.secretsmanager.Secret("db-password", kms_key_id=key.arn, tags=tags)
aws.secretsmanager.SecretVersion("db-password", secret_id=secret.id, secret_string=db_password)
table = aws.dynamodb.Table(
    "items", billing_mode="PAY_PER_REQUEST", hash_key="pk",
    attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
    server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=key.arn),
    point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
    deletion_protection_enabled=True, tags=tags, opts=pulumi.ResourceOptions(protect=True))
pulumi.export("queueUrl", queue.url)
pulumi.export("account", me.account_id)
pulumi.export("dbPassword", db_password)
