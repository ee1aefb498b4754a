"""Network tier: the VPC (awsx), flow logs, endpoints, and the baseline security-group chain.

Security groups form one chain: internet -> load balancer (80/443 only) -> application (app ports
only from the LB group) -> data (data ports only from the application group). Rules are separate
`aws.vpc.SecurityGroup{Ingress,Egress}Rule` resources so no group mixes inline and separate rules.
"""
from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from .config.network import NetworkSettings
from .context import Platform, policy_json, publish
from .recipes.log_groups import log_group as make_log_group
from .recipes.roles import service_role

NAT = {"none": awsx.ec2.NatGatewayStrategy.NONE, "single": awsx.ec2.NatGatewayStrategy.SINGLE,
       "one-per-az": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ}


@dataclasses.dataclass(frozen=True)
class NetworkTierArgs:
    platform: Platform
    settings: NetworkSettings
    logs_key_arn: pulumi.Input[str]


@dataclasses.dataclass(frozen=True)
class NetworkOutputs:
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    public_subnet_ids: pulumi.Output
    private_subnet_ids: pulumi.Output
    isolated_subnet_ids: pulumi.Output
    lb_security_group_id: pulumi.Output[str]
    vpc_link_security_group_id: pulumi.Output[str]
    ml_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]
    data_security_group_id: pulumi.Output[str]
    endpoint_security_group_id: pulumi.Output[str]
    batch_security_group_id: pulumi.Output[str]


def default_acl_ingress(cidr: str) -> list[dict]:
    """The adopted default ACL's ingress: anything from inside the VPC; from anywhere else TCP return traffic on
    the ephemeral ports only, with RDP's 3389 left out (the ACL is stateless: NAT and outbound HTTPS replies)."""
    return [dict(rule_no=100, action="allow", protocol="-1", cidr_block=cidr, from_port=0, to_port=0),
            dict(rule_no=200, action="allow", protocol="tcp", cidr_block="0.0.0.0/0", from_port=1024, to_port=3388),
            dict(rule_no=210, action="allow", protocol="tcp", cidr_block="0.0.0.0/0", from_port=3390, to_port=65535)]


def gateway_endpoint_policy(service: str, region: str, account: str) -> str:
    """A gateway endpoint reaches only this account's buckets or tables (no copy out to another account's bucket
    through the endpoint); S3 also the AWS-owned buckets ECR image layers and the Amazon Linux repositories
    are served from (container pulls and instance updates go through this endpoint)."""
    statements = [{"Sid": "OwnAccountOnly", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:ResourceAccount": account}}}]
    if service == "s3":
        statements.append({
            "Sid": "AwsOwnedReadOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": [f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
                         f"arn:aws:s3:::al2023-repos-{region}-*/*", f"arn:aws:s3:::amazonlinux-2-repos-{region}/*"]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class NetworkTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__(p.tier_type("Network"), name, None, p.tier_options(opts))
        n = args.settings
        child = pulumi.ResourceOptions(parent=self)
        base = p.namer.base()

        vpc = awsx.ec2.Vpc(
            p.component_name("vpc"),
            cidr_block=n.cidr,
            number_of_availability_zones=n.az_count,
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, cidr_mask=n.public_subnet_mask,
                                        tags=p.tags(Tier="public")),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, cidr_mask=n.private_subnet_mask,
                                        tags=p.tags(Tier="private")),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.ISOLATED, cidr_mask=n.isolated_subnet_mask,
                                        tags=p.tags(Tier="isolated")),
            ],
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=NAT[n.nat_strategy]),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=p.tags(base),  # awsx copies these onto the VPC, subnets, route tables, IGW, NAT and EIPs
            opts=child)
        # Flow logs: KMS-encrypted log group with retention, written by a role scoped to that group.
        flow_log_name = p.namer.log_group("vpc-flow-logs")
        log_group = make_log_group(self, p, "flow-logs", flow_log_name, kms_key_arn=args.logs_key_arn,
                                   retention=n.flow_log_retention_days, tags=p.tags(p.namer.base("flow-logs")))
        account = p.account_id
        flow = service_role(
            self, p, "flow-logs-role", service="vpc-flow-logs.amazonaws.com",
            description="VPC flow logs delivery to CloudWatch Logs", tag_name=p.namer.base("flow-logs"),
            inline={"flow-logs-delivery": policy_json({"Sid": "DeliverFlowLogs", "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                # From the known name, not log_group.arn: checkable in a preview of a new stack.
                                "Resource": account.apply(lambda acct: [
                                    f"arn:aws:logs:{p.region}:{acct}:log-group:{flow_log_name}",
                                    f"arn:aws:logs:{p.region}:{acct}:log-group:{flow_log_name}:*"])},
                               # In AWS's documented flow-log role policy. A list call without resource-level
                               # permissions (the Service Authorization Reference lists no resource type for it:
                               # only "*" matches its requests; parliament's RESOURCE_MISMATCH on a log-group ARN).
                               {"Sid": "FindLogGroup", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
                                "Resource": "*"})})
        delivery = flow.policies["flow-logs-delivery"]
        aws.ec2.FlowLog(
            "flow-log", vpc_id=vpc.vpc_id, traffic_type=n.flow_log_traffic_type,
            log_destination_type="cloud-watch-logs", log_destination=log_group.arn, iam_role_arn=flow.role.arn,
            max_aggregation_interval=60, tags=p.tags(p.namer.base("flow-log")),
            # Delivery starts at once: the role's permissions must exist first, not only the role.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]))

        # The default security group allows all traffic between its members: adopt it and empty it.
        aws.ec2.DefaultSecurityGroup("default-sg", vpc_id=vpc.vpc_id, ingress=[], egress=[],
                                     tags=p.tags(p.namer.base("default-do-not-use")), opts=child)

        # The default network ACL allows everything from anywhere (CIS 5.1, FSBP EC2.21): adopt it. Every subnet
        # keeps it (awsx creates no ACL of its own), so it stays open to the VPC; from outside only TCP return
        # traffic (ephemeral ports of NAT and outbound calls) comes in, never SSH (22) or RDP (3389).
        default_acl = aws.ec2.get_network_acls_output(
            vpc_id=vpc.vpc_id, filters=[aws.ec2.GetNetworkAclsFilterArgs(name="default", values=["true"])],
            opts=p.invoke_options())
        aws.ec2.DefaultNetworkAcl(
            "default-nacl", default_network_acl_id=default_acl.ids[0],
            ingress=[aws.ec2.DefaultNetworkAclIngressArgs(**e) for e in default_acl_ingress(n.cidr)],
            egress=[aws.ec2.DefaultNetworkAclEgressArgs(rule_no=100, action="allow", protocol="-1",
                                                        cidr_block="0.0.0.0/0", from_port=0, to_port=0)],
            tags=p.tags(p.namer.base("default-nacl")),
            # The VPC explicitly: in a new stack's preview the looked-up id carries no dependency on it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[vpc]))

        # Gateway endpoints (free) on the private and isolated route tables. awsx does not wire
        # endpoints to its route tables, so look them up by subnet association; the subnet ids resolve
        # only once awsx has created the subnets and their route table associations.
        routed_subnets = pulumi.Output.all(vpc.private_subnet_ids, vpc.isolated_subnet_ids).apply(
            lambda ids: list(ids[0]) + list(ids[1]))
        route_tables = aws.ec2.get_route_tables_output(
            vpc_id=vpc.vpc_id,
            filters=[aws.ec2.GetRouteTablesFilterArgs(
                name="association.subnet-id",
                values=routed_subnets)],  # type: ignore[arg-type]  # an _output invoke resolves nested Outputs
            opts=p.invoke_options())
        for svc in ("s3", "dynamodb"):
            aws.ec2.VpcEndpoint(
                f"endpoint-{svc}", vpc_id=vpc.vpc_id, service_name=f"com.amazonaws.{p.region}.{svc}",
                vpc_endpoint_type="Gateway", route_table_ids=route_tables.ids,
                policy=account.apply(lambda acct, svc=svc: gateway_endpoint_policy(svc, p.region, acct)),  # type: ignore[misc]  # loop-bound lambda
                tags=p.tags(p.namer.base(svc, "endpoint")), opts=child)

        def group(key: str, description: str) -> aws.ec2.SecurityGroup:
            return aws.ec2.SecurityGroup(f"{key}-sg", vpc_id=vpc.vpc_id, description=description,
                                         tags=p.tags(p.namer.base(key), Role=key), opts=child)

        lb_sg = group("lb", "Internal load balancer: HTTPS/HTTP from the API's VPC link only, forwards to the application group")
        vpc_link_sg = group("vpclink", "API Gateway VPC link: the only client of the internal load balancer")
        ml_sg = group("ml", "SageMaker training and hosting: members talk to each other (distributed training)")
        app_sg = group("app", "Application tasks and functions: app ports from the load balancer group only")
        data_sg = group("data", "Databases and caches: data ports from the application group only")
        endpoint_sg = group("endpoints", "Interface VPC endpoints: HTTPS from inside the VPC")
        batch_sg = group("batch", "Batch container instances: HTTPS out only (no ingress, no data ports)")

        def ingress(key, sg, port_from, port_to, *, cidr=None, source=None, description="", protocol="tcp"):
            aws.vpc.SecurityGroupIngressRule(
                key, security_group_id=sg.id, ip_protocol=protocol, from_port=port_from, to_port=port_to,
                cidr_ipv4=cidr, referenced_security_group_id=source.id if source is not None else None,
                description=description, tags=p.tags(p.namer.base(key)), opts=child)

        def egress(key, sg, port_from, port_to, *, cidr=None, dest=None, description="", protocol="tcp"):
            aws.vpc.SecurityGroupEgressRule(
                key, security_group_id=sg.id, ip_protocol=protocol, from_port=port_from, to_port=port_to,
                cidr_ipv4=cidr, referenced_security_group_id=dest.id if dest is not None else None,
                description=description, tags=p.tags(p.namer.base(key)), opts=child)

        for port in (443, 80):
            ingress(f"lb-in-{port}", lb_sg, port, port, source=vpc_link_sg,
                    description=f"API Gateway VPC link to the load balancer on {port}")
            egress(f"vpclink-out-lb-{port}", vpc_link_sg, port, port, dest=lb_sg,
                   description=f"VPC link to the internal load balancer on {port}")
        # Distributed training exchanges data between the job's instances on any port (all protocols).
        ingress("ml-in-self", ml_sg, None, None, source=ml_sg, protocol="-1",
                description="SageMaker instances of the same job or endpoint")
        egress("ml-out-self", ml_sg, None, None, dest=ml_sg, protocol="-1",
               description="SageMaker instances of the same job or endpoint")
        egress("ml-out-https", ml_sg, 443, 443, cidr="0.0.0.0/0",
               description="HTTPS to AWS APIs (S3, ECR, CloudWatch) through NAT or endpoints")
        egress("lb-out-app", lb_sg, n.app_port_from, n.app_port_to, dest=app_sg,
               description="Load balancer to application ports")
        ingress("app-in-lb", app_sg, n.app_port_from, n.app_port_to, source=lb_sg,
                description="Application ports from the load balancer")
        egress("app-out-https", app_sg, 443, 443, cidr="0.0.0.0/0",
               description="HTTPS to AWS APIs and model providers (through NAT or endpoints)")
        for port in n.data_ports:
            egress(f"app-out-data-{port}", app_sg, port, port, dest=data_sg,
                   description=f"Application to data stores on {port}")
            ingress(f"data-in-app-{port}", data_sg, port, port, source=app_sg,
                    description=f"Data stores on {port} from the application group")
        egress("batch-out-https", batch_sg, 443, 443, cidr="0.0.0.0/0",
               description="Batch instances to AWS APIs and ECR (through NAT or endpoints)")
        ingress("endpoints-in-vpc", endpoint_sg, 443, 443, cidr=n.cidr, description="HTTPS from inside the VPC")

        for svc in n.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"endpoint-{svc.replace('.', '-')}", vpc_id=vpc.vpc_id, service_name=f"com.amazonaws.{p.region}.{svc}",
                vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=vpc.private_subnet_ids,
                security_group_ids=[endpoint_sg.id], tags=p.tags(p.namer.base(svc, "endpoint")), opts=child)

        self.outputs = NetworkOutputs(
            vpc_id=vpc.vpc_id, vpc_cidr=n.cidr, public_subnet_ids=vpc.public_subnet_ids,
            private_subnet_ids=vpc.private_subnet_ids, isolated_subnet_ids=vpc.isolated_subnet_ids,
            lb_security_group_id=lb_sg.id, vpc_link_security_group_id=vpc_link_sg.id, ml_security_group_id=ml_sg.id, app_security_group_id=app_sg.id, data_security_group_id=data_sg.id,
            endpoint_security_group_id=endpoint_sg.id, batch_security_group_id=batch_sg.id)
        publish(self, self.outputs)
