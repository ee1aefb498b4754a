"""Application tier: the inputs actually registered for dev and prod (and with EKS/Batch enabled)."""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import fnmatch
import functools
import json

import pytest

from components.catalog import DEFAULT_SERVICES
from components.config import load_settings
from components.config.schema import ConfigError
from conftest import dev_alternatives, everything_on, plan_for, primary, program_with, stack_analysis
from conftest import images_present_plan as _images_present_plan
from conftest import primary_plan as stack_plan
from plan.analyze import analyze
from plan.engine import UNKNOWN, PlanError
from plan.stackfile import load_stack_config, stack_file_path

SERVICE = "aws:ecs/service:Service"


@functools.cache
def images_present_plan(stack: str = "dev"):
    """conftest's, without the DR region's instance of the tiers (tests/test_dr_tier.py tests that side)."""
    return primary(_images_present_plan(stack))


TASK = "aws:ecs/taskDefinition:TaskDefinition"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
LISTENER = "aws:lb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
APP = "ai-platform:tier:Application"
MY_POLICIES = ("ecs-no-public-ip", "ecs-no-privileged-containers", "ecs-read-only-root-filesystem",
               "ecs-logging-configured", "alb-https-or-redirect", "alb-drop-invalid-headers", "alb-access-logs",
               "alb-deletion-protection", "eks-endpoint-restricted", "eks-secrets-encryption",
               "eks-control-plane-logging", "lambda-tracing-active", "lambda-dlq-configured", "lambda-role-no-wildcard",
               "public-ingress-only-to-load-balancers", "ec2-imdsv2-required", "ebs-encrypted")
STACKS = ["dev", "prod"]


def stack_config(stack: str) -> dict:
    name, path = stack_file_path(stack, None)
    return load_stack_config(name, path)[0]


def enabled_plan():
    """dev with EKS and Batch switched on by config (conftest's dev alternatives: one run for the test run)."""
    return dev_alternatives()


def app_resources(plan, token):
    return [r for r in plan.of_type(token) if APP in r.urn]


# --- services, target groups, listener rules ---------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [True, False])
def test_nine_services_each_wired_to_its_own_target_group_and_rule(stack, preview):
    plan = stack_plan(stack, preview)
    listener = plan.named("https" if stack == "prod" else "http", LISTENER)
    services = plan.of_type(SERVICE)
    assert sorted(s.name for s in services) == sorted(f"{n}-service" for n in DEFAULT_SERVICES)
    tg_urns = set()
    for name, port in DEFAULT_SERVICES.items():
        svc, tg, rule = plan.named(f"{name}-service"), plan.named(f"{name}-tg", TG), plan.named(f"{name}-rule", RULE)
        # the same target group resource feeds the service's load balancer block and the rule's forward action
        # (blue/green services also name their second group there: tests/test_delivery_tier.py)
        assert tg.urn in svc.propertyDependencies["loadBalancers"]
        assert tg.urn in rule.propertyDependencies["actions"]
        assert rule.propertyDependencies["listenerArn"] == [listener.urn]
        assert rule.urn in svc.dependencies  # target group attached to the ALB before the service
        [lb] = svc.props["loadBalancers"]
        assert (lb["containerName"], lb["containerPort"]) == (name, port)
        assert rule.props["priority"] == port
        assert rule.props["conditions"] == [{"pathPattern": {"values": [f"/{name}", f"/{name}/*"]}}]
        assert tg.props["port"] == port and tg.props["targetType"] == "ip" and tg.props["protocol"] == "HTTP"
        assert tg.props["healthCheck"]["path"] == "/health" and tg.props["healthCheck"]["enabled"] is True
        assert len(tg.name) + 8 <= 32  # auto-named: logical name + "-" + 7 random characters
        tg_urns.add(tg.urn)
    assert len(tg_urns) == 9


@pytest.mark.parametrize("stack, spot, desired", [("dev", True, 1), ("prod", False, 2)])
def test_service_settings(stack, spot, desired):
    plan = stack_plan(stack, False)
    vpc = plan.named("vpc", "awsx:ec2:Vpc")
    app_sg, cluster = plan.named("app-sg", SG), plan.named("cluster", "aws:ecs/cluster:Cluster")
    assert len(plan.of_type(SERVICE)) == len(DEFAULT_SERVICES)
    for svc in plan.of_type(SERVICE):
        p = svc.props
        assert p["forceNewDeployment"] is True  # a strategy change is refused without a new deployment
        net = p["networkConfiguration"]
        assert net["assignPublicIp"] is False
        assert net["subnets"] == vpc.outputs["privateSubnetIds"]
        assert net["securityGroups"] == [app_sg.id]
        assert set(svc.propertyDependencies["networkConfiguration"]) == {vpc.urn, app_sg.urn}
        assert p["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert (p["deploymentMinimumHealthyPercent"], p["deploymentMaximumPercent"]) == (100, 200)
        # A fresh stack has no image yet: services start parked (tests/test_delivery_tier.py has both sides).
        assert p["healthCheckGracePeriodSeconds"] == 300 and p["desiredCount"] == 0
        assert svc.propertyDependencies["cluster"] == [cluster.urn]
        assert svc.options["ignoreChanges"] == ["desiredCount"]  # the task definition is the stack's (day two)
        # FARGATE/FARGATE_SPOT must be associated with the cluster before a service names them
        assert plan.named("capacity-providers").urn in svc.options["dependsOn"]
        providers = [(s["capacityProvider"], s["weight"]) for s in p["capacityProviderStrategies"]]
        assert providers == ([("FARGATE_SPOT", 1)] if spot else [("FARGATE", 1)])
        assert "launchType" not in p


@pytest.mark.parametrize("stack", STACKS)
def test_task_definitions_and_container_settings(stack):
    plan = stack_plan(stack, False)
    secret = plan.named("secret-jwt-signing-secret", "aws:secretsmanager/secret:Secret")
    logs_key = plan.named("logs-key")
    for name, port in DEFAULT_SERVICES.items():
        td, log = plan.named(f"{name}-task", TASK), plan.named(f"{name}-logs", LOG_GROUP)
        # issue 12: each service its own roles
        execution, task_role = plan.named(f"{name}-execution", "aws:iam/role:Role"), plan.named(f"{name}-task", "aws:iam/role:Role")
        assert td.props["networkMode"] == "awsvpc" and td.props["requiresCompatibilities"] == ["FARGATE"]
        assert td.props["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
        assert (td.props["cpu"], td.props["memory"]) == ("512", "1024")
        assert td.propertyDependencies["executionRoleArn"] == [execution.urn]
        assert td.propertyDependencies["taskRoleArn"] == [task_role.urn]
        assert log.propertyDependencies["kmsKeyId"] == [logs_key.urn] and log.props["retentionInDays"] == 30
        c, daemon = json.loads(td.props["containerDefinitions"])
        assert c["readonlyRootFilesystem"] is True and c["user"] == "1000:1000" and "privileged" not in c
        # issue 30: traces continue past API Gateway: an X-Ray daemon beside the service, on the task's loopback
        assert (daemon["name"], daemon["essential"], daemon["readonlyRootFilesystem"]) == ("xray-daemon", False, True)
        assert daemon["portMappings"] == [{"containerPort": 2000, "protocol": "udp"}]
        assert daemon["logConfiguration"]["options"]["awslogs-group"] == log.props["name"]
        assert {"name": "AWS_XRAY_DAEMON_ADDRESS", "value": "127.0.0.1:2000"} in c["environment"]
        tracing = _sids(_doc(plan, f"{name}-task-policy"))["Tracing"]
        assert sorted(tracing["Action"]) == ["xray:GetSamplingRules", "xray:GetSamplingTargets",
                                             "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        assert c["portMappings"][0]["containerPort"] == port
        assert c["logConfiguration"]["logDriver"] == "awslogs"
        assert c["logConfiguration"]["options"]["awslogs-group"] == log.props["name"]
        assert [x for x in c["secrets"] if x["name"] != "REDIS_AUTH_TOKEN"] == [
            {"name": "JWT_SIGNING_SECRET", "valueFrom": secret.outputs["arn"]}]
        assert f"localhost:{port}/health" in " ".join(c["healthCheck"]["command"])
        assert {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False} in c["mountPoints"]
        # every mount names a declared task volume (RegisterTaskDefinition rejects an unknown sourceVolume)
        volumes = {v["name"] for v in td.props["volumes"]}
        assert {m["sourceVolume"] for m in c["mountPoints"]} <= volumes and volumes
        # Fargate accepts only SYS_PTRACE in capabilities.add and no devices/tmpfs/sharedMemorySize/swap
        lp = c["linuxParameters"]
        assert lp["initProcessEnabled"] is True and lp["capabilities"]["drop"] == ["ALL"]
        assert set(lp["capabilities"].get("add", [])) <= {"SYS_PTRACE"}
        assert not {"devices", "tmpfs", "sharedMemorySize", "maxSwap", "swappiness"} & set(lp)
        env = {e["name"]: e["value"] for e in c["environment"]}
        assert env["PORT"] == str(port)
        # issue 12: only services whose contract names the database get its endpoint (and their own DB user)
        uses_db = name not in {"format-conversion", "document-extraction", "code"}
        assert env.get("DB_HOST", "").endswith(".rds.amazonaws.com") is uses_db, name
        # the ML tier's repository for the service, with the stack's image tag
        repo = plan.named(f"repo-{name}", "aws:ecr/repository:Repository")
        assert c["image"] == f"{repo.outputs['repositoryUrl']}:{'1.0.0' if stack == 'prod' else 'latest'}"


# dev's services are off-hours services (issue 12): their minimum is 0, so autoscaling never fights the night stop
@pytest.mark.parametrize("stack, bounds", [("dev", (0, 2)), ("prod", (2, 10))])
def test_autoscaling_target_and_cpu_memory_policies_per_service(stack, bounds):
    plan = stack_plan(stack, True)
    cluster = plan.named("cluster", "aws:ecs/cluster:Cluster")
    for name in DEFAULT_SERVICES:
        target, svc = plan.named(f"{name}-scaling", TARGET), plan.named(f"{name}-service", SERVICE)
        # the minimum waits for the image (unknown in a new stack's preview; tests/test_delivery_tier.py)
        assert (target.props["minCapacity"], target.props["maxCapacity"]) == (UNKNOWN, bounds[1])
        assert target.props["resourceId"] == f"service/{cluster.props['name']}/{name}"
        assert set(target.propertyDependencies["resourceId"]) == {cluster.urn, svc.urn}
        assert target.props["scalableDimension"] == "ecs:service:DesiredCount"
        metrics = {}
        for metric in ("cpu", "memory"):
            policy = plan.named(f"{name}-{metric}-scaling", POLICY)
            assert policy.props["policyType"] == "TargetTrackingScaling"
            assert policy.propertyDependencies["resourceId"] == [target.urn]
            cfg = policy.props["targetTrackingScalingPolicyConfiguration"]
            metrics[metric] = (cfg["predefinedMetricSpecification"]["predefinedMetricType"], cfg["targetValue"])
        assert metrics == {"cpu": ("ECSServiceAverageCPUUtilization", 60),
                           "memory": ("ECSServiceAverageMemoryUtilization", 75)}
    # issue 25: plus requests per target for each target group, and backlog per task for each consumed queue
    groups = [r for r in app_resources(plan, "aws:lb/targetGroup:TargetGroup")]
    consumers = [n for n in ("workflow", "conversational", "document-extraction")]
    assert len(app_resources(plan, TARGET)) == 9
    assert len(app_resources(plan, POLICY)) == 18 + len(groups) + len(consumers)


# --- cluster, load balancer, listeners ---------------------------------------------------------------
@pytest.mark.parametrize("stack, insights, default", [("dev", "enabled", "FARGATE_SPOT"), ("prod", "enhanced", "FARGATE")])
def test_cluster_container_insights_and_capacity_providers(stack, insights, default):
    plan = stack_plan(stack, True)
    cluster = plan.named("cluster", "aws:ecs/cluster:Cluster")
    assert cluster.props["settings"] == [{"name": "containerInsights", "value": insights}]
    cp = plan.named("capacity-providers")
    assert cp.props["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cp.props["defaultCapacityProviderStrategies"] == [{"capacityProvider": default, "weight": 1}]
    assert cp.propertyDependencies["clusterName"] == [cluster.urn]


@pytest.mark.parametrize("stack, protect", [("dev", False), ("prod", True)])
def test_alb_internal_in_private_subnets_with_lb_group_logs_and_protection(stack, protect):
    # issue 12: the front door cannot be bypassed: the ALB is internal, reached through the API's VPC link
    plan = stack_plan(stack, False)
    alb, vpc = plan.named("alb", LB), plan.named("vpc", "awsx:ec2:Vpc")
    p = alb.props
    assert p["subnets"] == vpc.outputs["privateSubnetIds"] and p["internal"] is True
    assert alb.propertyDependencies["securityGroups"] == [plan.named("lb-sg", SG).urn]
    assert p["dropInvalidHeaderFields"] is True and p["enableDeletionProtection"] is protect
    assert p["idleTimeout"] == 930 and len(p["name"]) <= 32
    log_bucket = plan.named("access-logs-bucket", "aws:s3/bucket:Bucket")
    assert p["accessLogs"] == {"bucket": log_bucket.props["bucket"], "prefix": f"alb/{stack}", "enabled": True}


def test_prod_https_listener_and_http_redirect():
    plan = stack_plan("prod", True)
    https, http = plan.named("https", LISTENER), plan.named("http", LISTENER)
    assert (https.props["protocol"], https.props["port"]) == ("HTTPS", 443)
    assert https.props["certificateArn"].startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    assert https.props["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert http.props["defaultActions"] == [{"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]


def test_dev_without_certificate_is_http_only_and_the_policy_says_so():
    plan = stack_plan("dev", True)
    [http] = app_resources(plan, LISTENER)
    assert http.name == "http" and http.props["defaultActions"][0]["type"] == "fixed-response"
    found = stack_analysis("dev").of("alb-https-or-redirect")
    assert [v.urn for v in found] == [http.urn] and found[0].level == "advisory"


@pytest.mark.parametrize("stack", STACKS)
def test_no_mandatory_compute_violation(stack):
    analysis = stack_analysis(stack)
    bad = [(v.policy, v.urn) for v in analysis.violations if v.policy in MY_POLICIES and v.level == "mandatory"]
    assert bad == []


def test_security_group_chain_alb_to_services_to_data():
    plan = stack_plan("prod", True)
    lb_sg, app_sg, data_sg = (plan.named(f"{k}-sg", SG) for k in ("lb", "app", "data"))
    assert plan.named("alb", LB).propertyDependencies["securityGroups"] == [lb_sg.urn]
    assert len(plan.of_type(SERVICE)) == len(DEFAULT_SERVICES)
    for svc in plan.of_type(SERVICE):
        assert app_sg.urn in svc.propertyDependencies["networkConfiguration"]
        assert lb_sg.urn not in svc.propertyDependencies["networkConfiguration"]

    def rules(token, group):
        return [r for r in plan.of_type(token) if r.propertyDependencies.get("securityGroupId") == [group.urn]]

    # app ports reach the app group only from the load balancer group, and the LB sends only there
    app_in = rules(INGRESS, app_sg)
    assert app_in and all(r.propertyDependencies["referencedSecurityGroupId"] == [lb_sg.urn] for r in app_in)
    ports = sorted(DEFAULT_SERVICES.values())
    assert all(r.props["fromPort"] <= ports[0] and ports[-1] <= r.props["toPort"] for r in app_in)
    lb_out = rules(EGRESS, lb_sg)
    assert lb_out and all(r.propertyDependencies["referencedSecurityGroupId"] == [app_sg.urn] for r in lb_out)
    # the data group accepts only the application group
    data_in = rules(INGRESS, data_sg)
    assert data_in and all(r.propertyDependencies["referencedSecurityGroupId"] == [app_sg.urn] for r in data_in)
    app_out = [r for r in plan.of_type(EGRESS) if r.propertyDependencies.get("securityGroupId") == [app_sg.urn]
               and r.propertyDependencies.get("referencedSecurityGroupId") == [data_sg.urn]]
    assert sorted(r.props["fromPort"] for r in app_out) == sorted(r.props["fromPort"] for r in data_in)
    # the data stores sit in the data group, which nothing but the application group reaches
    db = plan.named("postgres", "aws:rds/instance:Instance")
    assert db.propertyDependencies["vpcSecurityGroupIds"] == [data_sg.urn]
    redis = plan.named("redis", "aws:elasticache/replicationGroup:ReplicationGroup")
    assert redis.propertyDependencies["securityGroupIds"] == [data_sg.urn]


# --- EKS and Batch -----------------------------------------------------------------------------------
def test_eks_and_batch_off_in_dev_by_default():
    plan = stack_plan("dev", True)
    assert plan.of_type("aws:eks/cluster:Cluster") == [] and plan.of_type("aws:batch/jobQueue:JobQueue") == []


@pytest.mark.parametrize("stack", STACKS)
def test_eks_is_opt_in_in_every_stack(stack):
    """Issue 30: a cluster nothing can reach (no access entry, add-ons, autoscaler or deploy path) is not billed.
    No stack builds EKS unless its file sets eks.enabled (docs/eks.md); prod keeps Batch."""
    plan = stack_plan(stack, True)
    assert [r.type for r in plan.resources if r.type.startswith("aws:eks/")] == []
    assert load_settings_default_eks() is False
    assert bool(plan.of_type("aws:batch/jobQueue:JobQueue")) == (stack == "prod")


def load_settings_default_eks():
    from components.config.application import EksSettings
    return EksSettings().enabled


def test_eks_when_enabled():
    plan = enabled_plan()
    cluster = plan.named("eks-cluster", "aws:eks/cluster:Cluster")
    p = cluster.props
    assert p["version"] == "1.35"
    assert p["vpcConfig"]["endpointPrivateAccess"] is True
    assert p["vpcConfig"]["endpointPublicAccess"] is True and p["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert p["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.propertyDependencies["encryptionConfig"] == [plan.named("data-key").urn]
    assert sorted(p["enabledClusterLogTypes"]) == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    # the cluster role may use exactly that key, named by its alias (decidable in a preview)
    [alias] = [a for a in plan.of_type("aws:kms/alias:Alias")
               if a.propertyDependencies["targetKeyId"] == cluster.propertyDependencies["encryptionConfig"]]
    [st] = json.loads(plan.named("eks-cluster-secrets-key").props["policy"])["Statement"]
    assert st["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias.props["name"]}}
    assert st["Resource"] == "arn:aws:kms:us-east-1:123456789012:key/*"
    log = plan.named("eks-control-plane-logs", LOG_GROUP)
    assert log.props["name"] == f"/aws/eks/{p['name']}/cluster" and log.urn in cluster.options["dependsOn"]
    oidc = plan.named("eks-oidc", "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.propertyDependencies["url"] == [cluster.urn]
    assert oidc.props["url"] == cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert oidc.props["clientIdLists"] == ["sts.amazonaws.com"]
    nodes = plan.named("eks-nodes", "aws:eks/nodeGroup:NodeGroup")
    lt = plan.named("eks-nodes-lt", LT)
    assert nodes.props["scalingConfig"] == {"minSize": 1, "maxSize": 10, "desiredSize": 1}
    assert nodes.props["capacityType"] == "SPOT" and nodes.props["instanceTypes"] == ["t3.large"]
    assert nodes.propertyDependencies["launchTemplate"] == [lt.urn]
    # EKS managed node groups refuse a launch template with an instance profile; amiType set means no
    # imageId/userData in it; diskSize conflicts with the template's block devices.
    assert not {"iamInstanceProfile", "imageId", "userData"} & set(lt.props)
    assert "diskSize" not in nodes.props and nodes.props["amiType"] == "AL2023_x86_64_STANDARD"
    assert lt.props["metadataOptions"]["httpTokens"] == "required"
    assert lt.props["metadataOptions"]["httpPutResponseHopLimit"] == 1
    [bdm] = lt.props["blockDeviceMappings"]
    assert bdm["ebs"]["encrypted"] == "true" and bdm["ebs"]["volumeType"] == "gp3"
    policies = {r.props["policyArn"].rsplit("/", 1)[-1] for r in plan.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if r.name.startswith("eks-")}
    assert policies == {"AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                        "AmazonEC2ContainerRegistryPullOnly"}


def test_batch_when_enabled():
    plan = enabled_plan()
    ce = plan.named("batch-spot", "aws:batch/computeEnvironment:ComputeEnvironment")
    cr = ce.props["computeResources"]
    assert (cr["type"], cr["allocationStrategy"], cr["minVcpus"], cr["maxVcpus"]) == (
        "SPOT", "SPOT_CAPACITY_OPTIMIZED", 0, 256)
    # issue 32: its own group (HTTPS out only), not the application group that reaches the data ports
    assert cr["securityGroupIds"] == [plan.named("batch-sg", SG).id]
    assert ce.propertyDependencies["computeResources"]  # instance profile, subnets, group, launch template
    assert plan.named("batch-instance-profile").urn in ce.propertyDependencies["computeResources"]
    assert plan.named("batch-lt", LT).urn in ce.propertyDependencies["computeResources"]
    # SPOT_CAPACITY_OPTIMIZED needs no Spot Fleet role; no serviceRole: Batch's service-linked role
    assert "spotIamFleetRole" not in cr and "serviceRole" not in ce.props and ce.props["type"] == "MANAGED"
    assert "iamInstanceProfile" not in plan.named("batch-lt", LT).props  # Batch sets instanceRole itself
    queue = plan.named("batch-queue", "aws:batch/jobQueue:JobQueue")
    assert queue.props["priority"] == 10 and queue.propertyDependencies["computeEnvironmentOrders"] == [ce.urn]
    jd = plan.named("batch-job-template", "aws:batch/jobDefinition:JobDefinition")
    container = json.loads(jd.props["containerProperties"])
    assert container["readonlyRootFilesystem"] is True and container["logConfiguration"]["logDriver"] == "awslogs"
    assert jd.props["retryStrategy"]["attempts"] == 3
    # issue 30: the jobs' role is derived from batch.uses like a service's task role (the default contract:
    # the data lake, read and write), trusted by ECS tasks only, and the job definition runs as it
    role = plan.named("batch-job-role", "aws:iam/role:Role")
    assert container["jobRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.props["assumeRolePolicy"])["Statement"]
    assert {st["Principal"]["Service"] for st in trust} == {"ecs-tasks.amazonaws.com"}
    grants = {st["Sid"]: st for st in json.loads(plan.named("batch-job-policy").props["policy"])["Statement"]
              if st["Effect"] == "Allow"}
    assert set(grants) == {"ListOwnBuckets", "ReadBuckets", "WriteBuckets", "BucketObjectsKey"}
    assert all("data-lake" in str(a) for a in grants["WriteBuckets"]["Resource"] + grants["ReadBuckets"]["Resource"])


def test_enabled_eks_and_batch_pass_the_compute_policies():
    # The tier's resources plus the security groups the stack rule correlates (analysing all is slow).
    plan = enabled_plan()
    keep = [r for r in plan.resources if APP in r.urn or r.type in (SG, INGRESS, EGRESS)]
    analysis = analyze(dataclasses.replace(plan, resources=keep), policy_config={"all": "mandatory"})
    assert {"eks-cluster", "eks-nodes-lt", "batch-lt"} <= {r.name for r in keep}
    bad = [(v.policy, v.urn.split("::")[-1]) for v in analysis.violations
           if v.policy in MY_POLICIES and v.policy not in ("alb-https-or-redirect", "alb-deletion-protection")]
    assert bad == []


# --- configuration errors ----------------------------------------------------------------------------
def _settings(app: dict, env="dev"):
    return load_settings({"platform": {"environment": env}, "application": app,
                          "events": {"alertEmails": ["ops@example.com"]}}, stack=env, region="us-east-1")


def test_catalogue_merges_overrides_adds_and_drops_services():
    s = _settings({"services": {"search": {"cpu": 1024, "memory": 4096}, "code": {"enabled": False},
                                "rerank": {"port": 8009}}})
    cat = {c.name: c for c in s.application.catalogue()}
    assert len(cat) == 9 and "code" not in cat and cat["rerank"].port == 8009
    assert (cat["search"].settings.cpu, cat["search"].settings.memory) == (1024, 4096)
    assert cat["format-conversion"].settings.cpu == 512  # untouched entries keep their defaults


@pytest.mark.parametrize("app, path", [
    ({"services": {"search": {"cpu": 256, "memory": 4096}}}, "services.search.memory"),
    ({"services": {"search": {"minCount": 3, "desiredCount": 1}}}, "services.search.desiredCount"),
    ({"services": {"rerank": {}}}, "services.rerank.port"),
    ({"services": {"rerank": {"port": 8000}}}, "services.rerank.port"),
    ({"alb": {"certificateArn": "arn:aws:acm:us-east-1:123:certificate/x"}}, "alb.certificateArn"),
    ({"eks": {"publicAccessCidrs": ["0.0.0.0/0"]}}, "eks.publicAccessCidrs[0]"),
    # issue 30: Batch jobs' own security group has no path to the data tier; names must exist
    ({"batch": {"uses": {"database": "readonly"}}}, "batch.uses.database"),
    ({"batch": {"enabled": True, "uses": {"buckets": {"no-such-bucket": "read"}}}}, "batch.uses.buckets"),
    # what AWS itself rejects at `up`, caught at plan time:
    ({"services": {"search": {"cpu": 256, "memory": 1536}}}, "services.search.memory"),  # 256 CPU: 512/1024/2048
    ({"alb": {"accessLogPrefix": "logs/AWSLogs"}}, "alb.accessLogPrefix"),  # ELB: prefix can't contain AWSLogs
    ({"alb": {"accessLogPrefix": "alb/"}}, "alb.accessLogPrefix"),
    ({"eks": {"instanceTypes": ["m6i.large", "m7g.large"]}}, "eks.instanceTypes[1]"),  # Graviton on an x86 AMI
    # Fargate Spot is X86_64 only: dev services default to interruptible, prod's default strategy is FARGATE only
    ({"cpuArchitecture": "ARM64"}, "defaultCapacityStrategy"),
    ({"services": {"rerank": {"port": 50001}}}, "services.rerank.priority"),  # ALB priorities stop at 50000
])
def test_invalid_application_settings_name_the_key(app, path):
    with pytest.raises(ConfigError) as err:
        _settings(app)
    assert err.value.path.startswith(f"ai-platform:application.{path}")


def test_capacity_strategy_base_on_the_on_demand_provider_only():
    from components.ecs_services import capacity_strategy
    app = _settings({"spotOnDemandBase": 2, "services": {"search": {"interruptible": True},
                                                          "code": {"interruptible": False}}}).application
    cat = {c.name: c for c in app.catalogue()}
    spot = [(s.capacity_provider, s.base, s.weight) for s in capacity_strategy(app, cat["search"])]
    assert spot == [("FARGATE", 2, 0), ("FARGATE_SPOT", None, 1)]  # ECS: base on at most one provider
    assert [(s.capacity_provider, s.base, s.weight) for s in capacity_strategy(app, cat["code"])] == [
        ("FARGATE", None, 1)]


def test_valid_edge_values_are_accepted():
    s = _settings({"services": {"search": {"cpu": 256, "memory": 2048}}, "alb": {"accessLogPrefix": "lb/app-1"},
                   "eks": {"instanceTypes": ["g4dn.xlarge", "m7i.large"]}})
    assert s.application.services["search"].memory == 2048
    arm = _settings({"cpuArchitecture": "ARM64", "defaultCapacityStrategy": {"FARGATE": 1},
                     "services": {n: {"interruptible": False} for n in DEFAULT_SERVICES}})
    assert arm.application.cpu_architecture == "ARM64"
    with pytest.raises(ConfigError) as err:  # one interruptible service is enough to be refused
        _settings({"cpuArchitecture": "ARM64", "defaultCapacityStrategy": {"FARGATE": 1},
                   "services": {n: {"interruptible": n == "search"} for n in DEFAULT_SERVICES}})
    assert err.value.path.endswith("services.search.interruptible")


def test_cross_tier_check_port_range_stops_the_program():
    config = copy.deepcopy(stack_config("dev"))
    config["ai-platform:application"] = {"services": {"rerank": {"port": 9100}}}
    with pytest.raises(PlanError, match=r"services\.rerank\.port = 9100"):
        program_with(config, stack="dev", preview=True)


def test_cross_tier_check_secret_names():
    with pytest.raises(ConfigError, match=r"services\.search\.secrets = 'no-such-secret'"):
        _settings({"services": {"search": {"secrets": ["no-such-secret"]}}})


@pytest.mark.parametrize("stack", STACKS)
def test_everything_in_the_tier_is_tagged(stack):
    plan = stack_plan(stack, True)
    untaggable = {"aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "aws:appautoscaling/policy:Policy",
                  "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy"}
    for r in plan.resources:
        if APP in r.urn and r.custom and r.type not in untaggable:
            assert {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"} <= set(r.props.get("tags", {})), r.name


def test_preview_leaves_unknown_only_what_aws_computes():
    plan = stack_plan("dev", True)
    svc = plan.named("search-service", SERVICE)
    assert svc.props["networkConfiguration"]["assignPublicIp"] is False
    assert svc.props["taskDefinition"] == UNKNOWN  # an ARN with a revision: known only after create


# --- the Lambda convention helper (components/lambda_function.py) ------------------------------------
def test_platform_functions_wait_for_their_role_policy_and_follow_the_convention():
    plan = stack_plan("prod", True)
    by_urn = plan.by_urn()
    checked = 0
    for fn in plan.of_type("aws:lambda/function:Function"):
        [role_urn] = fn.propertyDependencies["role"]
        if by_urn[role_urn].name != f"{fn.name}-role":
            continue  # not built by platform_function
        policy = plan.named(f"{fn.name}-policy", "aws:iam/rolePolicy:RolePolicy")
        assert policy.propertyDependencies["role"] == [role_urn]
        # CreateFunction validates DLQ (and ENI) permissions: the policy must exist first
        assert policy.urn in fn.options["dependsOn"]
        assert plan.named(f"{fn.name}-logs", LOG_GROUP).urn in fn.options["dependsOn"]
        assert fn.props["tracingConfig"] == {"mode": "Active"}
        assert fn.propertyDependencies["deadLetterConfig"] == [plan.named(f"{fn.name}-dlq").urn]
        checked += 1
    assert checked >= 1


def test_a_certificate_needs_the_domain_it_covers():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
    with pytest.raises(ConfigError, match=r"ai-platform:application.alb.domainName = None"):
        _settings({"alb": {"certificateArn": cert}})
    with pytest.raises(ConfigError, match=r"ai-platform:application.alb.hostedZoneId"):
        _settings({"alb": {"hostedZoneId": "Z0123456789ABC"}})


def test_alias_record_for_the_alb_when_a_zone_is_given():
    # prod with every optional feature on (conftest.everything_on: the alias zone among them), one run shared
    plan = primary(plan_for(everything_on("prod"), stack="prod", preview=True))
    record = plan.named("alb-alias", "aws:route53/record:Record")
    alb = plan.named("alb", "aws:lb/loadBalancer:LoadBalancer")
    assert (record.props["name"], record.props["type"], record.props["zoneId"]) == (
        "origin.app.example.com", "A", "Z0123456789ABC")
    assert record.propertyDependencies["aliases"] == [alb.urn]
    # the API waits for the record: it calls the ALB by that name
    proxy = plan.named("api-proxy-integration")
    assert proxy.props["uri"] == "https://origin.app.example.com/{proxy}"
    assert record.urn in proxy.propertyDependencies["uri"]


# --- service contracts (issue 12) ---------------------------------------------------------------------
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _doc(plan, name):
    return json.loads(plan.named(name, ROLE_POLICY).props["policy"])


def _sids(doc) -> dict:
    return {s["Sid"]: s for s in doc["Statement"]}


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_runs_with_its_own_task_and_execution_role(stack):
    plan = stack_plan(stack, False)
    task_arns, exec_arns = set(), set()
    for name in DEFAULT_SERVICES:
        td = plan.named(f"{name}-task", TASK)
        task, execution = plan.named(f"{name}-task", ROLE), plan.named(f"{name}-execution", ROLE)
        assert td.props["taskRoleArn"] == task.outputs["arn"] and td.props["executionRoleArn"] == execution.outputs["arn"]
        assert task.props["tags"]["Service"] == name and execution.props["tags"]["Service"] == name
        trust = json.loads(task.props["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        task_arns.add(task.outputs["arn"])
        exec_arns.add(execution.outputs["arn"])
    assert len(task_arns) == len(exec_arns) == len(DEFAULT_SERVICES)


def test_contract_grants_are_exact():
    plan = stack_plan("prod", False)
    db = plan.named("postgres", "aws:rds/instance:Instance").outputs
    queue = plan.named("queue-document-processing", "aws:sqs/queue:Queue").outputs["arn"]
    docs = plan.named("documents-bucket", "aws:s3/bucket:Bucket").outputs["arn"]
    key = plan.named("data-key", "aws:kms/key:Key").outputs["arn"]
    sids = _sids(_doc(plan, "classification-task-policy"))
    assert _sids(_doc(plan, "classification-task-db"))["ConnectAsOwnDbUser"]["Resource"] == (
        f"arn:aws:rds-db:us-east-1:123456789012:dbuser:{db['resourceId']}/classification")
    assert sids["ReadBuckets"]["Resource"] == [docs + "/*"] and "WriteBuckets" not in sids
    assert "ConsumeOwnQueues" not in sids   # classification consumes no queue
    extraction = _sids(_doc(plan, "document-extraction-task-policy"))
    assert extraction["ConsumeOwnQueues"]["Resource"] == [queue]
    assert "sqs:SendMessage" not in extraction["ConsumeOwnQueues"]["Action"]
    # the key only through SQS, only for this queue's messages (its encryption context), only in this account
    assert extraction["DecryptQueueMessages"]["Condition"] == {"StringEquals": {
        "kms:ViaService": "sqs.us-east-1.amazonaws.com", "kms:CallerAccount": "123456789012",
        "kms:EncryptionContext:aws:sqs:arn": [queue]}}
    assert key.startswith("arn:aws:kms:")
    assert sids["InvokeOwnModels"]["Resource"] == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]
    # publishes: only its own detail-types, with the sources the bus rules match them with
    put = _sids(_doc(plan, "document-extraction-task-policy"))["PublishOwnEvents"]
    assert put["Condition"]["StringEquals"] == {"events:detail-type": ["DocumentUploaded"],
                                                "events:source": ["ai-platform.documents"]}
    assert put["Resource"] == plan.named("bus", "aws:cloudwatch/eventBus:EventBus").outputs["arn"]
    # no wildcard resource in any service's task policy, except KMS pinned by service and encryption context
    for name in DEFAULT_SERVICES:
        with contextlib.suppress(KeyError):
            for s in _doc(plan, f"{name}-task-policy")["Statement"]:
                if "*" in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]):
                    if s["Sid"] == "Tracing":   # X-Ray has no resource-level permissions
                        assert all(a.startswith("xray:") for a in s["Action"]), (name, s)
                        continue
                    assert all(a.startswith("kms:") for a in s["Action"]), (name, s)
                    cond = json.dumps(s["Condition"])
                    assert "kms:ViaService" in cond and "kms:EncryptionContext:" in cond, (name, s)


def test_execution_role_reads_exactly_the_injected_secrets_and_never_the_master_secret():
    plan = stack_plan("prod", False)
    master = plan.named("postgres-master", "aws:secretsmanager/secret:Secret").outputs["arn"]
    redis = plan.named("redis-auth", "aws:secretsmanager/secret:Secret").outputs["arn"]
    for name in DEFAULT_SERVICES:
        container = json.loads(plan.named(f"{name}-task", TASK).props["containerDefinitions"])[0]
        injected = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        read = _sids(_doc(plan, f"{name}-execution-secrets"))["ReadInjectedSecrets"]["Resource"]
        # name-based patterns (known in a preview), one per injected secret, each matching exactly that secret
        assert len(read) == len(injected) and all(
            sum(fnmatch.fnmatchcase(arn, pattern) for arn in injected.values()) == 1 for pattern in read), name
        assert not any(fnmatch.fnmatchcase(master, pattern) for pattern in read)
        uses_cache = name in {"workflow", "search", "personalization", "conversational", "code"}
        assert (injected.get("REDIS_AUTH_TOKEN") == redis) is uses_cache, name
        env = {e["name"]: e["value"] for e in container["environment"]}
        if "DB_HOST" in env:
            assert env["DB_USER"] == name.replace("-", "_") and env["DB_IAM_AUTH"] == "true"
    # search is read-only: it connects to the replica
    search = json.loads(plan.named("search-task", TASK).props["containerDefinitions"])[0]
    env = {e["name"]: e["value"] for e in search["environment"]}
    assert env["DB_HOST"] == plan.named("postgres-replica", "aws:rds/instance:Instance").outputs["address"]


def test_contract_added_in_config_becomes_a_grant_and_an_unknown_name_is_refused():
    s = _settings({"services": {"code": {"uses": {"queues": ["notifications"], "buckets": {"documents": "read"}}}}})
    code = {c.name: c for c in s.application.catalogue()}["code"].settings.uses
    assert code.queues == ("notifications",) and code.cache is True and dict(code.buckets) == {"documents": "read"}
    with pytest.raises(ConfigError, match=r"services\.code\.uses\.queues = 'no-such-queue'"):
        _settings({"services": {"code": {"uses": {"queues": ["no-such-queue"]}}}})
    with pytest.raises(ConfigError, match=r"services\.code\.uses\.tables = 'no-such-table'"):
        _settings({"services": {"code": {"uses": {"tables": ["no-such-table"]}}}})


@pytest.mark.parametrize("stack", STACKS)
def test_internal_alb_reachable_only_from_the_vpc_link_group(stack):
    plan = stack_plan(stack, False)
    alb = plan.named("alb", LB).props
    assert alb["internal"] is True and alb["subnets"] == plan.named("vpc", "awsx:ec2:Vpc").outputs["privateSubnetIds"]
    lb_sg, link_sg = plan.named("lb-sg", SG).id, plan.named("vpclink-sg", SG).id
    lb_in = [r.props for r in plan.of_type(INGRESS) if r.props["securityGroupId"] == lb_sg]
    assert lb_in and all(r.get("cidrIpv4") is None and r["referencedSecurityGroupId"] == link_sg for r in lb_in)


@pytest.mark.parametrize("stack, tagged, minimum", [("dev", True, 0), ("prod", False, 2)])
def test_off_hours_services_are_tagged_and_may_scale_to_zero(stack, tagged, minimum):
    plan = images_present_plan(stack)   # after the first release: parking does not hold the floor at 0
    for name in DEFAULT_SERVICES:
        assert (plan.named(f"{name}-service", SERVICE).props["tags"].get("OffHours") == "true") is tagged
        assert plan.named(f"{name}-scaling", TARGET).props["minCapacity"] == minimum
