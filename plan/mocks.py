"""Realistic mock outputs for the offline engine.

Two modes, as the real engine has:
- update (`preview=False`): every resource gets a plausible id and computed outputs (ARNs, endpoints,
  awsx subnet ids per AZ and tier), as after `pulumi up`. Inputs are echoed, as provider state does.
- preview (`preview=True`): a new stack's `pulumi preview`. Ids and computed outputs are unknown; only
  inputs propagate to outputs. So values derived from another resource's output are unknown
  downstream, exactly where a real preview would leave them unknown.

awsx components are remote: their children never exist here. Their outputs are synthesised from
their inputs the way awsx computes them (AZ count, subnet tiers), never by echoing inputs.
"""
from __future__ import annotations

import hashlib
import ipaddress
from typing import Any, Callable, Optional

import pulumi

ACCOUNT_ID = "123456789012"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown sentinel (pulumi.runtime.rpc.UNKNOWN)
AZ_LETTERS = "abcdef"


def _h(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def _module(token: str) -> str:
    # aws:s3/bucket:Bucket -> s3
    return token.split(":")[1].split("/")[0]


def _camel_type(token: str) -> str:
    return token.split(":")[1].split("/")[-1] if "/" in token.split(":")[1] else token.split(":")[-1]


class Context:
    def __init__(self, token: str, name: str, inputs: dict, region: str):
        self.token, self.name, self.inputs, self.region = token, name, inputs, region
        self.key = f"{token}::{name}"

    def hex(self, n: int = 17) -> str:
        return _h(self.key, n)

    def physical(self, prop: str = "name", limit: int = 63) -> str:
        value = self.inputs.get(prop)
        if isinstance(value, str) and value:
            return value
        return f"{self.name}-{_h(self.key, 7)}"[-limit:]

    def arn(self, service: str, resource: str, region: Optional[str] = None, account: str = ACCOUNT_ID) -> str:
        return f"arn:aws:{service}:{self.region if region is None else region}:{account}:{resource}"


def _azs(region: str, count: int) -> list[str]:
    return [f"{region}{AZ_LETTERS[i]}" for i in range(count)]


def _awsx_vpc(ctx: Context) -> dict:
    """What awsx.ec2.Vpc resolves its outputs to: one subnet per AZ per spec, ids per tier."""
    count = int(ctx.inputs.get("numberOfAvailabilityZones") or 3)
    specs = ctx.inputs.get("subnetSpecs") or [{"type": "Public"}, {"type": "Private"}]
    cidr = ipaddress.IPv4Network(ctx.inputs.get("cidrBlock") or "10.0.0.0/16")
    out: dict[str, Any] = {"vpcId": f"vpc-{ctx.hex()}", "publicSubnetIds": [], "privateSubnetIds": [],
                           "isolatedSubnetIds": [], "subnetLayout": []}
    free = [cidr]
    for az in _azs(ctx.region, count):
        for spec in specs:
            kind = spec.get("type", "Private")
            mask = int(spec.get("cidrMask") or 24)
            block = _allocate(free, mask)
            sid = f"subnet-{_h(ctx.key + az + kind, 17)}"
            out[f"{kind.lower()}SubnetIds"].append(sid)
            out["subnetLayout"].append({"type": kind, "cidrMask": mask, "availabilityZone": az,
                                        "cidrBlock": str(block) if block else None})
    return out


def _allocate(free: list, mask: int):
    free.sort(key=lambda n: (n.prefixlen * -1, int(n.network_address)))
    for i, net in enumerate(sorted(free, key=lambda n: int(n.network_address))):
        if net.prefixlen <= mask:
            free.remove(net)
            sub = list(net.subnets(new_prefix=mask))
            free.extend(ipaddress.collapse_addresses(sub[1:]))
            return sub[0]
    return None


# Computed outputs by type token. Each gets the Context and returns the outputs AWS would compute.
# Anything not listed gets `arn` (and `name` when the type auto-names) from the generic rule below.
OUTPUTS: dict[str, Callable[[Context], dict]] = {
    "awsx:ec2:Vpc": _awsx_vpc,
    "aws:kms/key:Key": lambda c: {"keyId": f"{c.hex(8)}-{c.hex(4)}-4{c.hex(3)}-8{c.hex(3)}-{c.hex(12)}",
                                  "arn": c.arn("kms", f"key/{c.hex(8)}-{c.hex(4)}-4{c.hex(3)}-8{c.hex(3)}-{c.hex(12)}")},
    "aws:kms/alias:Alias": lambda c: {"arn": c.arn("kms", c.inputs.get("name", "alias/x")), "targetKeyArn": None},
    "aws:iam/role:Role": lambda c: {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{c.physical()}", "name": c.physical(),
                                    "uniqueId": "AROA" + c.hex(17).upper()},
    "aws:iam/policy:Policy": lambda c: {"arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{c.physical()}",
                                        "name": c.physical()},
    "aws:iam/instanceProfile:InstanceProfile": lambda c: {
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{c.physical()}", "name": c.physical()},
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda c: {
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.{c.region}.amazonaws.com/id/{c.hex(32).upper()}"},
    "aws:cloudwatch/logGroup:LogGroup": lambda c: {"arn": c.arn("logs", f"log-group:{c.physical()}"),
                                                   "name": c.physical()},
    "aws:secretsmanager/secret:Secret": lambda c: {"arn": c.arn("secretsmanager", f"secret:{c.physical()}-{c.hex(6)}"),
                                                   "name": c.physical()},
    "aws:ec2/securityGroup:SecurityGroup": lambda c: {"id": f"sg-{c.hex()}", "arn": c.arn("ec2", f"security-group/sg-{c.hex()}"),
                                                      "name": c.physical()},
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda c: {"id": f"vpce-{c.hex()}", "arn": c.arn("ec2", f"vpc-endpoint/vpce-{c.hex()}")},
    "aws:ec2/flowLog:FlowLog": lambda c: {"id": f"fl-{c.hex()}", "arn": c.arn("ec2", f"vpc-flow-log/fl-{c.hex()}")},
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": lambda c: {"id": f"sg-{c.hex()}"},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda c: {"id": f"lt-{c.hex()}", "latestVersion": 1,
                                                        "arn": c.arn("ec2", f"launch-template/lt-{c.hex()}")},
    "aws:s3/bucket:Bucket": lambda c: {"bucket": c.physical("bucket"), "arn": f"arn:aws:s3:::{c.physical('bucket')}",
                                       "bucketDomainName": f"{c.physical('bucket')}.s3.amazonaws.com",
                                       "bucketRegionalDomainName": f"{c.physical('bucket')}.s3.{c.region}.amazonaws.com",
                                       "id": c.physical("bucket")},
    "aws:sqs/queue:Queue": lambda c: {"arn": c.arn("sqs", c.physical()), "name": c.physical(),
                                      "url": f"https://sqs.{c.region}.amazonaws.com/{ACCOUNT_ID}/{c.physical()}"},
    "aws:sns/topic:Topic": lambda c: {"arn": c.arn("sns", c.physical()), "name": c.physical()},
    "aws:lb/loadBalancer:LoadBalancer": lambda c: {
        "arn": c.arn("elasticloadbalancing", f"loadbalancer/app/{c.physical(limit=32)}/{c.hex(16)}"),
        "arnSuffix": f"app/{c.physical(limit=32)}/{c.hex(16)}", "dnsName": f"{c.physical(limit=32)}-{c.hex(9)}.{c.region}.elb.amazonaws.com",
        "zoneId": "Z35SXDOTRQ7X7K", "name": c.physical(limit=32)},
    "aws:lb/targetGroup:TargetGroup": lambda c: {
        "arn": c.arn("elasticloadbalancing", f"targetgroup/{c.physical(limit=32)}/{c.hex(16)}"),
        "arnSuffix": f"targetgroup/{c.physical(limit=32)}/{c.hex(16)}", "name": c.physical(limit=32)},
    "aws:lb/listener:Listener": lambda c: {"arn": c.arn("elasticloadbalancing", f"listener/app/x/{c.hex(16)}/{c.hex(16)}")},
    "aws:rds/instance:Instance": lambda c: {
        "arn": c.arn("rds", f"db:{c.physical('identifier')}"), "identifier": c.physical("identifier"),
        "address": f"{c.physical('identifier')}.{c.hex(12)}.{c.region}.rds.amazonaws.com", "port": 5432,
        "endpoint": f"{c.physical('identifier')}.{c.hex(12)}.{c.region}.rds.amazonaws.com:5432",
        "resourceId": "db-" + c.hex(26).upper(),
        "masterUserSecrets": [{"secretArn": c.arn("secretsmanager", f"secret:rds!db-{c.hex(8)}-{c.hex(6)}"),
                               "secretStatus": "active", "kmsKeyId": None}]},
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda c: {
        "arn": c.arn("elasticache", f"replicationgroup:{c.physical('replicationGroupId')}"),
        "primaryEndpointAddress": f"master.{c.physical('replicationGroupId')}.{c.hex(6)}.use1.cache.amazonaws.com",
        "readerEndpointAddress": f"replica.{c.physical('replicationGroupId')}.{c.hex(6)}.use1.cache.amazonaws.com"},
    "aws:dynamodb/table:Table": lambda c: {
        "arn": c.arn("dynamodb", f"table/{c.physical()}"), "name": c.physical(),
        "streamArn": c.arn("dynamodb", f"table/{c.physical()}/stream/2026-01-01T00:00:00.000")},
    "aws:docdb/cluster:Cluster": lambda c: {
        "id": c.physical("clusterIdentifier"), "arn": c.arn("rds", f"cluster:{c.physical('clusterIdentifier')}"),
        "endpoint": f"{c.physical('clusterIdentifier')}.cluster-{c.hex(12)}.{c.region}.docdb.amazonaws.com",
        "readerEndpoint": f"{c.physical('clusterIdentifier')}.cluster-ro-{c.hex(12)}.{c.region}.docdb.amazonaws.com",
        "clusterResourceId": "cluster-" + c.hex(26).upper()},
    "aws:rds/parameterGroup:ParameterGroup": lambda c: {
        "id": c.physical(), "name": c.physical(), "arn": c.arn("rds", f"pg:{c.physical()}")},
    "aws:docdb/clusterParameterGroup:ClusterParameterGroup": lambda c: {
        "id": c.physical(), "name": c.physical(), "arn": c.arn("rds", f"cluster-pg:{c.physical()}")},
    "aws:elasticache/parameterGroup:ParameterGroup": lambda c: {
        "id": c.physical(), "name": c.physical(), "arn": c.arn("elasticache", f"parametergroup:{c.physical()}")},
    "aws:ecs/cluster:Cluster": lambda c: {"arn": c.arn("ecs", f"cluster/{c.physical()}"), "name": c.physical()},
    "aws:ecs/service:Service": lambda c: {"arn": c.arn("ecs", f"service/x/{c.physical()}"), "name": c.physical()},
    "aws:ecs/taskDefinition:TaskDefinition": lambda c: {
        "arn": c.arn("ecs", f"task-definition/{c.inputs.get('family', c.name)}:1"), "revision": 1},
    "aws:lambda/function:Function": lambda c: {
        "arn": c.arn("lambda", f"function:{c.physical()}"), "name": c.physical(),
        "invokeArn": f"arn:aws:apigateway:{c.region}:lambda:path/2015-03-31/functions/{c.arn('lambda', 'function:' + c.physical())}/invocations"},
    "aws:cloudfront/distribution:Distribution": lambda c: {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/E{c.hex(13).upper()}", "id": f"E{c.hex(13).upper()}",
        "domainName": f"d{c.hex(13)}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2"},
    "aws:ecr/repository:Repository": lambda c: {
        "arn": c.arn("ecr", f"repository/{c.physical()}"), "name": c.physical(),
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{c.region}.amazonaws.com/{c.physical()}"},
    "aws:eks/cluster:Cluster": lambda c: {
        "arn": c.arn("eks", f"cluster/{c.physical()}"), "name": c.physical(),
        "endpoint": f"https://{c.hex(32).upper()}.gr7.{c.region}.eks.amazonaws.com",
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{c.region}.amazonaws.com/id/{c.hex(32).upper()}"}]}],
        "certificateAuthority": {"data": "LS0tLS1CRUdJTi"}},
}


# --- edge and events tiers (issue 5) ---
def _uuid(c: Context) -> str:
    return f"{c.hex(8)}-{c.hex(4)}-4{c.hex(3)}-8{c.hex(3)}-{c.hex(12)}"


def _waf_acl(c: Context) -> dict:
    # CLOUDFRONT-scope ACLs live in us-east-1 ("global"), whatever the stack's region.
    glob = c.inputs.get("scope") == "CLOUDFRONT"
    region, kind = ("us-east-1", "global") if glob else (c.region, "regional")
    return {"id": _uuid(c), "arn": c.arn("wafv2", f"{kind}/webacl/{c.physical()}/{_uuid(c)}", region=region)}


OUTPUTS.update({
    "aws:apigateway/restApi:RestApi": lambda c: {
        "id": c.hex(10), "rootResourceId": c.hex(10)[::-1], "arn": f"arn:aws:apigateway:{c.region}::/restapis/{c.hex(10)}",
        "executionArn": c.arn("execute-api", c.hex(10))},
    "aws:apigateway/resource:Resource": lambda c: {"id": c.hex(6), "path": f"/{c.inputs.get('pathPart', '')}"},
    "aws:apigateway/authorizer:Authorizer": lambda c: {"id": c.hex(6)},
    "aws:apigateway/deployment:Deployment": lambda c: {"id": c.hex(6)},
    "aws:apigateway/stage:Stage": lambda c: {
        "arn": f"arn:aws:apigateway:{c.region}::/restapis/{c.inputs.get('restApi')}/stages/{c.inputs.get('stageName')}",
        "invokeUrl": f"https://{c.inputs.get('restApi')}.execute-api.{c.region}.amazonaws.com/{c.inputs.get('stageName')}",
        "executionArn": c.arn("execute-api", f"{c.inputs.get('restApi')}/{c.inputs.get('stageName')}")},
    "aws:cognito/userPool:UserPool": lambda c: {
        "id": f"{c.region}_{c.hex(9)}", "arn": c.arn("cognito-idp", f"userpool/{c.region}_{c.hex(9)}"),
        "endpoint": f"cognito-idp.{c.region}.amazonaws.com/{c.region}_{c.hex(9)}"},
    "aws:cognito/userPoolClient:UserPoolClient": lambda c: {"id": c.hex(26)},
    "aws:wafv2/webAcl:WebAcl": _waf_acl,
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda c: {"id": f"E{c.hex(13).upper()}"},
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": lambda c: {"id": _uuid(c)},
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": lambda c: {
        "arn": c.arn("logs", f"delivery-source:{c.physical()}", region="us-east-1"), "name": c.physical()},
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": lambda c: {
        "arn": c.arn("logs", f"delivery-destination:{c.physical()}", region="us-east-1"), "name": c.physical()},
    "aws:acm/certificate:Certificate": lambda c: {
        "arn": c.arn("acm", f"certificate/{_uuid(c)}", region="us-east-1"),
        "domainValidationOptions": [{"domainName": c.inputs.get("domainName"),
                                     "resourceRecordName": f"_{c.hex(32)}.{c.inputs.get('domainName')}.",
                                     "resourceRecordType": "CNAME",
                                     "resourceRecordValue": f"_{c.hex(32)[::-1]}.acm-validations.aws."}]},
    "aws:route53/record:Record": lambda c: {"fqdn": c.inputs.get("name")},
    "aws:cloudwatch/eventBus:EventBus": lambda c: {"arn": c.arn("events", f"event-bus/{c.physical()}"),
                                                   "name": c.physical()},
    "aws:cloudwatch/eventRule:EventRule": lambda c: {
        # AWS: rule/<name> on the default bus, rule/<bus>/<name> on a custom bus.
        "arn": c.arn("events", (f"rule/{c.inputs['eventBusName']}/{c.physical()}"
                                if c.inputs.get("eventBusName") not in (None, "default") else f"rule/{c.physical()}")),
        "name": c.physical()},
    "aws:cloudwatch/eventArchive:EventArchive": lambda c: {"arn": c.arn("events", f"archive/{c.physical()}")},
    "aws:kinesis/stream:Stream": lambda c: {"arn": c.arn("kinesis", f"stream/{c.physical()}"), "name": c.physical()},
    "aws:sns/topicSubscription:TopicSubscription": lambda c: {"arn": f"{c.inputs.get('topic')}:{_uuid(c)}"},
})


# --- application tier (issue 4) ---
def _cluster_name(value: Any) -> str:
    # An ECS service's `cluster` input is the cluster ARN (.../cluster/<name>) or its name.
    return str(value or "default").rsplit("/", 1)[-1]


OUTPUTS.update({
    "aws:ecs/service:Service": lambda c: {
        "arn": c.arn("ecs", f"service/{_cluster_name(c.inputs.get('cluster'))}/{c.physical()}"), "name": c.physical(),
        "id": c.arn("ecs", f"service/{_cluster_name(c.inputs.get('cluster'))}/{c.physical()}")},
    "aws:lb/listenerRule:ListenerRule": lambda c: {
        "arn": c.arn("elasticloadbalancing", f"listener-rule/app/x/{c.hex(16)}/{c.hex(16)}/{c.hex(16)}")},
    "aws:appautoscaling/target:Target": lambda c: {
        "arn": c.arn("application-autoscaling", f"scalable-target/{c.hex(36)}"),
        "id": str(c.inputs.get("resourceId") or c.name)},
    "aws:appautoscaling/policy:Policy": lambda c: {
        "arn": c.arn("autoscaling", f"scalingPolicy:{_uuid(c)}:resource/{c.inputs.get('resourceId')}:"
                                    f"policyName/{c.inputs.get('name')}"),
        "alarmArns": [c.arn("cloudwatch", f"alarm:TargetTracking-{c.inputs.get('resourceId')}-AlarmHigh-{_uuid(c)}")]},
    "aws:eks/nodeGroup:NodeGroup": lambda c: {
        "arn": c.arn("eks", f"nodegroup/{c.inputs.get('clusterName')}/{c.physical('nodeGroupName')}/{_uuid(c)}"),
        "nodeGroupName": c.physical("nodeGroupName"), "status": "ACTIVE",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{c.physical('nodeGroupName')}-{_uuid(c)}"}]}]},
    "aws:batch/computeEnvironment:ComputeEnvironment": lambda c: {
        "arn": c.arn("batch", f"compute-environment/{c.physical()}"), "name": c.physical(),
        "ecsClusterArn": c.arn("ecs", f"cluster/AWSBatch-{c.physical()}-{_uuid(c)}")},
    "aws:batch/jobQueue:JobQueue": lambda c: {"arn": c.arn("batch", f"job-queue/{c.physical()}"),
                                              "name": c.physical()},
    "aws:batch/jobDefinition:JobDefinition": lambda c: {
        "arn": c.arn("batch", f"job-definition/{c.physical()}:1"), "revision": 1, "name": c.physical(),
        "arnPrefix": c.arn("batch", f"job-definition/{c.physical()}")},
})

# Observability, governance and DR (issue 7).
OUTPUTS.update({
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda c: {"arn": c.arn("cloudwatch", f"alarm:{c.physical()}"),
                                                         "name": c.physical()},
    "aws:cloudwatch/dashboard:Dashboard": lambda c: {
        "dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{c.physical('dashboardName')}"},
    "aws:cloudtrail/trail:Trail": lambda c: {"arn": c.arn("cloudtrail", f"trail/{c.physical()}"),
                                             "homeRegion": c.region},
    "aws:guardduty/detector:Detector": lambda c: {"id": c.hex(32), "accountId": ACCOUNT_ID,
                                                  "arn": c.arn("guardduty", f"detector/{c.hex(32)}")},
    "aws:cfg/recorder:Recorder": lambda c: {"id": c.physical()},
    "aws:budgets/budget:Budget": lambda c: {"arn": f"arn:aws:budgets::{ACCOUNT_ID}:budget/{c.physical()}",
                                            "id": f"{ACCOUNT_ID}:{c.physical()}"},
    "aws:backup/vault:Vault": lambda c: {"arn": c.arn("backup", f"backup-vault:{c.physical()}"), "name": c.physical(),
                                         "recoveryPoints": 0},
    "aws:backup/plan:Plan": lambda c: {"id": f"{c.hex(8)}-{c.hex(4)}-4{c.hex(3)}-8{c.hex(3)}-{c.hex(12)}",
                                       "arn": c.arn("backup", f"backup-plan:{c.hex(8)}-{c.hex(4)}"), "version": c.hex(32)},
    "aws:backup/selection:Selection": lambda c: {"id": f"{c.hex(8)}-{c.hex(4)}-4{c.hex(3)}-8{c.hex(3)}-{c.hex(12)}"},
    "aws:xray/samplingRule:SamplingRule": lambda c: {"arn": c.arn("xray", f"sampling-rule/{c.physical('ruleName')}")},
})

# ML tier (issue 6). SageMaker ARNs carry the resource name in lower case.
OUTPUTS.update({
    "aws:sagemaker/model:Model": lambda c: {"arn": c.arn("sagemaker", f"model/{c.physical().lower()}"),
                                            "name": c.physical()},
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": lambda c: {
        "arn": c.arn("sagemaker", f"endpoint-config/{c.physical().lower()}"), "name": c.physical()},
    "aws:sagemaker/endpoint:Endpoint": lambda c: {"arn": c.arn("sagemaker", f"endpoint/{c.physical().lower()}"),
                                                  "name": c.physical()},
    "aws:scheduler/schedule:Schedule": lambda c: {
        "arn": c.arn("scheduler", f"schedule/{c.inputs.get('groupName') or 'default'}/{c.physical()}"),
        "name": c.physical(), "groupName": c.inputs.get("groupName") or "default"},
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": lambda c: {"registryId": ACCOUNT_ID,
                                                          "id": str(c.inputs.get("repository") or c.name)},
})

# Types whose physical name Pulumi auto-generates when `name` is not given.
AUTONAMED_PROPERTY = {"aws:s3/bucket:Bucket": "bucket", "aws:rds/instance:Instance": "identifier",
                      "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId"}


def computed_outputs(token: str, name: str, inputs: dict, region: str) -> tuple[str, dict]:
    """The id and computed outputs of a created resource (update mode)."""
    ctx = Context(token, name, inputs, region)
    extra = OUTPUTS.get(token)
    if extra is not None:
        out = extra(ctx)
    elif token.startswith("aws:"):
        svc = _module(token)
        out = {"arn": ctx.arn(svc, f"{_camel_type(token)}/{ctx.physical()}")}
    else:
        out = {}
    out = {k: v for k, v in out.items() if v is not None}
    rid = out.pop("id", None)
    if rid is None:
        rid = f"{ctx.physical()}-{ctx.hex(8)}" if token.startswith("aws:") else f"{name}-id"
    return rid, out


class PlatformMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str, preview: bool):
        self.region, self.preview = region, preview
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        token = args.typ
        if token.startswith("pulumi:providers:"):
            if isinstance(args.inputs.get("region"), str):
                self.provider_regions[f"{args.name}-provider-id"] = args.inputs["region"]
            return f"{args.name}-provider-id", dict(args.inputs)
        # A resource's region: its own `region` input, else its explicit provider's, else the stack's.
        provider_id = (args.provider or "").split("::")[-1]
        region = args.inputs.get("region") if isinstance(args.inputs.get("region"), str) else \
            self.provider_regions.get(provider_id, self.region)
        rid, out = computed_outputs(token, args.name, args.inputs, region)
        if self.preview:
            # A new stack's preview: the id and every computed output are unknown; inputs propagate.
            # Remote components (awsx) compute all their outputs from children that do not exist yet.
            state = {} if token.startswith("awsx:") else dict(args.inputs)
            state.update({k: UNKNOWN for k in out if k not in state})
            return "", state
        state = {} if token.startswith("awsx:") else dict(args.inputs)
        state.update(out)
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        tok = args.token
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci", "userId": "AIDA" + "X" * 17,
                    "id": ACCOUNT_ID}
        if tok in ("aws:index/getRegion:getRegion",):
            region = args.args.get("region") or args.args.get("name") or self.region
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region}
        if tok == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = _azs(self.region, 6)
            return {"names": names, "zoneIds": [f"use1-az{i + 1}" for i in range(6)], "id": self.region}
        if tok == "aws:ec2/getRouteTables:getRouteTables":
            subnets = []
            for f in args.args.get("filters") or []:
                subnets.extend(f.get("values") or [])
            return {"ids": [f"rtb-{_h(s, 17)}" for s in subnets], "id": self.region}
        if tok == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            return {"randomPassword": "mock-random-" + "x" * 52, "id": "random"}
        if tok == "aws:elb/getServiceAccount:getServiceAccount":  # the token aws.elb.get_service_account uses
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
        if tok == "aws:elasticloadbalancing/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
        return {}
