"""A small worker: a role handed to its attachments as the Role object itself, a function handed to its
permission as the Function object, a VPC handed to its subnet and group as the Vpc object."""
import json

import pulumi
import pulumi_aws as aws

trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]})
role = aws.iam.Role("worker", assume_role_policy=trust)

network = aws.ec2.Vpc("network", cidr_block="10.20.0.0/16", enable_dns_hostnames=True)
subnet = aws.ec2.Subnet("worker", vpc_id=network, cidr_block="10.20.1.0/24")
group = aws.ec2.SecurityGroup("worker", vpc_id=network, description="worker egress only",
                              egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443,
                                                                      cidr_blocks=["0.0.0.0/0"],
                                                                      description="https out")])

fn = aws.lambda_.Function(
    "worker", role=role.arn, runtime="python3.12", handler="index.handler", timeout=30,
    code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(event, context):\n    return 'ok'\n")}),
    vpc_config=aws.lambda_.FunctionVpcConfigArgs(subnet_ids=[subnet.id], security_group_ids=[group.id]))
bucket = aws.s3.Bucket("uploads")
aws.lambda_.Permission("uploads-invoke", function=fn, action="lambda:InvokeFunction",
                       principal="s3.amazonaws.com", source_arn=bucket.arn)

# Last, as programs often end: the reference is the final registration (the race was lost most there).
aws.iam.RolePolicyAttachment("worker-logs", role=role,
                             policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
aws.iam.RolePolicyAttachment("worker-vpc", role=role,
                             policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")

pulumi.export("subnetVpc", subnet.vpc_id)
pulumi.export("functionName", fn.name)
