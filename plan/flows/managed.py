"""AWS managed policies the platform attaches, modelled by name (only the statements that matter to a
flow; an attached managed policy that is not modelled here makes a flow that would otherwise be
denied undecidable, never allowed). Texts abridged from the AWS Managed Policy Reference."""
from __future__ import annotations

_P = "arn:aws:iam::aws:policy/"


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


MANAGED: dict[str, dict] = {
    _P + "service-role/AmazonECSTaskExecutionRolePolicy": _doc(
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                                       "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream",
                                       "logs:PutLogEvents"], "Resource": "*"}),
    _P + "service-role/AWSLambdaVPCAccessExecutionRole": _doc(
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                       "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                       "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                                       "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
         "Resource": "*"}),
    _P + "service-role/AWSLambdaBasicExecutionRole": _doc(
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}),
    _P + "AWSXRayDaemonWriteAccess": _doc(
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                                       "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
         "Resource": "*"}),
    _P + "service-role/AmazonRDSEnhancedMonitoringRole": _doc(
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
         "Resource": "arn:aws:logs:*:*:log-group:RDS*"},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams",
                                       "logs:GetLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:RDS*:log-stream:*"}),
    _P + "service-role/AmazonAPIGatewayPushToCloudWatchLogs": _doc(
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                                       "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents",
                                       "logs:FilterLogEvents"], "Resource": "*"}),
    _P + "service-role/AWS_ConfigRole": _doc(
        {"Effect": "Allow", "Action": ["config:Put*", "config:Get*", "config:List*", "config:Describe*",
                                       "config:BatchGet*", "config:Select*"], "Resource": "*"}),
    _P + "service-role/AWSBackupServiceRolePolicyForBackup": _doc(
        {"Effect": "Allow", "Action": ["backup:DescribeBackupVault", "backup:CopyIntoBackupVault"],
         "Resource": "arn:aws:backup:*:*:backup-vault:*"},
        {"Effect": "Allow", "Action": ["rds:CopyDBSnapshot", "rds:CreateDBSnapshot", "rds:AddTagsToResource",
                                       "rds:DescribeDBSnapshots", "rds:ListTagsForResource", "rds:DescribeDBInstances"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": ["dynamodb:CreateBackup", "dynamodb:DescribeTable", "dynamodb:DescribeBackup",
                                       "dynamodb:ListTagsOfResource", "dynamodb:StartAwsBackupJob"],
         "Resource": "arn:aws:dynamodb:*:*:table/*"},
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKeyWithoutPlaintext"], "Resource": "arn:aws:kms:*:*:key/*",
         "Condition": {"StringLike": {"kms:ViaService": ["ec2.*.amazonaws.com"]}}}),
    _P + "service-role/AWSBackupServiceRolePolicyForRestores": _doc(
        {"Effect": "Allow", "Action": ["rds:RestoreDBInstanceFromDBSnapshot", "dynamodb:RestoreTableFromAwsBackup",
                                       "kms:DescribeKey"], "Resource": "*"}),
    _P + "AmazonEC2ContainerRegistryPullOnly": _doc(
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                                       "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Resource": "*"}),
    _P + "AmazonEC2ContainerRegistryReadOnly": _doc(
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                                       "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories",
                                       "ecr:ListImages", "ecr:DescribeImages", "ecr:BatchGetImage"], "Resource": "*"}),
    _P + "AmazonEKSWorkerNodePolicy": _doc(
        {"Effect": "Allow", "Action": ["ec2:Describe*", "eks:DescribeCluster"], "Resource": "*"}),
    _P + "AmazonEKS_CNI_Policy": _doc(
        {"Effect": "Allow", "Action": ["ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface",
                                       "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:Describe*",
                                       "ec2:DetachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
                                       "ec2:UnassignPrivateIpAddresses"], "Resource": "*"}),
    _P + "AmazonEKSClusterPolicy": _doc(
        {"Effect": "Allow", "Action": ["autoscaling:Describe*", "ec2:Describe*", "elasticloadbalancing:*",
                                       "kms:DescribeKey"], "Resource": "*"}),
    _P + "service-role/AmazonEC2ContainerServiceforEC2Role": _doc(
        {"Effect": "Allow", "Action": ["ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint",
                                       "ecs:Poll", "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession",
                                       "ecs:Submit*", "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                                       "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream",
                                       "logs:PutLogEvents"], "Resource": "*"}),
    _P + "service-role/AWSCodePipelineServiceRole": _doc(
        {"Effect": "Allow", "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "ecs:*", "iam:PassRole",
                                       "s3:*"], "Resource": "*"}),
}
