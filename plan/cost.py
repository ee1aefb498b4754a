"""Monthly cost estimate of a plan: baseline (provisioned, 730 h) plus usage (per-stack usage file).

Arithmetic only. What each type costs is data in the resource-type table (plan/resource_types.json, read
through plan/resource_types.py): declarative lines for the simple types, a named handler below for the types
whose price depends on other resources or on several inputs (Fargate tasks, RDS Multi-AZ, WAF rules...).
Prices come from one dated table per region (plan/prices/REGION.json): every price names its source and
date, and `"assumption": true` marks one without a reliable source. A resource is priced in the table of
its provider's region (the DR tier's resources in the DR region). Nothing is silently zero: a type with no
rule, or a price missing from the table, is listed as unpriced; types with no charge of their own are
counted under "no charge" with the reason.

Usage file (plan/usage/STACK.yaml), in the spirit of Infracost's usage file:
    resource_type_default_usage: {<type token>: {<key>: value}}   # defaults per type
    resource_usage: {<resource name or glob>: {<key>: value}}     # per resource, wins
The usage keys of each type are in the table; a missing key counts as 0 and the line says so.
Reports: plan/report.py. Command line: plan/__main__.py.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import resource_types
from .engine import UNKNOWN, Plan, Resource
from .tiers import is_tier, tier_of

HOURS = 730
PRICES_DIR = Path(__file__).resolve().parent / "prices"
USAGE_DIR = Path(__file__).resolve().parent / "usage"


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

    def get(self, service: str, item: str) -> Price | None:
        entry = self._prices.get(service, {}).get(item)
        if entry is None:
            return None
        return Price(float(entry["price"]), entry.get("unit", ""), entry.get("source", ""), entry.get("date", ""),
                     bool(entry.get("assumption", False)))


@functools.cache
def price_table(region: str, prices_dir: Path = PRICES_DIR) -> PriceTable | None:
    path = Path(prices_dir) / f"{region}.json"
    if not path.exists():
        return None
    return PriceTable(region, json.loads(path.read_text()))


def load_usage(path: Path | None) -> dict:
    if path is None or not Path(path).exists():
        return {}
    import yaml
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:  # one line naming the file (issue 13), not a traceback
        mark = getattr(exc, "problem_mark", None)
        raise ValueError(f"usage file {path}: not valid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"usage file {path}: expected a mapping")
    return doc


def default_usage_path(stack: str) -> Path | None:
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
    # Priced at the service's configured minimum although the plan has it parked (0 tasks until its first image):
    # what the stack costs once released; the parked figure is the total without these lines.
    parked: bool = False

    def to_json(self) -> dict:
        return {"tier": self.tier, "name": self.name, "type": self.type, "item": self.item, "kind": self.kind,
                "quantity": round(self.quantity, 6), "unit": self.unit, "unitPrice": self.unit_price,
                "monthly": round(self.monthly, 2), "usageBased": self.usage, "assumption": self.assumption,
                "region": self.region, "source": self.source, "parkedInPlan": self.parked}


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
    usage_file: str | None = None

    @property
    def total(self) -> float:
        return sum(x.monthly for x in self.lines)

    @property
    def baseline(self) -> float:
        return sum(x.monthly for x in self.lines if not x.usage)

    @property
    def usage_total(self) -> float:
        return sum(x.monthly for x in self.lines if x.usage)

    @property
    def assumption_total(self) -> float:
        return sum(x.monthly for x in self.lines if x.assumption)

    @property
    def parked_total(self) -> float:
        """What the services priced at their configured minimum add over their parked state (0 tasks)."""
        return sum(x.monthly for x in self.lines if x.parked)

    def by_tier(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for x in self.lines:
            out[x.tier] += x.monthly
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_json(self) -> dict:
        return {"currency": "USD", "hoursPerMonth": HOURS, "total": round(self.total, 2),
                "baseline": round(self.baseline, 2), "usageBased": round(self.usage_total, 2),
                "assumptionPriced": round(self.assumption_total, 2),
                # services at their configured minimum; while parked (a new stack, 0 tasks) the total is this less
                "servicesAtMinimumOverParked": round(self.parked_total, 2),
                "byTier": {k: round(v, 2) for k, v in self.by_tier().items()},
                "lines": [x.to_json() for x in self.lines],
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


_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)(?:\|([^}]*))?\}")


def fill(template: str, props: dict) -> tuple[str, list[str]]:
    """`{input}` / `{input|default}` filled from the resource's inputs; (text, inputs that were unknown)."""
    missing: list[str] = []

    def sub(m: re.Match) -> str:
        value = resource_types.get_input(props, m.group(1))
        if _known(value):
            return str(value)
        if m.group(2) is not None:
            return m.group(2)
        missing.append(m.group(1))
        return "?"
    return _FIELD.sub(sub, template), missing


def applies(when: dict | None, props: dict) -> bool:
    if not when:
        return True
    value = resource_types.get_input(props, when["input"])
    if "equals" in when:
        return value == when["equals"]
    return value != when.get("not_equals")


class Pricer:
    """Prices one plan: table lines and handlers call `charge` for each line of a resource."""

    def __init__(self, plan: Plan, usage: dict, prices_dir: Path = PRICES_DIR):
        self.plan, self.usage, self.prices_dir = plan, usage or {}, prices_dir
        self.by_urn = plan.by_urn()
        self.lines: list[Line] = []
        self.unpriced: list[Unpriced] = []
        self.free: dict[str, list[str]] = defaultdict(list)
        self.tables: dict[str, str] = {}
        self.trail_seen = False
        self.types = resource_types.load()

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

    def dep(self, r: Resource, prop: str, token: str | None = None) -> Resource | None:
        """The resource a property came from (through propertyDependencies, as policies correlate)."""
        for urn in r.propertyDependencies.get(prop, []):
            found = self.by_urn.get(urn)
            if found is not None and (token is None or found.type == token):
                return found
        return None

    # -- recording ------------------------------------------------------------------------------
    def charge(self, r: Resource, item: str, quantity: float, unit: str, service: str, key: str,
               usage: bool = False, scale: float = 1.0, kind: str = "") -> Line | None:
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
                     per: float = 1.0, free: float = 0.0) -> Line | None:
        """A usage line: the usage value × `per` (unit conversion, e.g. M requests -> 10k units), less `free`."""
        qty, given = self.use(r, key)
        note = "" if given else f" (usage {key} not given: 0)"
        if free:
            note += f" (after the free {free:g} {unit})"
        return self.charge(r, item + note, max(0.0, qty * per - free), unit, service, price_key, usage=True)

    def mark_unpriced(self, r: Resource, reason: str) -> None:
        self.unpriced.append(Unpriced(self.tier(r), r.name, r.type, reason))

    def price_factor(self, r: Resource, service: str, key: str) -> Price | None:
        table = price_table(self.region_of(r), self.prices_dir)
        return table.get(service, key) if table else None

    def table_lines(self, r: Resource, lines: list[dict]) -> None:
        """The declarative lines of the resource-type table (see plan/resource_types.py)."""
        for spec in lines:
            if not applies(spec.get("when"), r.props):
                continue
            item, _ = fill(spec["item"], r.props)
            price, missing = fill(spec["price"], r.props)
            if missing:
                self.mark_unpriced(r, f"{item}: {', '.join(missing)} unknown")
                continue
            service, key = price.rsplit("/", 1)
            if "usage" in spec:
                free = None
                if "free" in spec:   # a free allowance in the same units (e.g. CloudFront's always-free tier)
                    fservice, fkey = spec["free"].rsplit("/", 1)
                    free = self.price_factor(r, fservice, fkey)
                    if free is None:
                        self.mark_unpriced(r, f"{item}: no free allowance {spec['free']} in the price table")
                        continue
                self.usage_charge(r, spec["usage"], item, spec["unit"], service, key, per=spec.get("per", 1.0),
                                  free=free.value if free else 0.0)
                continue
            qty = float(spec.get("quantity", 1)) * (HOURS if spec.get("hours") else 1)
            if "count" in spec:
                qty *= _num(resource_types.get_input(r.props, spec["count"]), spec.get("default", 1))
            self.charge(r, item, qty, spec["unit"], service, key, kind=spec.get("kind", ""))

    # -- driver ---------------------------------------------------------------------------------
    def run(self) -> None:
        for r in self.plan.resources:
            if is_tier(r.type):
                continue
            rule = self.types.cost_rule(r.type)
            if rule is None:
                if not r.custom and not r.remote:
                    continue  # a local component: its children carry the cost
                self.mark_unpriced(r, "no pricing rule for this resource type" if r.custom else
                                   "component with no pricing rule: its children are not in the plan")
            elif "lines" in rule:
                self.table_lines(r, rule["lines"])
            elif "handler" in rule:
                HANDLERS[rule["handler"]](self, r)
            elif rule.get("free"):
                self.free[rule["free"]].append(r.name)
            else:
                self.mark_unpriced(r, rule.get("unpriced") or "no sourced price")


# ---------------------------------------------------------------------------------------------------
# Handlers: the types whose price is more than a table line. Each reads the registered inputs (camelCase).

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


def _fargate_units(cpu: Any, memory: Any) -> tuple[float, float] | None:
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
    # A service the plan has parked (0 tasks: a new stack's empty repository, or unknown in a preview) is priced at
    # its configured minimum, which its scaling target carries: the month the stack runs, not its first hour.
    configured = _configured_minimum(pr, r)
    parked = configured is not None and configured > desired
    if parked and configured is not None:
        desired, note = configured, f"; configured minimum (parked at {desired:g} in this plan)"
    before = len(pr.lines)
    _fargate_lines(pr, r, units[0], units[1], desired, _strategies(pr, r), arm, note)
    for line in pr.lines[before:]:
        line.parked = parked


def _configured_minimum(pr: Pricer, svc: Resource) -> float | None:
    """The `ConfiguredMinCount` tag of the service's scalable target (components/ecs_services.py), if any."""
    for t in pr.plan.of_type("aws:appautoscaling/target:Target"):
        if svc.urn in (t.propertyDependencies.get("resourceId") or []):
            value = (t.props.get("tags") or {}).get("ConfiguredMinCount")
            return _num(value, 0) if _known(value) and value is not None else None
    return None


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


def h_eks_node_group(pr: Pricer, r: Resource) -> None:
    p = r.props
    types = p.get("instanceTypes") or ["t3.medium"]
    desired = _num((p.get("scalingConfig") or {}).get("desiredSize"), 1)
    capacity = str(p.get("capacityType") or "ON_DEMAND")
    service = "ec2" if capacity == "ON_DEMAND" else "ec2.spot"
    pr.charge(r, f"{desired:g} x {types[0]} nodes ({capacity})", desired * HOURS, "instance-hour", service,
              str(types[0]), kind="EKS nodes")


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


def h_web_acl(pr: Pricer, r: Resource) -> None:
    rules = r.props.get("rules") or []
    n = len(rules) if isinstance(rules, list) else 0
    managed = sum(1 for rule in rules if isinstance(rule, dict)
                  and "managedRuleGroupStatement" in (rule.get("statement") or {})) if n else 0
    pr.charge(r, "web ACL", 1, "ACL-month", "wafv2", "web_acl_month")
    if n:
        pr.charge(r, f"{n} rule(s) ({managed} managed rule groups)", n, "rule-month", "wafv2", "rule_month")
    pr.usage_charge(r, "requests_million", "requests inspected", "M requests", "wafv2", "requests_million")


def endpoint_azs(pr: Pricer, r: Resource) -> int | None:
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


def h_trail(pr: Pricer, r: Resource) -> None:
    if not pr.trail_seen:
        pr.trail_seen = True
        pr.charge(r, "first copy of management events (free)", 1, "trail-month", "cloudtrail",
                  "management_first_copy")
    else:
        pr.usage_charge(r, "management_events_million", "additional copy of management events", "100k events",
                        "cloudtrail", "management_extra_100k", per=10)
    if r.props.get("eventSelectors") or r.props.get("advancedEventSelectors"):
        pr.usage_charge(r, "data_events_million", "data events", "100k events", "cloudtrail", "data_100k", per=10)


HANDLERS: dict[str, Callable[[Pricer, Resource], None]] = {
    "awsx_vpc": h_awsx_vpc,
    "load_balancer": h_lb,
    "ecs_service": h_ecs_service,
    "awsx_fargate_service": h_awsx_fargate_service,
    "rds_instance": h_rds_instance,
    "elasticache_group": h_elasticache_rg,
    "eks_node_group": h_eks_node_group,
    "secret": h_secret,
    "metric_alarm": h_metric_alarm,
    "web_acl": h_web_acl,
    "vpc_endpoint": h_vpc_endpoint,
    "kinesis_stream": h_kinesis,
    "sagemaker_endpoint": h_sagemaker_endpoint,
    "dynamodb_table": h_dynamodb,
    "lambda_function": h_lambda,
    "cloudtrail": h_trail,
}


def estimate(plan: Plan, usage: dict | None = None, *, usage_file: Path | None = None,
             prices_dir: Path = PRICES_DIR) -> Estimate:
    """Price `plan`. `usage` (a parsed usage document) wins over `usage_file`."""
    if usage is None:
        usage = load_usage(usage_file)
    pricer = Pricer(plan, usage, prices_dir)
    pricer.run()
    return Estimate(plan.stack, plan.region, pricer.lines, pricer.unpriced, dict(pricer.free), pricer.tables,
                    str(usage_file) if usage_file else None)
