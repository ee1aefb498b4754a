"""An application stack on another team's network: the VPC and subnets are that stack's outputs."""
import pulumi
import pulumi_aws as aws

network = pulumi.StackReference(pulumi.Config().require("networkStack"))
vpc_id = network.require_output("vpcId")
subnets = network.require_output("privateSubnetIds")
db_port = network.get_output("dbPort").apply(lambda p: int(p or 5432))

group = aws.ec2.SecurityGroup(
    "app", vpc_id=vpc_id, description="app tasks: out to the database and HTTPS only",
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=db_port, to_port=db_port,
                                            cidr_blocks=["10.0.0.0/8"], description="database"),
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"],
                                            description="https")])
queue = aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True, message_retention_seconds=86400)
aws.sqs.Queue("jobs-dlq", sqs_managed_sse_enabled=True)
endpoint = aws.ec2.VpcEndpoint("sqs", vpc_id=vpc_id, service_name="com.amazonaws.eu-west-1.sqs",
                               vpc_endpoint_type="Interface", private_dns_enabled=True,
                               subnet_ids=subnets, security_group_ids=[group.id])

pulumi.export("vpcId", vpc_id)
pulumi.export("firstSubnet", subnets.apply(lambda ids: ids[0]))
pulumi.export("dbPassword", network.require_output("dbAdminPassword"))
