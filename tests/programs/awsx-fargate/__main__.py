"""A container on Fargate behind an awsx load balancer, as `pulumi new container-aws-python` writes it."""
import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

config = pulumi.Config()
container_port = config.get_int("containerPort", 80)
cpu = config.get_int("cpu", 512)
memory = config.get_int("memory", 128)

vpc = awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", number_of_availability_zones=2,
                   nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=awsx.ec2.NatGatewayStrategy.SINGLE))
cluster = aws.ecs.Cluster("cluster")

loadbalancer = awsx.lb.ApplicationLoadBalancer("loadbalancer", subnet_ids=vpc.public_subnet_ids)

service = awsx.ecs.FargateService(
    "service",
    cluster=cluster.arn,
    assign_public_ip=True,
    task_definition_args=awsx.ecs.FargateServiceTaskDefinitionArgs(
        container=awsx.ecs.TaskDefinitionContainerDefinitionArgs(
            name="app",
            image="nginx:latest",
            cpu=cpu,
            memory=memory,
            essential=True,
            port_mappings=[awsx.ecs.TaskDefinitionPortMappingArgs(
                container_port=container_port,
                target_group=loadbalancer.default_target_group,
            )],
        ),
    ),
)

pulumi.export("url", pulumi.Output.concat("http://", loadbalancer.load_balancer.dns_name))
pulumi.export("vpcId", vpc.vpc_id)
pulumi.export("serviceName", service.service.name)
