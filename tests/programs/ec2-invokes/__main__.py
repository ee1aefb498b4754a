"""The aws-py-webserver shape: AMI, default VPC and subnets, account and partition from invokes;
an instance role whose trust and permissions are getPolicyDocument documents."""
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
instance_type = config.get("instanceType") or "t3.micro"

ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                      filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-x86_64"])])
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id])])
me = aws.get_caller_identity()
partition = aws.get_partition()
zones = aws.get_availability_zones(state="available")

trust = aws.iam.get_policy_document(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    actions=["sts:AssumeRole"],
    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="Service", identifiers=["ec2.amazonaws.com"])])])
read_params = aws.iam.get_policy_document(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    sid="ReadOwnParameters",
    actions=["ssm:GetParameter", "ssm:GetParameters"],
    resources=[f"arn:{partition.partition}:ssm:us-east-2:{me.account_id}:parameter/web/*"])])

role = aws.iam.Role("web", assume_role_policy=trust.json)
aws.iam.RolePolicy("web-params", role=role.id, policy=read_params.json)
profile = aws.iam.InstanceProfile("web", role=role.name)

group = aws.ec2.SecurityGroup(
    "web", description="web server", vpc_id=vpc.id,
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=80, to_port=80, cidr_blocks=["0.0.0.0/0"],
                                              description="http"),
             aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"],
                                              description="ssh from anywhere")],
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])])

server = aws.ec2.Instance(
    "web", instance_type=instance_type, ami=ami.id, subnet_id=subnets.ids[0], vpc_security_group_ids=[group.id],
    iam_instance_profile=profile.name, availability_zone=zones.names[0],
    user_data="#!/bin/bash\necho 'Hello, World!' > index.html\nnohup python3 -m http.server 80 &\n",
    tags={"Name": "web"})

pulumi.export("publicIp", server.public_ip)
pulumi.export("amiName", ami.name)
