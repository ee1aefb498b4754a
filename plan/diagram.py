"""The architecture picture of a plan: read top-down from the users to the data, tiers as groups.

`python -m plan --stack prod --diagram FILE.png|.svg` draws it with the `diagrams` library (Graphviz `dot`
must be installed: `apt-get install -y graphviz`); `--diagram FILE.mmd` writes the same model as Mermaid
text for pull-request descriptions (no Graphviz needed). Drawn from the plan itself:

- one node per service kind per tier ("9 × ECS Fargate service"); kinds, icons and roles come from the
  resource-type table (plan/resource_types.json, `diagram`); configuration resources (IAM, rules, listeners...)
  are counted, not drawn;
- resources in the VPC sit in their subnet layer (public / private / isolated, from the awsx VPC's subnet
  specs), tiers nested inside; regional services outside the VPC; another region's resources in their own group;
- edges are of two kinds: the plan's real dependencies between drawn resources (followed through the undrawn
  ones, IAM and KMS aside: every tier uses a key or a role), and the runtime flows no Pulumi output carries
  (users -> edge, WAF protects, load balancer -> services, events -> consumers, replication to the DR region).
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections import OrderedDict, defaultdict
from itertools import pairwise
from pathlib import Path

from . import resource_types
from .engine import Plan, PlanError, Resource
from .tiers import PROJECT_PREFIX, is_tier, tier_of

LAYERS = ("public", "private", "isolated")
# Tiers drawn in a bottom row (they serve every other tier; their edges would cross the whole picture).
PLATFORM_TIERS = ("Security", "Observability", "Governance")


@dataclasses.dataclass
class Node:
    id: str
    group: str
    kind: str
    icon: str
    role: str
    tier: str
    names: list[str]
    layer: str = ""

    @property
    def label(self) -> str:
        n = len(self.names)
        if n == 1:
            return f"{self.kind}\n{_short(self.names[0])}"
        return f"{n} x {self.kind}\n{_short(self.names[0], 20)}, ..."


def _short(name: str, n: int = 24) -> str:
    return name if len(name) <= n else name[:n - 2] + ".."


@dataclasses.dataclass
class Model:
    stack: str
    region: str
    groups: OrderedDict[str, list[Node]]
    edges: list[tuple[str, str, str, bool]]     # (from id, to id, label, dashed)
    hidden: int
    vpc: dict | None = None                  # {"label": ..., "layers": {layer: label}}

    def nodes(self) -> list[Node]:
        return [n for ns in self.groups.values() for n in ns]


def _region(r: Resource, by_urn: dict, default: str) -> str:
    prov = by_urn.get(r.provider) if r.provider else None
    region = prov.props.get("region") if prov is not None else None
    return region if isinstance(region, str) and region else default


def _spec(r: Resource, tier: str) -> dict | None:
    info = resource_types.load().get(r.type)
    spec = info.diagram if info is not None else None
    if spec is None:
        return None
    if spec["role"] == "security" and r.type.startswith("aws:iam/") and tier != "Security":
        return None   # per-service roles: drawn once, in the Security tier
    if r.type == "aws:cloudwatch/logGroup:LogGroup" and tier != "Observability":
        return None   # every service has a log group: counted, not drawn
    return spec


def _layer(r: Resource, spec: dict) -> str:
    layer = spec.get("layer", "")
    if spec.get("layer_if") and not r.props.get(spec["layer_if"]):
        return ""
    if layer == "public" and r.props.get("internal") is True:
        return "private"
    return layer


def _vpc(plan: Plan) -> dict | None:
    vpcs = [r for r in plan.resources if r.type == "awsx:ec2:Vpc"]
    if not vpcs:
        return None
    from .cost import _vpc_azs, nat_count
    vpc = vpcs[0]
    azs, cidr = _vpc_azs(vpc), vpc.props.get("cidrBlock")
    layers = {}
    for s in vpc.props.get("subnetSpecs") or []:
        kind = str(s.get("type", "")).lower()
        if kind in LAYERS:
            layers[kind] = f"{kind} subnets ({azs} x /{s.get('cidrMask', '?')})"
    return {"label": f"VPC {cidr if isinstance(cidr, str) else ''} ({azs} AZs)".replace("  ", " "),
            "layers": layers, "nats": nat_count(vpc), "name": vpc.name}


def _dependency_pairs(plan: Plan, node_of: dict[str, str], by_urn: dict) -> set[tuple[str, str]]:
    """(user node, used node) for every drawn resource's dependencies, followed through undrawn ones."""
    pairs: set[tuple[str, str]] = set()
    for r in plan.resources:
        src = node_of.get(r.urn)
        if src is None:
            continue
        seen: set[str] = set()
        todo = list(r.dependencies)
        while todo:
            urn = todo.pop()
            if urn in seen or urn not in by_urn:
                continue
            seen.add(urn)
            dep = by_urn[urn]
            if urn in node_of:
                if node_of[urn] != src:
                    pairs.add((src, node_of[urn]))
                continue
            if dep.type.startswith(("aws:iam/", "aws:kms/", PROJECT_PREFIX)) or dep.type == "awsx:ec2:Vpc":
                continue
            todo.extend(dep.dependencies)
    return pairs


def build(plan: Plan) -> tuple[Model, Node | None]:
    by_urn = plan.by_urn()
    buckets: OrderedDict[tuple, Node] = OrderedDict()
    node_of: dict[str, str] = {}
    hidden = 0
    for r in plan.resources:
        if is_tier(r.type) or r.type.startswith("pulumi:providers:"):
            continue
        tier = tier_of(r, by_urn)
        spec = _spec(r, tier)
        if spec is None or spec["role"] == "vpc":
            hidden += spec is None
            continue
        region = _region(r, by_urn, plan.region)
        group = tier if region == plan.region else f"{tier} ({region})"
        role = spec["role"] if region == plan.region else "dr"
        layer = _layer(r, spec) if region == plan.region else ""
        key = (group, spec["kind"], layer)
        if key not in buckets:
            nid = re.sub(r"[^A-Za-z0-9]", "_", f"{group}_{spec['kind']}_{layer}".rstrip("_"))
            buckets[key] = Node(nid, group, spec["kind"], spec["icon"], role, tier, [], layer)
        buckets[key].names.append(r.name)
        node_of[r.urn] = buckets[key].id
    groups: OrderedDict[str, list[Node]] = OrderedDict()
    for (group, _, _), node in buckets.items():
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
    # The plan's own dependencies between drawn nodes, where no flow above already joins the two.
    platform = {n.id for n in nodes if n.tier in PLATFORM_TIERS}
    joined = {frozenset((a, b)) for a, b, _, _ in edges}
    for a, b in sorted(_dependency_pairs(plan, node_of, by_urn)):
        if frozenset((a, b)) not in joined and a not in platform and b not in platform:
            edges.append((a, b, "", False))
            joined.add(frozenset((a, b)))
    return Model(plan.stack, plan.region, groups, edges, hidden, _vpc(plan)), users if entries else None


def mermaid(plan: Plan) -> str:
    model, users = build(plan)
    out = ["flowchart TB", f"  %% {model.stack} stack ({model.region}), generated by `python -m plan --diagram`"]
    if users is not None:
        out.append(f'  {users.id}(("Users"))')
    for i, (group, nodes) in enumerate(model.groups.items()):
        out.append(f'  subgraph g{i}["{group}"]')
        for n in nodes:
            label = n.label.replace("\n", "<br/>").replace('"', "'")
            where = f"<br/>({n.layer} subnets)" if n.layer else ""
            out.append(f'    {n.id}["{label}{where}"]')
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


CLUSTER_STYLE = {
    "vpc": {"fontsize": "15", "bgcolor": "#F4F9F4", "pencolor": "#2E7D32", "style": "rounded", "labeljust": "l"},
    "public": {"fontsize": "13", "bgcolor": "#E8F5E9", "pencolor": "#66BB6A", "labeljust": "l"},
    "private": {"fontsize": "13", "bgcolor": "#E3F2FD", "pencolor": "#42A5F5", "labeljust": "l"},
    "isolated": {"fontsize": "13", "bgcolor": "#FFF3E0", "pencolor": "#FFA726", "labeljust": "l"},
    "tier": {"fontsize": "13", "bgcolor": "#FFFFFF", "pencolor": "#9E9E9E", "labeljust": "l"},
}


def render(plan: Plan, path: Path) -> Path:
    fmt = path.suffix.lstrip(".").lower()
    if shutil.which("dot") is None:
        raise PlanError("graphviz 'dot' not found: install it (apt-get install -y graphviz) or use --diagram FILE.mmd")
    try:
        from diagrams import Cluster, Diagram, Edge
    except ImportError:
        raise PlanError("the 'diagrams' package is not installed: pip install -r requirements-dev.txt") from None
    model, users = build(plan)
    made = {}
    graph_attr = {"fontsize": "22", "splines": "spline", "pad": "0.5", "nodesep": "0.9", "ranksep": "1.0",
                  "labelloc": "t", "newrank": "true"}
    node_attr = {"fontsize": "11", "height": "1.5", "width": "1.5"}
    title = f"ai-platform {model.stack} ({model.region}): generated from the offline plan by python -m plan"
    in_vpc = [n for n in model.nodes() if n.layer]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "architecture"     # diagrams also writes the DOT source beside the image
        with Diagram(title, filename=str(stem), outformat=fmt, show=False, direction="TB", graph_attr=graph_attr,
                     node_attr=node_attr, edge_attr={"fontsize": "10", "fontcolor": "#424242"}):
            if users is not None:
                made[users.id] = _icon(users.icon)("Users")
            vpc = model.vpc
            if vpc and in_vpc:
                with Cluster(vpc["label"], graph_attr=CLUSTER_STYLE["vpc"]):
                    for layer in LAYERS:
                        members = [n for n in in_vpc if n.layer == layer]
                        nat = layer == "public" and vpc["nats"]
                        if not members and not nat:
                            continue
                        with Cluster(vpc["layers"].get(layer, f"{layer} subnets"), graph_attr=CLUSTER_STYLE[layer]):
                            if nat:
                                made["nat"] = _icon("aws.network.NATGateway")(f"{vpc['nats']} x NAT gateway")
                            by_group: OrderedDict[str, list[Node]] = OrderedDict()
                            for n in members:
                                by_group.setdefault(n.group, []).append(n)
                            for group, nodes in by_group.items():
                                with Cluster(group, graph_attr=CLUSTER_STYLE["tier"]):
                                    for n in nodes:
                                        made[n.id] = _icon(n.icon)(n.label)
            for group, nodes in model.groups.items():
                outside = [n for n in nodes if not (n.layer and vpc)]
                if not outside:
                    continue
                label = group if not any(n.layer for n in nodes) else f"{group} (regional services)"
                with Cluster(label, graph_attr=CLUSTER_STYLE["tier"]):
                    for n in outside:
                        made[n.id] = _icon(n.icon)(n.label)
            guards = {a for a, _, label, _ in model.edges if label in ("protects", "authorizes")}
            seen: set[tuple[str, str]] = set()
            for a, b, label, dashed in model.edges:
                # A label once per fan: the same label on every edge out of (or into) a node piles up.
                shown = "" if (a, label) in seen or (b, label) in seen or a in guards else label
                seen |= {(a, label), (b, label)}
                attrs = {"style": "dashed" if dashed else "solid", "color": "#616161" if label else "#9E9E9E"}
                if a in guards:   # WAF and Cognito sit beside what they guard (dashed, unlabelled: no pile-up)
                    attrs["constraint"] = "false"
                made[a] >> Edge(xlabel=shown, **attrs) >> made[b]
            _rank_hints(model, made, users, guards, Edge)
        shutil.copyfile(stem.with_name(f"architecture.{fmt}"), path)
    return path


def _rank_hints(model: Model, made: dict, users: Node | None, guards: set, Edge) -> None:
    """Invisible edges that make the picture read top-down: users, then the guards beside the entry points,
    public above private above isolated subnets, and the platform tiers in a bottom row."""
    def invis(a, b):
        a >> Edge(style="invis") >> b
    for g in guards:
        if users is not None:
            invis(made[users.id], made[g])
    layer = {name: [made[n.id] for n in model.nodes() if n.layer == name] for name in LAYERS}
    if "nat" in made:
        layer["public"].append(made["nat"])
    for upper, lower in pairwise(LAYERS):
        for a in layer[upper]:
            for b in layer[lower]:
                invis(a, b)
    linked = {x for a, b, _, _ in model.edges for x in (a, b)}
    anchors = layer["isolated"] or [made[n.id] for n in model.nodes() if n.id in linked][-1:]
    for nodes in model.groups.values():
        if anchors and nodes[0].tier in PLATFORM_TIERS:
            for n in nodes:
                if n.id not in linked:
                    invis(anchors[0], made[n.id])


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
