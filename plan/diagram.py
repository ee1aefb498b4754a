"""The architecture picture of a plan: tiers as groups, AWS service icons, the main data flows.

`python -m plan --stack prod --diagram FILE.png|.svg` draws it with the `diagrams` library (Graphviz `dot`
must be installed: `apt-get install -y graphviz`); `--diagram FILE.mmd` writes the same model as Mermaid
text for pull-request descriptions (no Graphviz needed). Drawn from the plan itself: one node per service
kind per tier ("9 x ECS Fargate service"), resources in another region grouped under their region;
configuration resources (IAM, rules, listeners...) are counted, not drawn.
Flows: users -> edge (CloudFront, API Gateway; WAF protects) -> load balancer -> services -> data;
services -> events -> consumers; services -> ML; data -> DR region (replication).
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Optional

from .engine import Plan, PlanError, Resource
from .report import TIER_PREFIX, tier_of

# type token -> (kind label, diagrams icon "module.Class", role)
KINDS: dict[str, tuple[str, str, str]] = {
    "aws:cloudfront/distribution:Distribution": ("CloudFront", "aws.network.CloudFront", "entry"),
    "aws:apigateway/restApi:RestApi": ("API Gateway REST API", "aws.network.APIGateway", "entry"),
    "aws:apigatewayv2/api:Api": ("API Gateway HTTP API", "aws.network.APIGateway", "entry"),
    "aws:wafv2/webAcl:WebAcl": ("WAF web ACL", "aws.security.WAF", "waf"),
    "aws:cognito/userPool:UserPool": ("Cognito user pool", "aws.security.Cognito", "auth"),
    "aws:route53/zone:Zone": ("Route 53 zone", "aws.network.Route53", "entry"),
    "aws:lb/loadBalancer:LoadBalancer": ("Load balancer", "aws.network.ElbApplicationLoadBalancer", "lb"),
    "aws:alb/loadBalancer:LoadBalancer": ("Load balancer", "aws.network.ElbApplicationLoadBalancer", "lb"),
    "awsx:lb:ApplicationLoadBalancer": ("Load balancer", "aws.network.ElbApplicationLoadBalancer", "lb"),
    "aws:ecs/service:Service": ("ECS Fargate service", "aws.compute.Fargate", "service"),
    "awsx:ecs:FargateService": ("ECS Fargate service", "aws.compute.Fargate", "service"),
    "aws:eks/cluster:Cluster": ("EKS cluster", "aws.compute.ElasticKubernetesService", "service"),
    "aws:eks/nodeGroup:NodeGroup": ("EKS node group", "aws.compute.EC2AutoScaling", "nodes"),
    "aws:batch/computeEnvironment:ComputeEnvironment": ("Batch (Spot)", "aws.compute.Batch", "worker"),
    "aws:lambda/function:Function": ("Lambda function", "aws.compute.Lambda", "function"),
    "aws:sfn/stateMachine:StateMachine": ("Step Functions", "aws.integration.StepFunctions", "worker"),
    "aws:rds/instance:Instance": ("RDS PostgreSQL", "aws.database.RDSPostgresqlInstance", "data"),
    "aws:rds/cluster:Cluster": ("Aurora", "aws.database.Aurora", "data"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("ElastiCache Redis", "aws.database.ElasticacheForRedis", "data"),
    "aws:docdb/cluster:Cluster": ("DocumentDB", "aws.database.DocumentdbMongodbCompatibility", "data"),
    "aws:dynamodb/table:Table": ("DynamoDB table", "aws.database.DynamodbTable", "data"),
    "aws:s3/bucket:Bucket": ("S3 bucket", "aws.storage.SimpleStorageServiceS3Bucket", "data"),
    "aws:s3/bucketV2:BucketV2": ("S3 bucket", "aws.storage.SimpleStorageServiceS3Bucket", "data"),
    "aws:cloudwatch/eventBus:EventBus": ("EventBridge bus", "aws.integration.Eventbridge", "events"),
    "aws:sqs/queue:Queue": ("SQS queue", "aws.integration.SimpleQueueServiceSqsQueue", "events"),
    "aws:sns/topic:Topic": ("SNS topic", "aws.integration.SimpleNotificationServiceSnsTopic", "events"),
    "aws:kinesis/stream:Stream": ("Kinesis stream", "aws.analytics.KinesisDataStreams", "events"),
    "aws:sagemaker/endpoint:Endpoint": ("SageMaker endpoint", "aws.ml.Sagemaker", "ml"),
    "aws:sagemaker/model:Model": ("SageMaker model", "aws.ml.SagemakerModel", "ml"),
    "aws:sagemaker/domain:Domain": ("SageMaker domain", "aws.ml.Sagemaker", "ml"),
    "aws:sagemaker/notebookInstance:NotebookInstance": ("SageMaker notebook", "aws.ml.SagemakerNotebook", "ml"),
    "aws:ecr/repository:Repository": ("ECR repository", "aws.compute.EC2ContainerRegistry", "registry"),
    "awsx:ec2:Vpc": ("VPC (subnets, NAT)", "aws.network.VPC", "network"),
    "aws:ec2/natGateway:NatGateway": ("NAT gateway", "aws.network.NATGateway", "network"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("VPC endpoint", "aws.network.Endpoint", "network"),
    "aws:kms/key:Key": ("KMS key", "aws.security.KeyManagementService", "security"),
    "aws:kms/replicaKey:ReplicaKey": ("KMS key", "aws.security.KeyManagementService", "security"),
    "aws:secretsmanager/secret:Secret": ("Secret", "aws.security.SecretsManager", "security"),
    "aws:iam/role:Role": ("IAM role", "aws.security.IdentityAndAccessManagementIamRole", "security"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("CloudWatch alarm", "aws.management.CloudwatchAlarm", "ops"),
    "aws:cloudwatch/dashboard:Dashboard": ("CloudWatch dashboard", "aws.management.Cloudwatch", "ops"),
    "aws:cloudwatch/logGroup:LogGroup": ("Log group", "aws.management.CloudwatchLogs", "ops"),
    "aws:cloudtrail/trail:Trail": ("CloudTrail", "aws.management.Cloudtrail", "ops"),
    "aws:cfg/recorder:Recorder": ("AWS Config", "aws.management.Config", "ops"),
    "aws:backup/vault:Vault": ("Backup vault", "aws.storage.Backup", "ops"),
    "aws:budgets/budget:Budget": ("Budget", "aws.cost.Budgets", "ops"),
    "aws:guardduty/detector:Detector": ("GuardDuty", "aws.security.Guardduty", "ops"),
}


@dataclasses.dataclass
class Node:
    id: str
    group: str
    kind: str
    icon: str
    role: str
    tier: str
    names: list[str]

    @property
    def label(self) -> str:
        n = len(self.names)
        if n == 1:
            return f"{self.kind}\n{self.names[0]}"
        short = [x if len(x) <= 24 else x[:22] + ".." for x in self.names[:2]]
        shown = ", ".join(short) + (", ..." if n > 2 else "")
        return f"{n} x {self.kind}\n{shown}"


@dataclasses.dataclass
class Model:
    stack: str
    region: str
    groups: "OrderedDict[str, list[Node]]"
    edges: list[tuple[str, str, str, bool]]     # (from id, to id, label, dashed)
    hidden: int

    def nodes(self) -> list[Node]:
        return [n for ns in self.groups.values() for n in ns]


def _region(r: Resource, by_urn: dict, default: str) -> str:
    prov = by_urn.get(r.provider) if r.provider else None
    region = prov.props.get("region") if prov is not None else None
    return region if isinstance(region, str) and region else default


def build(plan: Plan) -> tuple[Model, Optional[Node]]:
    by_urn = plan.by_urn()
    buckets: "OrderedDict[tuple, Node]" = OrderedDict()
    hidden = 0
    for r in plan.resources:
        if r.type.startswith(TIER_PREFIX) or r.type.startswith("pulumi:providers:"):
            continue
        spec = KINDS.get(r.type)
        tier = tier_of(r, by_urn)
        if spec is not None and spec[2] == "security" and r.type.startswith("aws:iam/") and tier != "Security":
            spec = None   # per-service roles: drawn once, in the Security tier
        if spec is not None and r.type == "aws:cloudwatch/logGroup:LogGroup" and tier not in ("Observability",):
            spec = None   # every service has a log group: counted, not drawn
        if spec is None:
            hidden += 1
            continue
        kind, icon, role = spec
        region = _region(r, by_urn, plan.region)
        group = tier if region == plan.region else f"{tier} ({region})"
        if region != plan.region:
            role = "dr"
        key = (group, kind)
        if key not in buckets:
            nid = re.sub(r"[^A-Za-z0-9]", "_", f"{group}_{kind}")
            buckets[key] = Node(nid, group, kind, icon, role, tier, [])
        buckets[key].names.append(r.name)
    groups: "OrderedDict[str, list[Node]]" = OrderedDict()
    for (group, _), node in buckets.items():
        groups.setdefault(group, []).append(node)

    nodes = [n for ns in groups.values() for n in ns]
    by_role = defaultdict(list)
    for n in nodes:
        by_role[n.role].append(n)
    app_tiers = {n.tier for n in by_role["service"]} or {"Application"}
    app_functions = [n for n in by_role["function"] if n.tier in app_tiers]
    consumers = [n for n in by_role["function"] if n.tier == "Events"]
    services = by_role["service"] + app_functions + by_role["worker"]
    data = [n for n in by_role["data"] if n.tier not in ("Edge", "Observability", "Governance", "Dr")]
    edge_buckets = [n for n in by_role["data"] if n.tier == "Edge"]
    edges: list[tuple[str, str, str, bool]] = []

    def link(a: list, b: list, label: str = "", dashed: bool = False):
        for x in a:
            for y in b:
                if x.id != y.id:
                    edges.append((x.id, y.id, label, dashed))

    entries = by_role["entry"]
    cloudfront = [n for n in entries if n.kind == "CloudFront"]
    apis = [n for n in entries if n.kind.startswith("API Gateway")]
    users = Node("users", "", "Users", "onprem.client.Users", "users", "", ["internet"])
    if entries:
        link([users], entries, "HTTPS")
    link(by_role["waf"], entries + by_role["lb"], "protects", True)
    link(by_role["auth"], apis, "authorizes", True)
    link(cloudfront, edge_buckets, "static site")
    front = apis or cloudfront
    if by_role["lb"]:
        link(front, by_role["lb"], "API")
        link(by_role["lb"], by_role["service"], "HTTP")
    else:
        link(front, services, "API")
    link(services, data, "")
    events = [n for n in by_role["events"] if n.tier == "Events"] or by_role["events"]
    link(services, events, "publish")
    link(events, consumers, "consume")
    link(consumers, data, "")
    link(services, by_role["ml"], "inference")
    link(by_role["registry"], by_role["service"], "images", True)
    for target in by_role["dr"]:   # replication to the DR region: same kind (S3 -> S3, RDS -> RDS...)
        link([n for n in data if n.kind == target.kind], [target], "replication", True)
    vaults = [n for n in nodes if n.kind == "Backup vault" and n.role != "dr"]
    link([n for n in data if n.kind in ("RDS PostgreSQL", "DynamoDB table", "DocumentDB")], vaults[:1], "backup", True)
    if not entries and not by_role["lb"] and not services:
        edges.clear()
    return Model(plan.stack, plan.region, groups, edges, hidden), users if entries else None


def mermaid(plan: Plan) -> str:
    model, users = build(plan)
    out = ["flowchart LR", f"  %% {model.stack} stack ({model.region}), generated by `python -m plan --diagram`"]
    if users is not None:
        out.append(f'  {users.id}(("Users"))')
    for i, (group, nodes) in enumerate(model.groups.items()):
        out.append(f'  subgraph g{i}["{group}"]')
        for n in nodes:
            label = n.label.replace("\n", "<br/>").replace('"', "'")
            out.append(f'    {n.id}["{label}"]')
        out.append("  end")
    for a, b, label, dashed in model.edges:
        arrow = "-.->" if dashed else "-->"
        out.append(f"  {a} {arrow}|{label}| {b}" if label else f"  {a} {arrow} {b}")
    out.append(f"  %% {model.hidden} configuration resources (IAM policies, rules, listeners...) not drawn")
    return "\n".join(out) + "\n"


def _icon(path: str):
    import importlib
    module, cls = path.rsplit(".", 1)
    return getattr(importlib.import_module("diagrams." + module), cls)


def render(plan: Plan, path: Path) -> Path:
    fmt = path.suffix.lstrip(".").lower()
    if shutil.which("dot") is None:
        raise PlanError("graphviz 'dot' not found: install it (apt-get install -y graphviz) or use --diagram FILE.mmd")
    try:
        from diagrams import Cluster, Diagram, Edge
    except ImportError:
        raise PlanError("the 'diagrams' package is not installed: pip install -r requirements.txt") from None
    model, users = build(plan)
    made = {}
    graph_attr = {"fontsize": "20", "splines": "spline", "pad": "0.4", "nodesep": "0.5", "ranksep": "1.1"}
    title = f"ai-platform {model.stack} ({model.region}): generated from the offline plan"
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "architecture"     # diagrams also writes the DOT source beside the image
        with Diagram(title, filename=str(stem), outformat=fmt, show=False, direction="LR", graph_attr=graph_attr):
            if users is not None:
                made[users.id] = _icon(users.icon)("Users")
            for group, nodes in model.groups.items():
                with Cluster(group, graph_attr={"fontsize": "16"}):
                    for n in nodes:
                        made[n.id] = _icon(n.icon)(n.label)
            for a, b, label, dashed in model.edges:
                made[a] >> Edge(label=label, style="dashed" if dashed else "solid") >> made[b]
            # Unconnected nodes would all land in the first column: chain them invisibly, a row per group.
            linked = {x for a, b, _, _ in model.edges for x in (a, b)}
            for nodes in model.groups.values():
                loose = [made[n.id] for n in nodes if n.id not in linked]
                for x, y in zip(loose, loose[1:]):
                    x >> Edge(style="invis") >> y
        shutil.copyfile(stem.with_name(f"architecture.{fmt}"), path)
    return path


def write(plan: Plan, target: str) -> Path:
    path = Path(target)
    fmt = path.suffix.lstrip(".").lower()
    if fmt == "mmd":
        try:
            path.write_text(mermaid(plan))
        except OSError as exc:  # one line naming the file (issue 13), not a traceback
            raise PlanError(f"--diagram {target}: cannot write ({exc.strerror or type(exc).__name__})") from None
        return path
    if fmt not in ("png", "svg"):
        raise PlanError(f"--diagram {target}: give a .png, .svg or .mmd file")
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise PlanError(f"--diagram {target}: cannot write (directory {path.parent} missing or not writable)")
    try:
        return render(plan, path)
    except PlanError:
        raise
    except Exception as exc:  # noqa: BLE001 - graphviz failures become one line
        raise PlanError(f"diagram failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
