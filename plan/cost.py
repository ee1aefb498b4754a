"""Monthly cost estimate of a plan: baseline (provisioned, 730 h) plus usage (per-stack usage file).

Prices come from one dated table per region (plan/prices/REGION.json): every price names its source and
date, and `"assumption": true` marks one without a reliable source. A resource is priced in the table of
its provider's region (the DR tier's resources in the DR region). Nothing is silently zero: a resource
type with no pricing rule, or a price missing from the table, is listed as unpriced; resources that have
no charge of their own (IAM, security groups, listeners...) are counted under "no charge" with the reason.

Usage file (plan/usage/STACK.yaml), in the spirit of Infracost's usage file:
    resource_type_default_usage: {<type token>: {<key>: value}}   # defaults per type
    resource_usage: {<resource name or glob>: {<key>: value}}     # per resource, wins
Usage keys per type are in USAGE_KEYS below (and in the README); a missing key counts as 0 and the line
says so.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Optional

from .engine import UNKNOWN, Plan, Resource
from .report import TIER_PREFIX, tier_of

HOURS = 730
PRICES_DIR = Path(__file__).resolve().parent / "prices"
USAGE_DIR = Path(__file__).resolve().parent / "usage"

# Usage keys each type reads (all monthly). Documented defaults live in plan/usage/STACK.yaml.
USAGE_KEYS = {
    "awsx:ec2:Vpc": {"nat_data_processed_gb": "GB through the NAT gateways"},
    "aws:ec2/natGateway:NatGateway": {"data_processed_gb": "GB through the gateway"},
    "aws:lb/loadBalancer:LoadBalancer": {"lcu_per_hour": "average LCUs consumed per hour"},
    "aws:alb/loadBalancer:LoadBalancer": {"lcu_per_hour": "average LCUs consumed per hour"},
    "awsx:lb:ApplicationLoadBalancer": {"lcu_per_hour": "average LCUs consumed per hour"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"data_processed_gb": "GB through an interface endpoint"},
    "aws:dynamodb/table:Table": {"write_request_units_million": "M write request units (on-demand)",
                                 "read_request_units_million": "M read request units (on-demand)",
                                 "storage_gb": "table size, GB"},
    "aws:s3/bucket:Bucket": {"storage_gb": "Standard storage, GB"},
    "aws:s3/bucketV2:BucketV2": {"storage_gb": "Standard storage, GB"},
    "aws:cloudfront/distribution:Distribution": {"data_transfer_gb": "GB to the internet (US/MX/CA)",
                                                "requests_million": "M HTTPS requests"},
    "aws:apigateway/restApi:RestApi": {"requests_million": "M REST API requests"},
    "aws:apigatewayv2/api:Api": {"requests_million": "M HTTP requests or WebSocket messages"},
    "aws:lambda/function:Function": {"requests_million": "M invocations", "duration_ms": "average duration, ms"},
    "aws:sqs/queue:Queue": {"requests_million": "M requests (64 KB chunks)"},
    "aws:sns/topic:Topic": {"requests_million": "M publishes"},
    "aws:cloudwatch/eventBus:EventBus": {"events_million": "M custom events put on the bus"},
    "aws:cloudwatch/logGroup:LogGroup": {"ingestion_gb": "GB ingested", "storage_gb": "GB stored"},
    "aws:kinesis/stream:Stream": {"ingest_gb": "GB written (on-demand streams)"},
    "aws:kms/key:Key": {"requests_million": "M API requests"},
    "aws:secretsmanager/secret:Secret": {"api_calls_million": "M API calls"},
    "aws:wafv2/webAcl:WebAcl": {"requests_million": "M requests inspected"},
    "aws:cloudtrail/trail:Trail": {"data_events_million": "M data events", "management_events_million":
                                   "M management events (trails after the first)"},
    "aws:cfg/recorder:Recorder": {"config_items": "configuration items recorded"},
    "aws:cfg/rule:Rule": {"evaluations": "rule evaluations"},
    "aws:backup/vault:Vault": {"storage_gb": "backup storage, GB"},
    "aws:ecr/repository:Repository": {"storage_gb": "image storage, GB"},
    "aws:docdb/cluster:Cluster": {"storage_gb": "cluster storage, GB", "io_million": "M I/O requests"},
}

# No charge of their own (the reason is printed with the count; Infracost lists most as free resources).
FREE = [
    ("pulumi:providers:*", "provider"),
    ("aws:iam/*", "IAM: no charge"),
    ("aws:ec2/securityGroup*", "security group: no charge"),
    ("aws:ec2/defaultSecurityGroup:*", "security group: no charge"),
    ("aws:vpc/securityGroup*", "security group rule: no charge"),
    ("aws:ec2/networkAcl*", "NACL: no charge"),
    ("aws:ec2/routeTable*", "route table: no charge"), ("aws:ec2/route:*", "route: no charge"),
    ("aws:ec2/subnet:*", "subnet: no charge"), ("aws:ec2/vpc:*", "VPC: no charge"),
    ("aws:ec2/internetGateway*", "internet gateway: no charge"),
    ("aws:ec2/flowLog:*", "flow log: its cost is the log group's ingestion"),
    ("aws:kms/alias:*", "alias: no charge"),
    ("aws:secretsmanager/secretVersion:*", "priced with its secret"),
    ("aws:secretsmanager/secretPolicy:*", "no charge"), ("aws:secretsmanager/secretRotation:*", "no charge"),
    ("aws:lb/listener*", "listener: no charge"), ("aws:lb/targetGroup*", "target group: no charge"),
    ("aws:alb/listener*", "listener: no charge"), ("aws:alb/targetGroup*", "target group: no charge"),
    ("aws:ecs/cluster:*", "ECS cluster: no charge (tasks are priced on their services)"),
    ("aws:ecs/clusterCapacityProviders:*", "no charge"),
    ("aws:ecs/taskDefinition:*", "priced through the services that run it"),
    ("aws:appautoscaling/*", "no charge"),
    ("aws:s3/bucket?*:*", "bucket configuration: priced with the bucket"),
    ("aws:s3/accountPublicAccessBlock:*", "no charge"),
    ("aws:rds/subnetGroup:*", "no charge"), ("aws:rds/parameterGroup:*", "no charge"),
    ("aws:rds/clusterParameterGroup:*", "no charge"), ("aws:rds/optionGroup:*", "no charge"),
    ("aws:elasticache/subnetGroup:*", "no charge"), ("aws:elasticache/parameterGroup:*", "no charge"),
    ("aws:elasticache/user*", "no charge"),
    ("aws:docdb/subnetGroup:*", "no charge"), ("aws:docdb/clusterParameterGroup:*", "no charge"),
    ("aws:lambda/permission:*", "no charge"), ("aws:lambda/eventSourceMapping:*", "no charge"),
    ("aws:lambda/alias:*", "no charge"), ("aws:lambda/functionEventInvokeConfig:*", "no charge"),
    ("aws:cloudwatch/eventRule:*", "rules on a bus: events are priced on the bus"),
    ("aws:cloudwatch/eventTarget:*", "no charge"), ("aws:cloudwatch/eventArchive:*", "no baseline charge"),
    ("aws:cloudwatch/logSubscriptionFilter:*", "no charge"), ("aws:cloudwatch/logResourcePolicy:*", "no charge"),
    ("aws:cloudwatch/eventBusPolicy:*", "no charge"),
    ("aws:cloudwatch/logDeliverySource:*", "log delivery configuration: priced on the delivery"),
    ("aws:cloudwatch/logDeliveryDestination:*", "log delivery configuration: priced on the delivery"), ("aws:cloudwatch/logMetricFilter:*", "no charge"),
    ("aws:sns/topicSubscription:*", "no charge"), ("aws:sns/topicPolicy:*", "no charge"),
    ("aws:sqs/queuePolicy:*", "no charge"), ("aws:sqs/redrive*", "no charge"),
    ("aws:backup/plan:*", "backup plan: no charge (Infracost free resource)"),
    ("aws:backup/selection:*", "no charge"), ("aws:backup/vaultPolicy:*", "no charge"),
    ("aws:backup/vaultLockConfiguration:*", "no charge"), ("aws:backup/vaultNotifications:*", "no charge"),
    ("aws:budgets/*", "budgets: no charge (Infracost free resource)"),
    ("aws:costexplorer/costAllocationTag:*", "no charge"), ("aws:backup/regionSettings:*", "no charge"),
    ("aws:backup/globalSettings:*", "no charge"),
    ("aws:acm/*", "public certificates: no charge"),
    ("aws:wafv2/webAclAssociation:*", "no charge"), ("aws:wafv2/webAclLoggingConfiguration:*", "no charge"),
    ("aws:wafv2/ipSet:*", "no charge"),
    ("aws:sagemaker/endpointConfiguration:*", "priced on the endpoint that uses it"),
    ("aws:sagemaker/model:*", "no charge (hosting is priced on the endpoint)"),
    ("aws:ecr/lifecyclePolicy:*", "no charge"), ("aws:ecr/repositoryPolicy:*", "no charge"),
    ("aws:ecr/replicationConfiguration:*", "no charge (replicated storage is usage)"),
    ("aws:cloudfront/originAccess*", "no charge"), ("aws:cloudfront/cachePolicy:*", "no charge"),
    ("aws:cloudfront/originRequestPolicy:*", "no charge"), ("aws:cloudfront/responseHeadersPolicy:*", "no charge"),
    ("aws:apigateway/*", "API Gateway configuration: requests are priced on the API"),
    ("aws:apigatewayv2/*", "API Gateway configuration: requests are priced on the API"),
    ("aws:cognito/userPoolClient:*", "no charge"), ("aws:cognito/userPoolDomain:*", "no charge"),
    ("aws:route53/record:*", "records: queries are usage"),
    ("aws:ssm/parameter:*", "standard parameters: no charge"),
    ("aws:cloudtrail/eventDataStore:*", None),  # None: not free, falls through to unpriced
    ("aws:eks/addon:*", "no charge"), ("aws:eks/accessEntry:*", "no charge"),
    ("aws:eks/accessPolicyAssociation:*", "no charge"), ("aws:eks/podIdentityAssociation:*", "no charge"),
    ("aws:batch/jobQueue:*", "no charge"), ("aws:batch/jobDefinition:*", "no charge"),
    ("aws:cfg/deliveryChannel:*", "no charge"), ("aws:cfg/recorderStatus:*", "no charge"),
    ("aws:ec2/launchTemplate:*", "no charge"), ("aws:ec2/vpcEndpointService*", None),
    ("aws:s3/bucketObject*", "priced with the bucket's storage"),
    ("random:*", "not a cloud resource"), ("tls:*", "not a cloud resource"), ("command:*", "not a cloud resource"),
]

# Known types with no price in the table (usage-based or not sourced): listed as unpriced with a reason.
UNPRICED_REASONS = {
    "aws:cognito/userPool:UserPool": "priced per monthly active user: no sourced price",
    "aws:guardduty/detector:Detector": "priced on analysed events and logs: no sourced price",
    "aws:batch/computeEnvironment:ComputeEnvironment": "no charge of its own; the EC2/Spot capacity its jobs launch is not priced",
    "aws:sfn/stateMachine:StateMachine": "priced per state transition: no sourced price",
    "aws:rds/cluster:Cluster": "Aurora storage and I/O: no sourced price",
    "aws:elasticache/serverlessCache:ServerlessCache": "priced on data stored and ECPUs: no sourced price",
    "aws:securityhub/account:Account": "priced per check and finding: no sourced price",
    "aws:xray/samplingRule:SamplingRule": "X-Ray traces: no sourced price",
    "aws:cloudwatch/logDelivery:LogDelivery": "vended log delivery: priced per GB delivered, no sourced price",
    "aws:dynamodb/tableReplica:TableReplica": "global table replica: replicated writes and replica storage, no sourced price",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
        "cross-region backup copy: snapshot storage and transfer in the DR region, no sourced price",
}


@dataclasses.dataclass(frozen=True)
class Price:
    value: float
    unit: str
    source: str
    date: str
    assumption: bool = False


class PriceTable:
    def __init__(self, region: str, doc: dict):
        self.region, self.dated, self._prices = region, doc.get("dated", ""), doc.get("prices", {})

    def get(self, service: str, item: str) -> Optional[Price]:
        entry = self._prices.get(service, {}).get(item)
        if entry is None:
            return None
        return Price(float(entry["price"]), entry.get("unit", ""), entry.get("source", ""), entry.get("date", ""),
                     bool(entry.get("assumption", False)))


@functools.lru_cache(maxsize=None)
def price_table(region: str, prices_dir: Path = PRICES_DIR) -> Optional[PriceTable]:
    path = Path(prices_dir) / f"{region}.json"
    if not path.exists():
        return None
    return PriceTable(region, json.loads(path.read_text()))


def load_usage(path: Optional[Path]) -> dict:
    if path is None or not Path(path).exists():
        return {}
    import yaml
    doc = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"usage file {path}: expected a mapping")
    return doc


def default_usage_path(stack: str) -> Optional[Path]:
    path = USAGE_DIR / f"{stack}.yaml"
    return path if path.exists() else None


@dataclasses.dataclass
class Line:
    tier: str
    name: str
    type: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float
    usage: bool = False
    assumption: bool = False
    source: str = ""
    region: str = ""
    kind: str = ""                      # stable category across stacks (for --compare)

    def to_json(self) -> dict:
        return {"tier": self.tier, "name": self.name, "type": self.type, "item": self.item, "kind": self.kind,
                "quantity": round(self.quantity, 6), "unit": self.unit, "unitPrice": self.unit_price,
                "monthly": round(self.monthly, 2), "usageBased": self.usage, "assumption": self.assumption,
                "region": self.region, "source": self.source}


@dataclasses.dataclass
class Unpriced:
    tier: str
    name: str
    type: str
    reason: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Estimate:
    stack: str
    region: str
    lines: list[Line]
    unpriced: list[Unpriced]
    free: dict[str, list[str]]          # reason -> resource names
    tables: dict[str, str]              # region -> dated
    usage_file: Optional[str] = None

    @property
    def total(self) -> float:
        return sum(l.monthly for l in self.lines)

    @property
    def baseline(self) -> float:
        return sum(l.monthly for l in self.lines if not l.usage)

    @property
    def usage_total(self) -> float:
        return sum(l.monthly for l in self.lines if l.usage)

    @property
    def assumption_total(self) -> float:
        return sum(l.monthly for l in self.lines if l.assumption)

    def by_tier(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for l in self.lines:
            out[l.tier] += l.monthly
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_json(self) -> dict:
        return {"currency": "USD", "hoursPerMonth": HOURS, "total": round(self.total, 2),
                "baseline": round(self.baseline, 2), "usageBased": round(self.usage_total, 2),
                "assumptionPriced": round(self.assumption_total, 2),
                "byTier": {k: round(v, 2) for k, v in self.by_tier().items()},
                "lines": [l.to_json() for l in self.lines],
                "unpriced": [u.to_json() for u in self.unpriced],
                "noCharge": {reason: len(names) for reason, names in self.free.items()},
                "priceTables": self.tables, "usageFile": self.usage_file}


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value) if _known(value) else default
    except (TypeError, ValueError):
        return default


class Pricer:
    """Prices one plan; handlers call `charge` for each line of a resource."""

    def __init__(self, plan: Plan, usage: dict, prices_dir: Path = PRICES_DIR):
        self.plan, self.usage, self.prices_dir = plan, usage or {}, prices_dir
        self.by_urn = plan.by_urn()
        self.lines: list[Line] = []
        self.unpriced: list[Unpriced] = []
        self.free: dict[str, list[str]] = defaultdict(list)
        self.tables: dict[str, str] = {}
        self._trail_seen = False

    # -- lookups --------------------------------------------------------------------------------
    def region_of(self, r: Resource) -> str:
        provider = r.provider
        if not provider and r.remote:
            # A remote component (awsx) records no provider of its own: it inherits its parent's providers,
            # which its siblings' providers show (the DR region's VPC).
            provider = next((s.provider for s in self.plan.resources if s.parent == r.parent and s.provider), "")
        prov = self.by_urn.get(provider) if provider else None
        region = prov.props.get("region") if prov is not None else None
        return region if isinstance(region, str) and region else self.plan.region

    def tier(self, r: Resource) -> str:
        return tier_of(r, self.by_urn)

    def use(self, r: Resource, key: str) -> tuple[float, bool]:
        """(value, given): resource_usage by name/glob, then the type's default; else 0, not given."""
        for pattern, values in (self.usage.get("resource_usage") or {}).items():
            if fnmatch.fnmatchcase(r.name, str(pattern)) and isinstance(values, dict) and key in values:
                return float(values[key]), True
        defaults = (self.usage.get("resource_type_default_usage") or {}).get(r.type) or {}
        if key in defaults:
            return float(defaults[key]), True
        return 0.0, False

    def dep(self, r: Resource, prop: str, token: Optional[str] = None) -> Optional[Resource]:
        """The resource a property came from (through propertyDependencies, as policies correlate)."""
        for urn in r.propertyDependencies.get(prop, []):
            found = self.by_urn.get(urn)
            if found is not None and (token is None or found.type == token):
                return found
        return None

    # -- recording ------------------------------------------------------------------------------
    def charge(self, r: Resource, item: str, quantity: float, unit: str, service: str, key: str,
               usage: bool = False, scale: float = 1.0, kind: str = "") -> Optional[Line]:
        """A line of `quantity` `unit`s at the table price (service, key) × scale (e.g. 1 - Spot discount)."""
        region = self.region_of(r)
        table = price_table(region, self.prices_dir)
        if table is None:
            self.mark_unpriced(r, f"{item}: no price table for region {region}")
            return None
        self.tables[region] = table.dated
        price = table.get(service, key)
        if price is None:
            self.mark_unpriced(r, f"{item}: no price for {service} {key} in the {region} table")
            return None
        unit_price = price.value * scale
        line = Line(self.tier(r), r.name, r.type, item, quantity, unit, unit_price, quantity * unit_price,
                    usage=usage, assumption=price.assumption, source=price.source, region=region,
                    kind=kind or item.split(" (")[0].split(":")[0])
        self.lines.append(line)
        return line

    def usage_charge(self, r: Resource, key: str, item: str, unit: str, service: str, price_key: str,
                     per: float = 1.0) -> Optional[Line]:
        """A usage line: the usage value × `per` (unit conversion, e.g. M requests -> 10k units)."""
        qty, given = self.use(r, key)
        return self.charge(r, item + ("" if given else f" (usage {key} not given: 0)"), qty * per, unit, service,
                           price_key, usage=True)

    def mark_unpriced(self, r: Resource, reason: str) -> None:
        self.unpriced.append(Unpriced(self.tier(r), r.name, r.type, reason))

    def price_factor(self, r: Resource, service: str, key: str) -> Optional[Price]:
        table = price_table(self.region_of(r), self.prices_dir)
        return table.get(service, key) if table else None

    # -- driver ---------------------------------------------------------------------------------
    def run(self) -> None:
        for r in self.plan.resources:
            if r.type.startswith(TIER_PREFIX):
                continue
            handler = HANDLERS.get(r.type)
            if handler is not None:
                handler(self, r)
                continue
            reason = _free_reason(r.type)
            if reason:
                self.free[reason].append(r.name)
            elif r.type in UNPRICED_REASONS:
                self.mark_unpriced(r, UNPRICED_REASONS[r.type])
            elif not r.custom and not r.remote:
                continue  # a local component: its children carry the cost
            elif not r.custom:
                self.mark_unpriced(r, "component with no pricing rule: its children are not in the plan")
            else:
                self.mark_unpriced(r, "no pricing rule for this resource type")


def _free_reason(token: str) -> Optional[str]:
    for pattern, reason in FREE:
        if fnmatch.fnmatchcase(token, pattern):
            return reason
    return None


# ---------------------------------------------------------------------------------------------------
# Handlers: one per priced type. Each reads the registered inputs (engine camelCase).

def _vpc_azs(r: Resource) -> int:
    p = r.props
    names = p.get("availabilityZoneNames")
    if isinstance(names, list) and names:
        return len(names)
    return int(_num(p.get("numberOfAvailabilityZones"), 3))


def nat_count(vpc: Resource) -> int:
    """NAT gateways awsx creates: None -> 0, Single -> 1, OnePerAz (awsx default) -> one per AZ."""
    strategy = str((vpc.props.get("natGateways") or {}).get("strategy") or "OnePerAz").lower()
    if strategy == "none":
        return 0
    if strategy == "single":
        return 1
    return _vpc_azs(vpc)


def h_awsx_vpc(pr: Pricer, r: Resource) -> None:
    n = nat_count(r)
    strategy = (r.props.get("natGateways") or {}).get("strategy") or "OnePerAz (default)"
    if n == 0:
        pr.free["VPC without NAT gateways: no charge"].append(r.name)
        return
    pr.charge(r, f"NAT gateway hours ({n} x, strategy {strategy})", n * HOURS, "hour", "nat", "hour")
    pr.charge(r, f"NAT gateway public IPv4 ({n} x)", n * HOURS, "hour", "ipv4", "hour")
    pr.usage_charge(r, "nat_data_processed_gb", "NAT data processed", "GB", "nat", "gb")


def h_nat_gateway(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "NAT gateway hours", HOURS, "hour", "nat", "hour")
    if r.props.get("connectivityType", "public") != "private":
        pr.charge(r, "NAT gateway public IPv4", HOURS, "hour", "ipv4", "hour")
    pr.usage_charge(r, "data_processed_gb", "NAT data processed", "GB", "nat", "gb")


def h_eip(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "public IPv4 address", HOURS, "hour", "ipv4", "hour")


def h_lb(pr: Pricer, r: Resource) -> None:
    kind = str(r.props.get("loadBalancerType") or "application")
    service = {"application": "alb", "network": "nlb"}.get(kind)
    if service is None:
        pr.mark_unpriced(r, f"load balancer type {kind}: no sourced price")
        return
    pr.charge(r, f"{kind} load balancer hours", HOURS, "hour", service, "hour")
    lcu, given = pr.use(r, "lcu_per_hour")
    pr.charge(r, "LCU-hours" + ("" if given else " (usage lcu_per_hour not given: 0)"), lcu * HOURS,
              "LCU-hour", service, "lcu_hour", usage=True)


def _fargate_units(cpu: Any, memory: Any) -> Optional[tuple[float, float]]:
    if not (_known(cpu) and _known(memory)) or cpu is None or memory is None:
        return None
    try:
        return float(cpu) / 1024.0, float(memory) / 1024.0
    except (TypeError, ValueError):
        return None


def spot_share(desired: float, strategies: list) -> float:
    """Tasks on FARGATE_SPOT given a capacity provider strategy: bases first, the rest by weight."""
    if not strategies or desired <= 0:
        return 0.0
    remaining, spot = float(desired), 0.0
    for s in strategies:
        base = min(_num(s.get("base")), remaining)
        remaining -= base
        if s.get("capacityProvider") == "FARGATE_SPOT":
            spot += base
    weights = [(s.get("capacityProvider"), _num(s.get("weight"))) for s in strategies]
    total = sum(w for _, w in weights)
    if total > 0 and remaining > 0:
        spot += remaining * sum(w for p, w in weights if p == "FARGATE_SPOT") / total
    return spot


def _fargate_lines(pr: Pricer, r: Resource, vcpu: float, gb: float, desired: float, strategies: list,
                   arm: bool, note: str = "") -> None:
    spot = spot_share(desired, strategies)
    on_demand = desired - spot
    prefix = "arm_" if arm else ""
    arch = "ARM64" if arm else "x86"
    for label, tasks, factor in (("on-demand", on_demand, 1.0), ("Spot", spot, None)):
        if tasks <= 0 and not (label == "on-demand" and spot <= 0):
            continue
        if factor is None:
            discount = pr.price_factor(r, "fargate", "spot_discount")
            if discount is None:
                pr.mark_unpriced(r, "Fargate Spot: no spot_discount in the price table")
                continue
            factor = 1.0 - discount.value
        desc = f"{tasks:g} x {vcpu:g} vCPU/{gb:g} GB {label} {arch}{note}"
        for what, units, key in (("vCPU-h", vcpu, "vcpu_hour"), ("GB-h", gb, "gb_hour")):
            line = pr.charge(r, f"Fargate {what}: {desc}", tasks * units * HOURS, what, "fargate",
                             prefix + key, scale=factor, kind=f"Fargate {what}")
            if line is not None and label == "Spot":
                line.assumption = True  # the Spot discount is an assumption (dynamic rate)


def _strategies(pr: Pricer, svc: Resource) -> list:
    own = svc.props.get("capacityProviderStrategies")
    if isinstance(own, list) and own:
        return own
    if svc.props.get("launchType"):
        return []
    cluster = pr.dep(svc, "cluster", "aws:ecs/cluster:Cluster")
    if cluster is not None:
        for c in pr.plan.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"):
            if cluster.urn in c.propertyDependencies.get("clusterName", []):
                return c.props.get("defaultCapacityProviderStrategies") or []
    return []


def h_ecs_service(pr: Pricer, r: Resource) -> None:
    p = r.props
    if p.get("launchType") == "EC2" or p.get("schedulingStrategy") == "DAEMON":
        pr.mark_unpriced(r, "EC2 launch type: the container instances are not priced")
        return
    td = pr.dep(r, "taskDefinition", "aws:ecs/taskDefinition:TaskDefinition")
    if td is None:
        pr.mark_unpriced(r, "task definition not found in the plan (cpu/memory unknown)")
        return
    units = _fargate_units(td.props.get("cpu"), td.props.get("memory"))
    if units is None:
        pr.mark_unpriced(r, f"task definition {td.name}: cpu/memory not set or unknown")
        return
    desired_raw = p.get("desiredCount")
    desired = _num(desired_raw, 0)
    note = "" if _known(desired_raw) else "; desiredCount not set (provider default 0)"
    arm = str((td.props.get("runtimePlatform") or {}).get("cpuArchitecture", "")).upper() == "ARM64"
    _fargate_lines(pr, r, units[0], units[1], desired, _strategies(pr, r), arm, note)


def h_awsx_fargate_service(pr: Pricer, r: Resource) -> None:
    p = r.props
    tda = p.get("taskDefinitionArgs") or {}
    cpu, mem = tda.get("cpu"), tda.get("memory")
    if not (_known(cpu) and _known(mem)) or cpu is None:
        containers = list((tda.get("containers") or {}).values()) + ([tda["container"]] if tda.get("container") else [])
        try:
            cpu = sum(_num(c.get("cpu")) for c in containers) or None
            mem = sum(_num(c.get("memory") or c.get("memoryReservation")) for c in containers) or None
        except AttributeError:
            cpu = mem = None
    units = _fargate_units(cpu, mem)
    if units is None:
        pr.mark_unpriced(r, "awsx FargateService: task cpu/memory not set or unknown")
        return
    arm = str((tda.get("runtimePlatform") or {}).get("cpuArchitecture", "")).upper() == "ARM64"
    _fargate_lines(pr, r, units[0], units[1], _num(p.get("desiredCount"), 1),
                   p.get("capacityProviderStrategies") or [], arm)


def _rds_lines(pr: Pricer, r: Resource, engine: str, klass: str, multi: bool, storage: float,
               storage_type: str, iops: float, label: str) -> None:
    factor = 1
    if multi:
        f = pr.price_factor(r, "rds", "multi_az_factor")
        factor = int(f.value) if f else 2
    az = f", Multi-AZ x{factor}" if multi else ""
    pr.charge(r, f"{label} {klass} ({engine}{az})", HOURS * factor, "instance-hour", f"rds.{engine}", klass,
              kind=f"DB {label}")
    if storage > 0:
        if storage_type in ("gp2", "gp3"):
            pr.charge(r, f"{storage_type} storage {storage:g} GB{az}", storage * factor, "GB-month", "rds",
                      f"storage_{storage_type}", kind="DB storage")
            if storage_type == "gp3" and iops > 3000:
                pr.charge(r, f"gp3 IOPS above 3,000{az}", (iops - 3000) * factor, "IOPS-month", "rds", "gp3_iops")
        else:
            pr.mark_unpriced(r, f"{storage_type} storage: no sourced price")


def h_rds_instance(pr: Pricer, r: Resource) -> None:
    p = r.props
    klass = p.get("instanceClass")
    if not _known(klass):
        pr.mark_unpriced(r, "instanceClass unknown")
        return
    # A source still unknown in a preview (another resource's ARN) is a replica all the same.
    replica = p.get("replicateSourceDb") == UNKNOWN or bool(p.get("replicateSourceDb"))
    engine = str(p.get("engine") or ("postgres" if replica else "unknown"))
    _rds_lines(pr, r, engine, str(klass), bool(p.get("multiAz")), _num(p.get("allocatedStorage")),
               str(p.get("storageType") or "gp2"), _num(p.get("iops")),
               "read replica" if replica else "instance")


def h_rds_cluster_instance(pr: Pricer, r: Resource) -> None:
    p = r.props
    pr.charge(r, f"cluster instance {p.get('instanceClass')} ({p.get('engine')})", HOURS, "instance-hour",
              f"rds.{p.get('engine')}", str(p.get("instanceClass")))


def h_elasticache_rg(pr: Pricer, r: Resource) -> None:
    p = r.props
    node = p.get("nodeType")
    if _known(p.get("numCacheClusters")) and p.get("numCacheClusters") is not None:
        nodes = _num(p.get("numCacheClusters"))
    elif p.get("numNodeGroups") is not None:
        nodes = _num(p.get("numNodeGroups"), 1) * (1 + _num(p.get("replicasPerNodeGroup"), 0))
    else:
        nodes = 1
    pr.charge(r, f"{nodes:g} x {node} nodes ({p.get('engine') or 'redis'})", nodes * HOURS, "node-hour",
              "elasticache", str(node), kind="cache nodes")


def h_elasticache_cluster(pr: Pricer, r: Resource) -> None:
    p = r.props
    if p.get("replicationGroupId") and not p.get("nodeType"):
        pr.free["member of a replication group: priced on the group"].append(r.name)
        return
    nodes = _num(p.get("numCacheNodes"), 1)
    pr.charge(r, f"{nodes:g} x {p.get('nodeType')} nodes", nodes * HOURS, "node-hour", "elasticache",
              str(p.get("nodeType")))


def h_docdb_instance(pr: Pricer, r: Resource) -> None:
    klass = r.props.get("instanceClass")
    pr.charge(r, f"instance {klass}", HOURS, "instance-hour", "docdb", str(klass), kind="DocumentDB instance")


def h_docdb_cluster(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "storage_gb", "cluster storage", "GB-month", "docdb", "storage_gb")
    pr.usage_charge(r, "io_million", "I/O requests", "M IOs", "docdb", "io_million")


def h_eks_cluster(pr: Pricer, r: Resource) -> None:
    pr.charge(r, f"EKS control plane (Kubernetes {r.props.get('version') or 'default'}, standard support)",
              HOURS, "cluster-hour", "eks", "cluster_hour")


def h_eks_node_group(pr: Pricer, r: Resource) -> None:
    p = r.props
    types = p.get("instanceTypes") or ["t3.medium"]
    desired = _num((p.get("scalingConfig") or {}).get("desiredSize"), 1)
    capacity = str(p.get("capacityType") or "ON_DEMAND")
    service = "ec2" if capacity == "ON_DEMAND" else "ec2.spot"
    pr.charge(r, f"{desired:g} x {types[0]} nodes ({capacity})", desired * HOURS, "instance-hour", service,
              str(types[0]), kind="EKS nodes")


def h_kms_key(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "customer managed key", 1, "key-month", "kms", "key_month")
    pr.usage_charge(r, "requests_million", "API requests", "10k requests", "kms", "requests_10k", per=100)


def h_secret(pr: Pricer, r: Resource) -> None:
    replicas = r.props.get("replicas") or []
    n = 1 + (len(replicas) if isinstance(replicas, list) else 0)
    pr.charge(r, "secret" + (f" + {n - 1} replica(s)" if n > 1 else ""), n, "secret-month", "secretsmanager",
              "secret_month")
    pr.usage_charge(r, "api_calls_million", "API calls", "10k calls", "secretsmanager", "api_10k", per=100)


def h_metric_alarm(pr: Pricer, r: Resource) -> None:
    p = r.props
    queries = p.get("metricQueries") or []
    metrics = sum(1 for q in queries if isinstance(q, dict) and q.get("metric")) if queries else 1
    high = _num(p.get("period"), 60) < 60
    pr.charge(r, f"alarm, {metrics} metric(s)" + (", high resolution" if high else ""), metrics, "alarm metric-month",
              "cloudwatch", "alarm_metric_high_res" if high else "alarm_metric")


def h_composite_alarm(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "composite alarm", 1, "alarm-month", "cloudwatch", "composite_alarm")


def h_dashboard(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "dashboard", 1, "dashboard-month", "cloudwatch", "dashboard_month")


def h_log_group(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "ingestion_gb", "log ingestion", "GB", "cloudwatch", "logs_ingest_gb")
    pr.usage_charge(r, "storage_gb", "log storage", "GB-month", "cloudwatch", "logs_storage_gb")


def h_web_acl(pr: Pricer, r: Resource) -> None:
    rules = r.props.get("rules") or []
    n = len(rules) if isinstance(rules, list) else 0
    managed = sum(1 for rule in rules if isinstance(rule, dict)
                  and "managedRuleGroupStatement" in (rule.get("statement") or {})) if n else 0
    pr.charge(r, "web ACL", 1, "ACL-month", "wafv2", "web_acl_month")
    if n:
        pr.charge(r, f"{n} rule(s) ({managed} managed rule groups)", n, "rule-month", "wafv2", "rule_month")
    pr.usage_charge(r, "requests_million", "requests inspected", "M requests", "wafv2", "requests_million")


def h_rule_group(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "rule group", 1, "rule group-month", "wafv2", "rule_group_month")


def endpoint_azs(pr: Pricer, r: Resource) -> Optional[int]:
    subnets = r.props.get("subnetIds")
    if isinstance(subnets, list) and subnets:
        return len(subnets)
    vpc = pr.dep(r, "subnetIds", "awsx:ec2:Vpc")
    return _vpc_azs(vpc) if vpc is not None else None


def h_vpc_endpoint(pr: Pricer, r: Resource) -> None:
    kind = str(r.props.get("vpcEndpointType") or "Gateway")
    if kind == "Gateway":
        pr.free["gateway endpoint: no charge"].append(r.name)
        return
    if kind != "Interface":
        pr.mark_unpriced(r, f"{kind} endpoint: no sourced price")
        return
    azs = endpoint_azs(pr, r)
    if azs is None:
        pr.mark_unpriced(r, "interface endpoint: subnet count unknown")
        return
    service = str(r.props.get("serviceName") or "").split(".")[-1] if _known(r.props.get("serviceName")) else "?"
    pr.charge(r, f"interface endpoint {service}, {azs} AZ(s)", azs * HOURS, "ENI-hour", "vpce", "interface_hour",
              kind="interface endpoint hours")
    pr.usage_charge(r, "data_processed_gb", "endpoint data processed", "GB", "vpce", "gb")


def h_kinesis(pr: Pricer, r: Resource) -> None:
    mode = str((r.props.get("streamModeDetails") or {}).get("streamMode") or "PROVISIONED")
    if mode == "ON_DEMAND":
        pr.charge(r, "on-demand stream hours", HOURS, "stream-hour", "kinesis", "on_demand_stream_hour",
                  kind="stream capacity")
        pr.usage_charge(r, "ingest_gb", "on-demand data in", "GB", "kinesis", "on_demand_gb_in")
    else:
        shards = _num(r.props.get("shardCount"), 1)
        pr.charge(r, f"{shards:g} provisioned shard(s)", shards * HOURS, "shard-hour", "kinesis", "shard_hour",
                  kind="stream capacity")


def h_sagemaker_endpoint(pr: Pricer, r: Resource) -> None:
    config = pr.dep(r, "endpointConfigName", "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    if config is None:
        pr.mark_unpriced(r, "endpoint configuration not found in the plan")
        return
    for v in config.props.get("productionVariants") or []:
        if v.get("serverlessConfig"):
            pr.mark_unpriced(r, f"serverless variant {v.get('variantName')}: priced per inference, no sourced price")
            continue
        n = _num(v.get("initialInstanceCount"), 1)
        itype = str(v.get("instanceType"))
        pr.charge(r, f"variant {v.get('variantName') or ''}: {n:g} x {itype}", n * HOURS, "instance-hour",
                  "sagemaker", itype, kind=f"endpoint variant {v.get('variantName') or ''}")


def h_dynamodb(pr: Pricer, r: Resource) -> None:
    p = r.props
    if str(p.get("billingMode") or "PROVISIONED") != "PAY_PER_REQUEST":
        pr.mark_unpriced(r, "provisioned capacity: no sourced RCU/WCU price")
    else:
        pr.usage_charge(r, "write_request_units_million", "on-demand writes", "M WRU", "dynamodb", "wru_million")
        pr.usage_charge(r, "read_request_units_million", "on-demand reads", "M RRU", "dynamodb", "rru_million")
    pr.usage_charge(r, "storage_gb", "table storage", "GB-month", "dynamodb", "storage_gb")
    if (p.get("pointInTimeRecovery") or {}).get("enabled"):
        pr.usage_charge(r, "storage_gb", "point-in-time recovery", "GB-month", "dynamodb", "pitr_gb")
    if p.get("replicas"):
        pr.mark_unpriced(r, "global table replicas: replicated writes not priced")


def h_s3(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "storage_gb", "Standard storage", "GB-month", "s3", "standard_gb")


def h_cloudfront(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "data_transfer_gb", "data transfer out (US/MX/CA)", "GB", "cloudfront", "gb_us")
    pr.usage_charge(r, "requests_million", "HTTPS requests", "10k requests", "cloudfront", "https_10k", per=100)


def h_rest_api(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "requests_million", "REST API requests", "M requests", "apigateway", "rest_million")


def h_http_api(pr: Pricer, r: Resource) -> None:
    ws = str(r.props.get("protocolType") or "HTTP") == "WEBSOCKET"
    pr.usage_charge(r, "requests_million", "WebSocket messages" if ws else "HTTP API requests", "M requests",
                    "apigateway", "websocket_million" if ws else "http_million")


def h_lambda(pr: Pricer, r: Resource) -> None:
    p = r.props
    reqs, given = pr.use(r, "requests_million")
    dur, _ = pr.use(r, "duration_ms")
    mem = _num(p.get("memorySize"), 128)
    arm = "arm64" in (p.get("architectures") or [])
    pr.charge(r, "requests" + ("" if given else " (usage requests_million not given: 0)"), reqs, "M requests",
              "lambda", "requests_million", usage=True)
    gbs = reqs * 1e6 * dur / 1000.0 * mem / 1024.0
    pr.charge(r, f"compute {mem:g} MB x {dur:g} ms ({'arm64' if arm else 'x86'})", gbs, "GB-second", "lambda",
              "arm_gb_second" if arm else "gb_second", usage=True)


def h_sqs(pr: Pricer, r: Resource) -> None:
    fifo = bool(r.props.get("fifoQueue"))
    pr.usage_charge(r, "requests_million", "FIFO requests" if fifo else "requests", "M requests", "sqs",
                    "fifo_million" if fifo else "standard_million")


def h_sns(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "requests_million", "publishes", "M requests", "sns", "requests_million")


def h_event_bus(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "events_million", "custom events", "M events", "eventbridge", "custom_events_million")


def h_trail(pr: Pricer, r: Resource) -> None:
    if not pr._trail_seen:
        pr._trail_seen = True
        pr.charge(r, "first copy of management events (free)", 1, "trail-month", "cloudtrail",
                  "management_first_copy")
    else:
        pr.usage_charge(r, "management_events_million", "additional copy of management events", "100k events",
                        "cloudtrail", "management_extra_100k", per=10)
    if r.props.get("eventSelectors") or r.props.get("advancedEventSelectors"):
        pr.usage_charge(r, "data_events_million", "data events", "100k events", "cloudtrail", "data_100k", per=10)


def h_config_recorder(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "config_items", "configuration items recorded", "items", "config", "item")


def h_config_rule(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "evaluations", "rule evaluations", "evaluations", "config", "rule_evaluation")


def h_backup_vault(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "storage_gb", "backup storage", "GB-month", "backup", "storage_gb")


def h_ecr(pr: Pricer, r: Resource) -> None:
    pr.usage_charge(r, "storage_gb", "image storage", "GB-month", "ecr", "storage_gb")


def h_zone(pr: Pricer, r: Resource) -> None:
    pr.charge(r, "hosted zone", 1, "zone-month", "route53", "zone_month")


HANDLERS: dict[str, Callable[[Pricer, Resource], None]] = {
    "awsx:ec2:Vpc": h_awsx_vpc,
    "aws:ec2/natGateway:NatGateway": h_nat_gateway,
    "aws:ec2/eip:Eip": h_eip,
    "aws:lb/loadBalancer:LoadBalancer": h_lb,
    "aws:alb/loadBalancer:LoadBalancer": h_lb,
    "awsx:lb:ApplicationLoadBalancer": h_lb,
    "aws:ecs/service:Service": h_ecs_service,
    "awsx:ecs:FargateService": h_awsx_fargate_service,
    "aws:rds/instance:Instance": h_rds_instance,
    "aws:rds/clusterInstance:ClusterInstance": h_rds_cluster_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": h_elasticache_rg,
    "aws:elasticache/cluster:Cluster": h_elasticache_cluster,
    "aws:docdb/clusterInstance:ClusterInstance": h_docdb_instance,
    "aws:docdb/cluster:Cluster": h_docdb_cluster,
    "aws:eks/cluster:Cluster": h_eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": h_eks_node_group,
    "aws:kms/key:Key": h_kms_key,
    "aws:kms/replicaKey:ReplicaKey": h_kms_key,
    "aws:secretsmanager/secret:Secret": h_secret,
    "aws:cloudwatch/metricAlarm:MetricAlarm": h_metric_alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": h_composite_alarm,
    "aws:cloudwatch/dashboard:Dashboard": h_dashboard,
    "aws:cloudwatch/logGroup:LogGroup": h_log_group,
    "aws:wafv2/webAcl:WebAcl": h_web_acl,
    "aws:wafv2/ruleGroup:RuleGroup": h_rule_group,
    "aws:ec2/vpcEndpoint:VpcEndpoint": h_vpc_endpoint,
    "aws:kinesis/stream:Stream": h_kinesis,
    "aws:sagemaker/endpoint:Endpoint": h_sagemaker_endpoint,
    "aws:dynamodb/table:Table": h_dynamodb,
    "aws:s3/bucket:Bucket": h_s3,
    "aws:s3/bucketV2:BucketV2": h_s3,
    "aws:cloudfront/distribution:Distribution": h_cloudfront,
    "aws:apigateway/restApi:RestApi": h_rest_api,
    "aws:apigatewayv2/api:Api": h_http_api,
    "aws:lambda/function:Function": h_lambda,
    "aws:sqs/queue:Queue": h_sqs,
    "aws:sns/topic:Topic": h_sns,
    "aws:cloudwatch/eventBus:EventBus": h_event_bus,
    "aws:cloudtrail/trail:Trail": h_trail,
    "aws:cfg/recorder:Recorder": h_config_recorder,
    "aws:cfg/rule:Rule": h_config_rule,
    "aws:backup/vault:Vault": h_backup_vault,
    "aws:ecr/repository:Repository": h_ecr,
    "aws:route53/zone:Zone": h_zone,
}


def estimate(plan: Plan, usage: Optional[dict] = None, *, usage_file: Optional[Path] = None,
             prices_dir: Path = PRICES_DIR) -> Estimate:
    """Price `plan`. `usage` (a parsed usage document) wins over `usage_file`."""
    if usage is None:
        usage = load_usage(usage_file)
    pricer = Pricer(plan, usage, prices_dir)
    pricer.run()
    return Estimate(plan.stack, plan.region, pricer.lines, pricer.unpriced, dict(pricer.free), pricer.tables,
                    str(usage_file) if usage_file else None)


# ---------------------------------------------------------------------------------------------------
# Text reports

def _money(x: float) -> str:
    return f"{x:,.2f}"


def _qty(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.3f}".rstrip("0").rstrip(".")


def dominant(est: Estimate, n: int = 3) -> str:
    if est.total <= 0:
        return "nothing priced"
    tiers = est.by_tier()
    tier, amount = next(iter(tiers.items()))
    top = sorted(est.lines, key=lambda l: -l.monthly)[:n]
    tops = "; ".join(f"{l.name} {l.item.split(':')[0].split(' (')[0]} ${_money(l.monthly)}" for l in top)
    return f"dominated by the {tier} tier ({amount / est.total:.0%}); largest lines: {tops}"


def text(est: Estimate) -> str:
    tables = ", ".join(f"{region} dated {dated}" for region, dated in sorted(est.tables.items())) or "none used"
    out = [f"monthly cost estimate, stack {est.stack} ({HOURS} h/month, USD; prices: {tables}; "
           f"usage: {est.usage_file or 'none (usage lines are 0)'})",
           "  * usage-based line   ~ assumption-priced (no reliable source; see plan/prices/)",
           f"  {'tier / resource':<34} {'item':<64} {'quantity':>12} {'unit price':>11} {'monthly':>10}"]
    tiers = defaultdict(list)
    for l in est.lines:
        tiers[l.tier].append(l)
    for tier, amount in est.by_tier().items():
        out.append(f"  {tier}")
        for l in tiers[tier]:
            mark = ("*" if l.usage else " ") + ("~" if l.assumption else " ")
            region = "" if l.region == est.region else f" [{l.region}]"
            item = (l.item + region)
            out.append(f"{mark}   {l.name[:32]:<32} {item[:64]:<64} {_qty(l.quantity):>12} "
                       f"{l.unit_price:>11.6g} {_money(l.monthly):>10}")
        out.append(f"    {tier + ' total':<{34 + 64 + 12 + 11 + 1}} {_money(amount):>12}")
    out.append(f"TOTAL ${_money(est.total)}/month: baseline ${_money(est.baseline)}, usage-based* "
               f"${_money(est.usage_total)}; assumption-priced~ ${_money(est.assumption_total)}")
    out.append(f"  {dominant(est)}")
    if est.unpriced:
        out.append(f"UNPRICED (not in the total): {len(est.unpriced)}")
        for u in est.unpriced:
            out.append(f"  {u.tier}/{u.name} ({u.type}): {u.reason}")
    else:
        out.append("unpriced: none")
    n_free = sum(len(v) for v in est.free.values())
    out.append(f"no charge of their own: {n_free} resources ("
               + "; ".join(f"{len(v)} {k}" for k, v in sorted(est.free.items(), key=lambda kv: -len(kv[1]))) + ")")
    return "\n".join(out)


def compare_text(a: Estimate, b: Estimate, n: int = 10) -> str:
    """Two stacks side by side: per tier, then the lines that make the difference."""
    out = [f"cost comparison (USD/month): {a.stack} vs {b.stack}",
           f"  {'tier':<20} {a.stack:>12} {b.stack:>12} {'difference':>12}"]
    ta, tb = a.by_tier(), b.by_tier()
    for tier in sorted(set(ta) | set(tb), key=lambda t: -(tb.get(t, 0) + ta.get(t, 0))):
        x, y = ta.get(tier, 0.0), tb.get(tier, 0.0)
        out.append(f"  {tier:<20} {_money(x):>12} {_money(y):>12} {_money(y - x):>12}")
    out.append(f"  {'TOTAL':<20} {_money(a.total):>12} {_money(b.total):>12} {_money(b.total - a.total):>12}"
               + (f"  ({a.stack} = {a.total / b.total:.1%} of {b.stack})" if b.total else ""))
    out.append("what makes the difference (largest first):")
    for d in differences(a, b)[:n]:
        out.append(f"  {d['delta']:>+10,.2f}  {d['tier']}/{d['name']} {d['what']}: {d['a']}  vs  {d['b']}")
    out.append(f"  {a.stack}: {dominant(a)}")
    out.append(f"  {b.stack}: {dominant(b)}")
    return "\n".join(out)


def _key(l: Line) -> tuple:
    return (l.tier, l.name, l.type, l.kind or l.item)


def differences(a: Estimate, b: Estimate) -> list[dict]:
    la, lb = defaultdict(list), defaultdict(list)
    for l in a.lines:
        la[_key(l)].append(l)
    for l in b.lines:
        lb[_key(l)].append(l)
    rows = []
    for key in set(la) | set(lb):
        xa, xb = la.get(key, []), lb.get(key, [])
        sa, sb = sum(l.monthly for l in xa), sum(l.monthly for l in xb)
        if abs(sb - sa) < 0.005:
            continue

        def desc(lines, total):
            if not lines:
                return "absent"
            return "; ".join(l.item.split(": ", 1)[-1] for l in lines) + f" = ${_money(total)}"
        rows.append({"tier": key[0], "name": key[1], "what": key[3], "delta": sb - sa,
                     "a": desc(xa, sa), "b": desc(xb, sb)})
    return sorted(rows, key=lambda r: -abs(r["delta"]))


# ---------------------------------------------------------------------------------------------------
# Command-line glue for `python -m plan` (--cost, --compare, --usage, --critical-path, --diagram)

def _estimate_for(plan: Plan, stack: str, usage_path: Optional[str]) -> Estimate:
    path = Path(usage_path) if usage_path else default_usage_path(stack)
    if usage_path and not Path(usage_path).exists():
        from .engine import PlanError
        raise PlanError(f"usage file {usage_path} not found")
    try:
        return estimate(plan, usage_file=path)
    except ValueError as exc:
        from .engine import PlanError
        raise PlanError(str(exc)) from None


def cli_extras(args, plan: Plan, stack: str) -> tuple[dict, list[str]]:
    """(keys added to --json, text sections printed after the plan). Raises PlanError (exit 2)."""
    from . import critical_path as cp

    sections: list[str] = []
    wanted = ("json", "cost", "compare", "critical_path", "diagram")
    if not any(getattr(args, name, None) for name in wanted):
        return {}, sections
    if getattr(args, "diagram", None):
        from . import diagram
        written = diagram.write(plan, args.diagram)
        print(f"wrote {written}", file=sys.stderr)
    est = _estimate_for(plan, stack, getattr(args, "usage", None))
    path = cp.critical_path(plan)
    doc = {"monthlyCost": est.to_json(), "criticalPath": path.to_json()}
    if getattr(args, "compare", None):
        from .engine import main_program, run_program
        from .stackfile import load_stack_config, stack_file_path
        other_name, other_file = stack_file_path(args.compare, None)
        config, secrets = load_stack_config(other_name, other_file)
        other_plan = run_program(main_program(), config=config, stack=other_name, preview=plan.preview,
                                 secret_keys=secrets)
        other = _estimate_for(other_plan, other_name, None)
        doc["costComparison"] = {"other": other_name, "otherMonthlyCost": other.to_json(),
                                 "differences": [{k: (round(v, 2) if k == "delta" else v) for k, v in d.items()}
                                                 for d in differences(est, other)]}
        if not args.json:
            sections.append(text(est))
            sections.append(compare_text(est, other))
    elif getattr(args, "cost", False) and not args.json:
        sections.append(text(est))
    if getattr(args, "critical_path", False) and not args.json:
        sections.append(cp.text(path))
    return doc, sections
