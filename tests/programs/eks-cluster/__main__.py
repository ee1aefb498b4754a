"""An EKS cluster in the shape of `pulumi new kubernetes-aws-python`: an awsx VPC, then eks.Cluster with
its defaults (public endpoint, no control-plane logs, no secrets encryption)."""
import pulumi
import pulumi_awsx as awsx
import pulumi_eks as eks

config = pulumi.Config()
min_size = config.get_int("minClusterSize") or 3

vpc = awsx.ec2.Vpc("eks-vpc", enable_dns_hostnames=True, cidr_block="10.0.0.0/16")
cluster = eks.Cluster(
    "eks-cluster",
    vpc_id=vpc.vpc_id,
    public_subnet_ids=vpc.public_subnet_ids,
    private_subnet_ids=vpc.private_subnet_ids,
    instance_type="t3.medium",
    desired_capacity=min_size,
    min_size=min_size,
    max_size=6,
    node_associate_public_ip_address=False,
    endpoint_private_access=False,
    endpoint_public_access=True,
)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("vpcId", vpc.vpc_id)
