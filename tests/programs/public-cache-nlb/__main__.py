"""What not to do, as teams do it: a Redis replication group reached through an internet-facing network load
balancer (TCP 6379, the cache's address as the only target), and a jump host in a subnet that maps public IPs."""
import pulumi
import pulumi_aws as aws

vpc = aws.ec2.Vpc("cache", cidr_block="10.30.0.0/16")
public = aws.ec2.Subnet("public", vpc_id=vpc.id, cidr_block="10.30.0.0/24", map_public_ip_on_launch=True,
                        availability_zone="us-west-2a")
private = aws.ec2.Subnet("private", vpc_id=vpc.id, cidr_block="10.30.1.0/24", availability_zone="us-west-2a")

cache_subnets = aws.elasticache.SubnetGroup("cache", subnet_ids=[private.id])
cache = aws.elasticache.ReplicationGroup(
    "cache", description="session cache", engine="redis", node_type="cache.t4g.small", num_cache_clusters=1,
    subnet_group_name=cache_subnets.name, at_rest_encryption_enabled="true", transit_encryption_enabled=True)

nlb = aws.lb.LoadBalancer("edge", load_balancer_type="network", subnets=[public.id])
target_group = aws.lb.TargetGroup("cache", port=6379, protocol="TCP", target_type="ip", vpc_id=vpc.id)
aws.lb.TargetGroupAttachment("cache", target_group_arn=target_group.arn, target_id=cache.primary_endpoint_address,
                             port=6379)
aws.lb.Listener("redis", load_balancer_arn=nlb.arn, port=6379, protocol="TCP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward",
                                                                  target_group_arn=target_group.arn)])

ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                      filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-x86_64"])])
aws.ec2.Instance("jump", ami=ami.id, instance_type="t3.micro", subnet_id=public.id, monitoring=True,
                 metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
                 root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True))

pulumi.export("redisEndpoint", nlb.dns_name.apply(lambda host: f"{host}:6379"))
