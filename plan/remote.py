"""Children of remote components (awsx, pulumi-eks), as their providers create them.

A remote component's children are created by its provider plugin, which the mock runtime never
runs: without this module a program's `awsx.lb.ApplicationLoadBalancer` is one opaque record while a
real `pulumi preview` shows the load balancer, its default security group, target group and
listener, and the policy pack judges each of them. Each builder below follows the provider's own
source (pulumi-awsx 3.x `awsx/lb/applicationLoadBalancer.ts`, `awsx/ec2/vpc.ts`,
`awsx/ecs/fargateService.ts` + `fargateTaskDefinition.ts`; pulumi-eks 4.x `nodejs/eks/cluster/cluster.ts`):
same child types, names, parents and default inputs (the open default security groups, the
never-expiring default log group, the public EKS endpoint), so the pack sees what it would see.

Children are registered through `Registrar.child`, which records them like any resource (preview:
computed outputs unknown; update: realistic ids and ARNs) and stores their state so the component's
outputs can be resource references the program dereferences (`alb.load_balancer.dns_name`).
Only what the pack and typical programs read is modelled; other component options pass through
unmodelled (the component's own record still carries every input).
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable
from typing import Any

from .mocks import UNKNOWN, _azs, resource_properties
from .sdk import RESOURCE_SIG, SECRET_SIG

REF_SIG = SECRET_SIG
OPEN_INGRESS = [{"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}]
OPEN_EGRESS = [{"fromPort": 0, "toPort": 65535, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"],
                "ipv6CidrBlocks": ["::/0"]}]
ECS_TASKS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Effect": "Allow", "Sid": ""}]})


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and value.get(REF_SIG) == RESOURCE_SIG


def ref(child: Child) -> dict:
    out = {REF_SIG: RESOURCE_SIG, "urn": child.urn}
    if child.id:
        out["id"] = child.id
    return out


class Child:
    def __init__(self, urn: str, id_: str, state: dict):
        self.urn, self.id, self.state = urn, id_, state

    def out(self, key: str) -> Any:
        """An output of this child: known in update mode, unknown in a new stack's preview."""
        if key == "id":
            return self.id or UNKNOWN
        value = self.state.get(key)
        return UNKNOWN if value is None else value


class Registrar:
    """What a builder needs from the monitor: register a child, look up a referenced resource."""

    def __init__(self, child: Callable[..., Child], lookup: Callable[[str], dict | None], region: str,
                 stack: str, preview: bool, root: str = "", workdir: str = "."):
        self.child, self.lookup, self.region, self.stack, self.preview = child, lookup, region, stack, preview
        self.root = root          # the stack's URN: the parent of children a provider creates without `parent`
        self.workdir = workdir    # the program's directory: a provider plugin runs there (relative paths)

    def path(self, value: Any) -> str:
        import os
        return os.path.join(self.workdir, str(value))

    def deref(self, value: Any, key: str) -> Any:
        """An output of a resource the program passed by reference (e.g. a target group)."""
        if not is_ref(value):
            return UNKNOWN
        state = self.lookup(value["urn"]) or {}
        if key == "id":
            return value.get("id") or UNKNOWN
        return state.get(key, UNKNOWN)


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _only(token: str, props: dict) -> dict:
    """Keep the keys the resource type declares (awsx spreads its own args into the child's args)."""
    allowed = resource_properties(token)
    return {k: v for k, v in props.items() if not allowed or k in allowed}


# --- awsx.ec2.Vpc ----------------------------------------------------------------------------------
def _subnet_blocks(cidr: str, count: int, specs: list) -> list:
    net = ipaddress.IPv4Network(cidr if _known(cidr) else "10.0.0.0/16")
    blocks, cursor = [], int(net.network_address)
    for _ in range(count):
        row = []
        for spec in specs:
            mask = int(spec.get("cidrMask") or (net.prefixlen + 4))
            size = 2 ** (32 - mask)
            cursor = (cursor + size - 1) // size * size
            row.append(str(ipaddress.IPv4Network((cursor, mask))) if cursor + size <= int(net.broadcast_address) + 1
                       else None)
            cursor += size
        blocks.append(row)
    return blocks


def awsx_vpc(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    tags: dict = args.get("tags") if isinstance(args.get("tags"), dict) else {}  # type: ignore[assignment]
    shared = {"Name": name, **tags}
    azs = args.get("availabilityZoneNames") or _azs(reg.region, int(args.get("numberOfAvailabilityZones") or 3))
    specs = [s for s in (args.get("subnetSpecs") or [{"type": "Public"}, {"type": "Private"}])
             if s.get("type") != "Unused"]
    order = {"Public": 0, "Private": 1, "Isolated": 2}
    specs = sorted(specs, key=lambda s: order.get(s.get("type"), 3))
    strategy = str((args.get("natGateways") or {}).get("strategy") or "OnePerAz")
    cidr = args.get("cidrBlock") or "10.0.0.0/16"
    vpc = reg.child("aws:ec2/vpc:Vpc", name, urn, {
        "cidrBlock": cidr, "enableDnsHostnames": args.get("enableDnsHostnames", True),
        "enableDnsSupport": args.get("enableDnsSupport", True), "instanceTenancy": args.get("instanceTenancy"),
        "tags": shared})
    igw = reg.child("aws:ec2/internetGateway:InternetGateway", name, vpc.urn,
                    {"vpcId": vpc.out("id"), "tags": shared}, {"vpcId": [vpc.urn]})
    out: dict = {"vpc": ref(vpc), "vpcId": vpc.out("id"), "internetGateway": ref(igw), "subnets": [],
                 "publicSubnets": [], "privateSubnets": [], "isolatedSubnets": [], "publicSubnetIds": [],
                 "privateSubnetIds": [], "isolatedSubnetIds": [], "routeTables": [], "routeTableAssociations": [],
                 "routes": [], "natGateways": [], "eips": [], "vpcEndpoints": [], "subnetLayout": []}
    blocks = _subnet_blocks(cidr, len(azs), specs)
    nats: list = []
    for i, az in enumerate(azs):
        for j, spec in enumerate(specs):
            kind = spec.get("type", "Private")
            spec_name = spec.get("name") or kind.lower()
            res_name = f"{name}-{spec_name}-{i + 1}"
            subnet = reg.child("aws:ec2/subnet:Subnet", res_name, vpc.urn, {
                "vpcId": vpc.out("id"), "availabilityZone": az, "mapPublicIpOnLaunch": kind == "Public",
                "cidrBlock": blocks[i][j], "assignIpv6AddressOnCreation": False,
                "tags": {**shared, **(spec.get("tags") or {}), "Name": res_name, "SubnetType": kind}},
                {"vpcId": [vpc.urn]})
            out["subnets"].append(ref(subnet))
            out[f"{kind.lower()}Subnets"].append(ref(subnet))
            out[f"{kind.lower()}SubnetIds"].append(subnet.out("id"))
            out["subnetLayout"].append({"type": kind, "cidrMask": int(str(blocks[i][j] or "/24").split("/")[1]),
                                        "name": spec_name})
            rt = reg.child("aws:ec2/routeTable:RouteTable", res_name, subnet.urn, {
                "vpcId": vpc.out("id"), "tags": {**shared, "Name": res_name, "SubnetType": kind}},
                {"vpcId": [vpc.urn]})
            rta = reg.child("aws:ec2/routeTableAssociation:RouteTableAssociation", res_name, rt.urn, {
                "routeTableId": rt.out("id"), "subnetId": subnet.out("id")},
                {"routeTableId": [rt.urn], "subnetId": [subnet.urn]})
            out["routeTables"].append(ref(rt))
            out["routeTableAssociations"].append(ref(rta))
            if kind == "Public" and strategy != "None" and (strategy == "OnePerAz" or not nats):
                eip = reg.child("aws:ec2/eip:Eip", f"{name}-{i + 1}", subnet.urn,
                                {"tags": {**tags, "Name": f"{name}-{i + 1}"}})
                nat = reg.child("aws:ec2/natGateway:NatGateway", f"{name}-{i + 1}", subnet.urn, {
                    "subnetId": subnet.out("id"), "allocationId": eip.out("allocationId") if not reg.preview
                    else UNKNOWN, "tags": {**tags, "Name": f"{name}-{i + 1}"}},
                    {"subnetId": [subnet.urn], "allocationId": [eip.urn]})
                nats.append(nat)
                out["eips"].append(ref(eip))
                out["natGateways"].append(ref(nat))
            if kind == "Public":
                route = reg.child("aws:ec2/route:Route", res_name, rt.urn, {
                    "routeTableId": rt.out("id"), "gatewayId": igw.out("id"), "destinationCidrBlock": "0.0.0.0/0"},
                    {"routeTableId": [rt.urn], "gatewayId": [igw.urn]})
                out["routes"].append(ref(route))
            elif kind == "Private" and strategy != "None" and nats:
                nat = nats[0] if strategy == "Single" else nats[min(i, len(nats) - 1)]
                route = reg.child("aws:ec2/route:Route", res_name, rt.urn, {
                    "routeTableId": rt.out("id"), "natGatewayId": nat.out("id"), "destinationCidrBlock": "0.0.0.0/0"},
                    {"routeTableId": [rt.urn], "natGatewayId": [nat.urn]})
                out["routes"].append(ref(route))
    for spec in args.get("vpcEndpointSpecs") or []:
        service = str(spec.get("serviceName", "endpoint"))
        ep = reg.child("aws:ec2/vpcEndpoint:VpcEndpoint", f"{name}-{service.rsplit('.', 1)[-1]}", vpc.urn, {
            **{k: v for k, v in spec.items() if k != "tags"}, "vpcId": vpc.out("id"),
            "tags": {**shared, **(spec.get("tags") or {})}}, {"vpcId": [vpc.urn]})
        out["vpcEndpoints"].append(ref(ep))
    return out


# --- awsx.lb.ApplicationLoadBalancer ----------------------------------------------------------------
ALB_OWN_ARGS = ("subnetIds", "subnets", "defaultTargetGroup", "defaultTargetGroupPort", "defaultSecurityGroup",
                "listener", "listeners")


def _listener_protocol(listener: dict | None, default_port: Any = None) -> dict:
    if listener:
        port, protocol = listener.get("port"), listener.get("protocol")
        if port and protocol:
            return {"port": port, "protocol": protocol}
        if port:
            return {"port": port, "protocol": "HTTPS" if port == 443 else "HTTP"}
        if protocol:
            return {"protocol": protocol, "port": 443 if protocol == "HTTPS" else 80}
    return {"port": default_port or 80, "protocol": "HTTP"}


def awsx_alb(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    from .mocks import _default_vpc, _subnets_of
    rest = {k: v for k, v in args.items() if k not in ALB_OWN_ARGS}
    out: dict = {}
    subnet_deps = None
    if args.get("subnetIds"):
        rest["subnets"] = args["subnetIds"]
        vpc_id = UNKNOWN if any(not _known(s) for s in args["subnetIds"]) else _default_vpc(reg.region)
    elif args.get("subnets"):
        rest["subnets"] = [reg.deref(s, "id") for s in args["subnets"]]
        vpc_id = reg.deref(args["subnets"][0], "vpcId")
    else:
        vpc_id = _default_vpc(reg.region)
        rest["subnets"] = _subnets_of(vpc_id, reg.region)
    out["vpcId"] = vpc_id
    dsg = args.get("defaultSecurityGroup") or {}
    if not rest.get("securityGroups") and not dsg.get("skip"):
        if dsg.get("securityGroupId"):
            rest["securityGroups"] = [dsg["securityGroupId"]]
        else:
            sg = reg.child("aws:ec2/securityGroup:SecurityGroup", name, urn, dsg.get("args") or {
                "vpcId": vpc_id, "ingress": OPEN_INGRESS, "egress": OPEN_EGRESS})
            out["defaultSecurityGroup"] = ref(sg)
            rest["securityGroups"] = [sg.out("id")]
    rest["loadBalancerType"] = "application"
    lb = reg.child("aws:lb/loadBalancer:LoadBalancer", name, urn, _only("aws:lb/loadBalancer:LoadBalancer", rest),
                   {"securityGroups": [sg.urn]} if "defaultSecurityGroup" in out else None)
    out["loadBalancer"] = ref(lb)
    listeners = args.get("listeners")
    if args.get("listener"):
        listeners = [args["listener"]]
    default_protocol = (_listener_protocol(args.get("listener"), args.get("defaultTargetGroupPort"))
                        if not listeners or len(listeners) != 1 or args.get("listener")
                        else _listener_protocol(None, args.get("defaultTargetGroupPort")))
    tg = reg.child("aws:lb/targetGroup:TargetGroup", name, urn, {
        "vpcId": vpc_id, "targetType": "ip", **default_protocol, **(args.get("defaultTargetGroup") or {})},
        subnet_deps)
    out["defaultTargetGroup"] = ref(tg)
    actions = [{"type": "forward", "targetGroupArn": tg.out("arn")}]
    out["listeners"] = []
    for i, listener in enumerate(listeners or [None]):
        props = {"defaultActions": actions, **(_listener_protocol(listener) if listener else default_protocol),
                 **(listener or {}), "loadBalancerArn": lb.out("arn")}
        li = reg.child("aws:lb/listener:Listener", f"{name}-{i}", urn, props,
                       {"loadBalancerArn": [lb.urn], "defaultActions": [tg.urn]})
        out["listeners"].append(ref(li))
    return out


# --- awsx.ecs.FargateTaskDefinition / FargateService ------------------------------------------------
FARGATE_SIZES = [(256, [512, 1024, 2048]), (512, list(range(1024, 4097, 1024))),
                 (1024, list(range(2048, 8193, 1024))), (2048, list(range(4096, 16385, 1024))),
                 (4096, list(range(8192, 30721, 1024)))]


def _fargate_size(containers: list) -> tuple:
    cpu = sum(int(c.get("cpu") or 0) for c in containers)
    mem = sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in containers)
    for size, mems in FARGATE_SIZES:
        if size >= cpu:
            fit = [m for m in mems if m >= mem]
            if fit:
                return str(size), str(fit[0])
    return "4096", "30720"


def fargate_task_definition(reg: Registrar, name: str, parent: str, args: dict) -> dict:
    out: dict = {}
    td_deps: dict = {}
    containers = dict(args.get("containers") or {})
    if args.get("container"):
        containers = {args["container"].get("name") or "container": args["container"]}
    log = args.get("logGroup") or {}
    log_name = None
    if not log.get("skip"):
        if log.get("existing"):
            log_name = log["existing"].get("name")
        else:
            lg = reg.child("aws:cloudwatch/logGroup:LogGroup", name, parent, dict(log.get("args") or {}),
                           autoname=True)
            td_deps["containerDefinitions"] = [lg.urn]
            out["logGroup"] = ref(lg)
            log_name = lg.state.get("name")
    roles = {}
    for key, suffix, policies in (("taskRole", "task", []), ("executionRole", "execution",
                                  ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"])):
        spec = args.get(key) or {}
        if spec.get("skip"):
            continue
        if spec.get("roleArn"):
            roles[key] = spec["roleArn"]
            continue
        role_args = {"assumeRolePolicy": ECS_TASKS_TRUST, **(spec.get("args") or {})}
        policies = role_args.pop("policyArns", policies)
        role = reg.child("aws:iam/role:Role", f"{name}-{suffix}", parent, role_args)
        for arn in policies:
            reg.child("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{name}-{suffix}-{_sha1(arn)}", parent,
                      {"role": role.out("name"), "policyArn": arn}, {"role": [role.urn]})
        out[key] = ref(role)
        roles[key] = role.out("arn")
        td_deps[f"{key}Arn"] = [role.urn]
    defs, load_balancers, tg_deps = [], [], []
    for cname, c in containers.items():
        d = {k: v for k, v in c.items() if k != "portMappings"}
        d["name"] = cname
        if c.get("portMappings"):
            d["portMappings"] = []
            for m in c["portMappings"]:
                tg = m.get("targetGroup")
                tg_port = reg.deref(tg, "port") if tg else None
                tg_port = tg_port if _known(tg_port) else None
                port = m.get("containerPort") or m.get("hostPort") or tg_port
                d["portMappings"].append({k: v for k, v in {
                    "containerPort": port, "hostPort": m.get("hostPort") or tg_port or port,
                    "protocol": m.get("protocol"), "name": m.get("name"), "appProtocol": m.get("appProtocol")}.items()
                    if v is not None})
                if tg:
                    load_balancers.append({"containerName": cname, "containerPort": port,
                                           "targetGroupArn": reg.deref(tg, "arn")})
                    tg_deps.append(tg["urn"])
        if d.get("logConfiguration") is None and log_name is not None:
            d["logConfiguration"] = {"logDriver": "awslogs", "options": {
                "awslogs-group": log_name, "awslogs-region": reg.region, "awslogs-stream-prefix": cname}}
        defs.append(d)
    text = json.dumps(defs)
    cpu, memory = _fargate_size(defs)
    own = ("container", "containers", "logGroup", "taskRole", "executionRole")
    td_args = {k: v for k, v in args.items() if k not in own}
    td_args.setdefault("cpu", cpu)
    td_args.setdefault("memory", memory)
    td_args.update({"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
                    "family": args.get("family") or f"{name}-{_sha1(reg.stack + text)}",
                    "containerDefinitions": UNKNOWN if UNKNOWN in text else text})
    if "taskRole" in roles:
        td_args["taskRoleArn"] = roles["taskRole"]
    if "executionRole" in roles:
        td_args["executionRoleArn"] = roles["executionRole"]
    if tg_deps:
        td_deps["containerDefinitions"] = td_deps.get("containerDefinitions", []) + tg_deps
    td = reg.child("aws:ecs/taskDefinition:TaskDefinition", name, parent,
                   _only("aws:ecs/taskDefinition:TaskDefinition", td_args), td_deps)
    out["taskDefinition"] = ref(td)
    out["loadBalancers"] = load_balancers
    out["_arn"] = td.out("arn")
    out["_urn"] = td.urn
    out["_tg_urns"] = tg_deps
    return out


def awsx_fargate_task_definition(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    out = fargate_task_definition(reg, name, urn, args)
    for key in ("_arn", "_urn", "_tg_urns"):
        out.pop(key)
    return out


def awsx_fargate_service(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    from .mocks import _default_vpc, _subnets_of
    out: dict = {}
    task_arn = args.get("taskDefinition")
    load_balancers = args.get("loadBalancers")
    deps: dict = {}
    if args.get("taskDefinitionArgs"):
        tdc = reg.child("awsx:ecs:FargateTaskDefinition", name, urn, {}, component=True)
        td = fargate_task_definition(reg, name, tdc.urn, args["taskDefinitionArgs"])
        out["taskDefinition"] = td["taskDefinition"]
        task_arn = td["_arn"]
        deps["taskDefinition"] = [td["_urn"]]
        if not load_balancers and td["loadBalancers"]:
            load_balancers = td["loadBalancers"]
            deps["loadBalancers"] = td["_tg_urns"]
    network = args.get("networkConfiguration")
    if network is None:
        vpc = _default_vpc(reg.region)
        sg = reg.child("aws:ec2/securityGroup:SecurityGroup", f"{name}-sg", urn,
                       {"vpcId": vpc, "ingress": OPEN_INGRESS, "egress": OPEN_EGRESS})
        public = bool(args.get("assignPublicIp"))
        network = {"subnets": _subnets_of(vpc, reg.region), "assignPublicIp": public, "securityGroups": [sg.out("id")]}
        deps["networkConfiguration"] = [sg.urn]
    cluster = args.get("cluster")
    if is_ref(cluster):
        cluster = reg.deref(cluster, "arn")
    launch = None if args.get("capacityProviderStrategies") or args.get("useClusterDefaultCapacityProviderStrategy") \
        else "FARGATE"
    svc_args = {"desiredCount": 1, **args, "networkConfiguration": network, "cluster": cluster,
                "launchType": launch, "loadBalancers": load_balancers,
                "waitForSteadyState": not args.get("continueBeforeSteadyState", False), "taskDefinition": task_arn}
    if is_ref(args.get("cluster")):
        deps["cluster"] = [args["cluster"]["urn"]]
    svc = reg.child("aws:ecs/service:Service", name, urn,
                    {k: v for k, v in _only("aws:ecs/service:Service", svc_args).items() if v is not None}, deps)
    out["service"] = ref(svc)
    return out


# --- eks.Cluster -------------------------------------------------------------------------------------
def _service_role(reg: Registrar, name: str, parent: str, service: str, policies: list, tags: Any,
                  actions: tuple = ("sts:AssumeRole",)) -> Child:
    comp = reg.child("eks:index:ServiceRole", name, parent, {}, component=True)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Action": list(actions) if len(actions) > 1 else actions[0], "Principal": {"Service": service},
         "Effect": "Allow"}]})
    role = reg.child("aws:iam/role:Role", f"{name}-role", comp.urn,
                     {"assumeRolePolicy": trust, **({"tags": tags} if tags else {})})
    for i, policy in enumerate(policies):
        reg.child("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{name}-{i}", comp.urn,
                  {"role": role.out("name"), "policyArn": f"arn:aws:iam::aws:policy/{policy}"}, {"role": [role.urn]})
    return role


def eks_cluster(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    from .mocks import _default_vpc, _subnets_of
    tags = args.get("tags") if isinstance(args.get("tags"), dict) else None
    vpc_id = args.get("vpcId") or _default_vpc(reg.region)
    subnets = (args.get("subnetIds") or list(args.get("publicSubnetIds") or []) + list(args.get("privateSubnetIds")
               or []) or _subnets_of(vpc_id, reg.region))
    out: dict = {}
    role_arn = reg.deref(args["serviceRole"], "arn") if is_ref(args.get("serviceRole")) else None
    cluster_deps: dict = {}
    if role_arn is None:
        role = _service_role(reg, f"{name}-eksRole", urn, "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], tags,
                             ("sts:AssumeRole", "sts:TagSession"))
        role_arn = role.out("arn")
        cluster_deps["roleArn"] = [role.urn]
    sg_ids = []
    if not args.get("skipDefaultSecurityGroups"):
        sg = reg.child("aws:ec2/securityGroup:SecurityGroup", f"{name}-eksClusterSecurityGroup", urn, {
            "vpcId": vpc_id, "revokeRulesOnDelete": True,
            "tags": {"Name": f"{name}-eksClusterSecurityGroup", **(args.get("clusterSecurityGroupTags") or {}),
                     **(tags or {})}})
        reg.child("aws:ec2/securityGroupRule:SecurityGroupRule", f"{name}-eksClusterInternetEgressRule", urn, {
            "description": "Allow internet access.", "type": "egress", "fromPort": 0, "toPort": 0, "protocol": "-1",
            "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": sg.out("id")}, {"securityGroupId": [sg.urn]})
        out["clusterSecurityGroup"] = ref(sg)
        out["clusterSecurityGroupId"] = sg.out("id")
        sg_ids = [sg.out("id")]
        cluster_deps["vpcConfig"] = [sg.urn]
    vpc_config = {"securityGroupIds": sg_ids or None, "subnetIds": subnets,
                  "endpointPrivateAccess": args.get("endpointPrivateAccess"),
                  "endpointPublicAccess": args.get("endpointPublicAccess"),
                  "publicAccessCidrs": args.get("publicAccessCidrs")}
    cluster_args = {
        "name": args.get("name"), "roleArn": role_arn, "bootstrapSelfManagedAddons": True,
        "vpcConfig": {k: v for k, v in vpc_config.items() if v is not None}, "version": args.get("version"),
        "enabledClusterLogTypes": args.get("enabledClusterLogTypes"),
        "tags": {"Name": f"{name}-eksCluster", **(args.get("clusterTags") or {}), **(tags or {})},
        "encryptionConfig": ({"resources": ["secrets"], "provider": {"keyArn": args["encryptionConfigKeyArn"]}}
                             if args.get("encryptionConfigKeyArn") else None),
        "accessConfig": ({"authenticationMode": args["authenticationMode"],
                          "bootstrapClusterCreatorAdminPermissions": True} if args.get("authenticationMode") else None),
        "deletionProtection": args.get("deletionProtection")}
    cluster = reg.child("aws:eks/cluster:Cluster", f"{name}-eksCluster", urn,
                        {k: v for k, v in cluster_args.items() if v is not None}, cluster_deps)
    out["eksCluster"] = ref(cluster)
    if not args.get("skipDefaultNodeGroup") and not (args.get("autoMode") or {}).get("enabled"):
        node_role = _service_role(reg, f"{name}-instanceRole", urn, "ec2.amazonaws.com",
                                  ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                                   "AmazonEC2ContainerRegistryReadOnly"], tags)
        out["instanceRoles"] = [ref(node_role)]
        reg.child("aws:iam/instanceProfile:InstanceProfile", f"{name}-instanceProfile", urn,
                  {"role": node_role.out("name")}, {"role": [node_role.urn]})
        if not args.get("skipDefaultSecurityGroups"):
            nsg = reg.child("aws:ec2/securityGroup:SecurityGroup", f"{name}-nodeSecurityGroup", urn, {
                "vpcId": vpc_id, "revokeRulesOnDelete": True,
                "tags": {"Name": f"{name}-nodeSecurityGroup", **(tags or {})}})
            reg.child("aws:ec2/securityGroupRule:SecurityGroupRule", f"{name}-eksNodeInternetEgressRule", urn, {
                "description": "Allow internet access.", "type": "egress", "fromPort": 0, "toPort": 0,
                "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": nsg.out("id")},
                {"securityGroupId": [nsg.urn]})
            out["nodeSecurityGroup"] = ref(nsg)
            out["nodeSecurityGroupId"] = nsg.out("id")
    if args.get("createOidcProvider"):
        oidc = reg.child("aws:iam/openIdConnectProvider:OpenIdConnectProvider", f"{name}-oidcProvider", urn, {
            "clientIdLists": ["sts.amazonaws.com"], "url": UNKNOWN if reg.preview else
            f"https://oidc.eks.{reg.region}.amazonaws.com/id/{_sha1(name).upper()}"}, {"url": [cluster.urn]})
        out["oidcProviderArn"] = oidc.out("arn")
    kubeconfig = UNKNOWN if reg.preview else {
        "apiVersion": "v1", "kind": "Config", "clusters": [{"name": "kubernetes", "cluster": {
            "server": cluster.out("endpoint"), "certificate-authority-data": "LS0tLS1CRUdJTi"}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws", "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster.out("name")]}}}]}
    out["kubeconfig"] = kubeconfig
    out["kubeconfigJson"] = kubeconfig if kubeconfig == UNKNOWN else json.dumps(kubeconfig)
    return out


# --- awsx.ecr.Repository (pulumi-awsx awsx/ecr/repository.ts) ---------------------------------------------------
def _lifecycle_rule(rule: dict, priority: int) -> dict:
    """awsx's convertRule: the count (images or age in days) and the tag selection of one rule."""
    if rule.get("maximumNumberOfImages") is not None:
        count = {"countType": "imageCountMoreThan", "countNumber": _number(rule["maximumNumberOfImages"])}
    elif rule.get("maximumAgeLimit") is not None:
        count = {"countType": "sinceImagePushed", "countNumber": _number(rule["maximumAgeLimit"]), "countUnit": "days"}
    else:
        raise ValueError("awsx.ecr.Repository: either [maximumNumberOfImages] or [maximumAgeLimit] must be "
                         "provided with a rule.")
    status = rule.get("tagStatus")
    if status in ("any", "untagged"):
        tag = {"tagStatus": status}
    else:
        if not rule.get("tagPrefixList"):
            raise ValueError("awsx.ecr.Repository: tagPrefixList cannot be empty.")
        tag = {"tagStatus": "tagged", "tagPrefixList": rule["tagPrefixList"]}
    out = {"rulePriority": priority, "selection": {**tag, **count}, "action": {"type": "expire"}}
    if rule.get("description") is not None:
        out = {"rulePriority": priority, "description": rule["description"], "selection": {**tag, **count},
               "action": {"type": "expire"}}
    return out


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def awsx_ecr_repository(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    lower = name.lower()
    policy_args = args.get("lifecyclePolicy") or {}
    repo = reg.child("aws:ecr/repository:Repository", lower, urn,
                     _only("aws:ecr/repository:Repository", {k: v for k, v in args.items() if k != "lifecyclePolicy"}),
                     autoname=True)
    out: dict = {"repository": ref(repo), "url": repo.out("repositoryUrl")}
    if not policy_args.get("skip"):
        rules = policy_args.get("rules") or [{"description": "remove untagged images", "tagStatus": "untagged",
                                              "maximumNumberOfImages": 1}]
        ordered = [r for r in rules if r.get("tagStatus") != "any"] + [r for r in rules if r.get("tagStatus") == "any"]
        if len(ordered) - len([r for r in rules if r.get("tagStatus") != "any"]) >= 2:
            raise ValueError('awsx.ecr.Repository: At most one [selection: "any"] rule can be provided.')
        policy = {"rules": [_lifecycle_rule(r, i) for i, r in enumerate(ordered, start=1)]}
        # awsx creates the policy without `parent: this`: it is a child of the stack, not of the component.
        lp = reg.child("aws:ecr/lifecyclePolicy:LifecyclePolicy", lower, reg.root,
                       {"repository": repo.out("name"), "policy": json.dumps(policy)}, {"repository": [repo.urn]})
        out["lifecyclePolicy"] = ref(lp)
    return out


# --- aws-apigateway RestAPI (pulumi-aws-apigateway aws-apigateway/apigateway/api.ts, createAPI) ---------------------
API_KEY_DEFINITION = {"type": "apiKey", "name": "x-api-key", "in": "header"}
APIGATEWAY_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _swagger_method(method: Any) -> str:
    method = str(method or "ANY").lower()
    return "x-amazon-apigateway-any-method" if method == "any" else method


def _unknown_in(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_unknown_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown_in(v) for v in value)
    return value == UNKNOWN


def _base_path_options(swagger: dict, operation: dict, route: dict) -> None:
    """addBasePathOptionsToSwagger: authorizers, required parameters, validators, IAM auth, API keys."""
    authorizers = route.get("authorizers")
    if authorizers:
        definitions = swagger.setdefault("securityDefinitions", {})
        for auth in authorizers if isinstance(authorizers, list) else [authorizers]:
            auth_name = auth.get("authorizerName") or f"{swagger['info']['title']}-authorizer-{len(definitions)}"
            if auth_name not in definitions:
                cognito = bool(auth.get("providerARNs"))
                definitions[auth_name] = {
                    "type": "apiKey", "name": auth.get("parameterName"),
                    "in": "header" if cognito else auth.get("parameterLocation"),
                    "x-amazon-apigateway-authtype": "cognito_user_pools" if cognito else auth.get("authType"),
                    "x-amazon-apigateway-authorizer": (
                        {"type": "cognito_user_pools", "providerARNs": auth.get("providerARNs")} if cognito
                        else {"type": auth.get("type"), "identitySource": auth.get("identitySource")})}
            operation.setdefault("security", []).append({auth_name: [] if not auth.get("providerARNs")
                                                        else list(auth.get("methodsToAuthorize") or [])})
    for param in route.get("requiredParameters") or []:
        operation.setdefault("parameters", []).append({"name": param.get("name"), "in": param.get("in"),
                                                       "required": True})
    if route.get("requestValidator"):
        operation["x-amazon-apigateway-request-validator"] = route["requestValidator"]
    if route.get("iamAuthEnabled"):
        operation["x-amazon-apigateway-auth"] = {"type": "AWS_IAM"}
    if route.get("apiKeyRequired"):
        swagger.setdefault("securityDefinitions", {})["api_key"] = API_KEY_DEFINITION
        operation.setdefault("security", []).append({"api_key": []})


def _static_route(reg: Registrar, name: str, urn: str, swagger: dict, route: dict, bucket: Child, tags: Any) -> None:
    """addStaticRouteToSwaggerSpec: a role with AmazonS3FullAccess per route, one object per file."""
    import mimetypes
    import os
    local = reg.path(route["localPath"])
    path = route["path"]
    directory = os.path.isdir(local)
    server_path = (path if path.endswith("/") else path + "/") if directory else path
    key = name + _sha1("get:" + server_path)
    role = reg.child("aws:iam/role:Role", key, urn, {"assumeRolePolicy": json.dumps(APIGATEWAY_TRUST), "tags": tags})
    reg.child("aws:iam/rolePolicyAttachment:RolePolicyAttachment", key, urn,
              {"role": role.out("id"), "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}, {"role": [role.urn]})

    def operation(object_key: str, parameter: str | None = None) -> dict:
        uri = f"arn:aws:apigateway:{reg.region}:s3:path/{bucket.out('bucket')}/{object_key}" + \
            (f"/{{{parameter}}}" if parameter else "")
        op = {"x-amazon-apigateway-integration": {"credentials": role.out("arn"), "uri": uri,
                                                  "passthroughBehavior": "when_no_match", "httpMethod": "GET",
                                                  "type": "aws"}}
        _base_path_options(swagger, op, route)
        return op

    def put(object_key: str, file: str) -> None:
        reg.child("aws:s3/bucketObject:BucketObject", object_key, urn,
                  {"bucket": bucket.out("id"), "key": object_key, "tags": tags, "source": {"path": file},
                   "contentType": route.get("contentType") or mimetypes.guess_type(file)[0]}, {"bucket": [bucket.urn]})
    if not directory:
        put(key, local)
        swagger["paths"].setdefault(path, {})["get"] = operation(key)
        return
    index = None if route.get("index") is False else (route.get("index") if isinstance(route.get("index"), str)
                                                       else "index.html")
    for root, _dirs, files in sorted(os.walk(local)):
        for file in sorted(files):
            full = os.path.join(root, file)
            child_key = key + "/" + os.path.relpath(full, local).replace(os.sep, "/")
            put(child_key, full)
            if index and os.path.relpath(full, local) == index:
                swagger["paths"][server_path] = {"get": operation(child_key)}
    swagger["paths"].setdefault(server_path + "{proxy+}", {})[_swagger_method("ANY")] = operation(key, "proxy")


def rest_api(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    binary = args.get("binaryMediaTypes") or ["*/*"]
    tags = args.get("tags")
    lambdas: list = []          # (method, path, function reference)
    if args.get("swaggerString"):
        body = args["swaggerString"]
        title = name
        if _known(body):
            spec = json.loads(body)
            spec.setdefault("info", {}).setdefault("title", name)
            title, body = spec["info"]["title"], json.dumps(spec)
    elif args.get("routes"):
        title = name
        swagger: dict = {"swagger": "2.0", "info": {"title": name, "version": "1.0"}, "paths": {},
                         "x-amazon-apigateway-binary-media-types": binary,
                         "x-amazon-apigateway-gateway-responses": {
                             code: {"statusCode": 404, "responseTemplates": {
                                 "application/json": '{"message": "404 Not found" }'}}
                             for code in ("MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED")}
                         | (args.get("gatewayResponses") or {}),
                         "x-amazon-apigateway-api-key-source": args.get("apiKeySource") or "HEADER"}
        if args.get("requestValidator"):
            swagger["x-amazon-apigateway-request-validator"] = args["requestValidator"]
        bucket = None
        for route in args["routes"]:
            route = dict(route)
            route["path"] = route["path"] if str(route.get("path", "")).startswith("/") else "/" + route["path"]
            if route.get("eventHandler"):
                method = _swagger_method(route.get("method"))
                arn = reg.deref(route["eventHandler"], "arn")
                op = {"x-amazon-apigateway-integration": {
                    "uri": f"arn:aws:apigateway:{reg.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
                    if _known(arn) else UNKNOWN, "passthroughBehavior": "when_no_match", "httpMethod": "POST",
                    "type": "aws_proxy"}}
                _base_path_options(swagger, op, route)
                swagger["paths"].setdefault(route["path"], {})[method] = op
                lambdas.append((str(route.get("method") or "ANY"), route["path"], route["eventHandler"]))
            elif route.get("localPath"):
                if bucket is None:
                    bucket = reg.child("aws:s3/bucket:Bucket", name.lower(), urn, {}, autoname=False)
                _static_route(reg, name, urn, swagger, route, bucket, tags)
            elif route.get("target"):
                target = route["target"]
                op = {"x-amazon-apigateway-integration": {
                    "uri": target.get("uri"), "type": target.get("type"), "httpMethod": target.get("httpMethod") or "ANY",
                    "passthroughBehavior": target.get("passthroughBehavior") or "when_no_match",
                    **({"connectionType": target["connectionType"]} if target.get("connectionType") else {}),
                    **({"connectionId": target["connectionId"]} if target.get("connectionId") else {})}}
                _base_path_options(swagger, op, route)
                swagger["paths"].setdefault(route["path"], {})[_swagger_method("ANY")] = op
            elif route.get("data") is not None:
                swagger["paths"].setdefault(route["path"], {})[_swagger_method(route.get("method"))] = route["data"]
        body = UNKNOWN if _unknown_in(swagger) else json.dumps(swagger)
    else:
        raise ValueError("aws-apigateway RestAPI must specify either [swaggerString] or as least one of the "
                         "[route] options.")
    stage_name = args.get("stageName") or "stage"
    api_args = {"name": title, "binaryMediaTypes": binary, "body": body, "apiKeySource": args.get("apiKeySource"),
                "description": args.get("description"), "disableExecuteApiEndpoint":
                args.get("disableExecuteApiEndpoint"), "tags": tags}
    fn_urns = [f["urn"] for _, _, f in lambdas if is_ref(f)]
    api = reg.child("aws:apigateway/restApi:RestApi", name, urn, api_args, {"body": fn_urns} if fn_urns else None)
    version = hashlib.sha1(json.dumps([args.get("apiKeySource"), binary, body]).encode()).hexdigest()
    deployment = reg.child("aws:apigateway/deployment:Deployment", name, urn,
                           {"restApi": api.out("id"), "variables": {"version": version}}, {"restApi": [api.urn]})
    permissions = []
    for method, path, fn in lambdas:
        method_path = f"{'*' if method.upper() == 'ANY' else method.upper()}{path}"
        execution = api.out("executionArn")
        permissions.append(reg.child("aws:lambda/permission:Permission", f"{name}-{_sha1(method_path)}", urn, {
            "action": "lambda:invokeFunction", "function": reg.deref(fn, "id"), "principal": "apigateway.amazonaws.com",
            "sourceArn": f"{execution}/{stage_name}*/{method_path}" if _known(execution) else UNKNOWN},
            {"function": [fn["urn"]] if is_ref(fn) else [], "sourceArn": [api.urn]}))
    stage = reg.child("aws:apigateway/stage:Stage", name, urn,
                      {"restApi": api.out("id"), "deployment": deployment.out("id"), "stageName": stage_name,
                       "tags": tags}, {"restApi": [api.urn], "deployment": [deployment.urn]})
    invoke = stage.out("invokeUrl")
    return {"api": ref(api), "deployment": ref(deployment), "stage": ref(stage),
            "url": f"{invoke}/" if _known(invoke) else UNKNOWN}


# --- synced-folder S3BucketFolder (pulumi-synced-folder provider/cmd/.../s3-bucket-folder.ts) ---------------------
def s3_bucket_folder(reg: Registrar, name: str, urn: str, args: dict) -> dict:
    import mimetypes
    import os
    root = reg.path(args.get("path") or ".")
    files = []
    for base, dirs, names in os.walk(root):
        if not args.get("includeHiddenFiles"):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            names = [n for n in names if not n.startswith(".")]
        files += [os.path.join(base, n) for n in names]
    if args.get("managedObjects", True) is not False:
        for full in sorted(files):
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            reg.child("aws:s3/bucketObject:BucketObject", f"{name}-{rel}", urn, {
                "key": rel, "acl": args.get("acl"), "bucket": args.get("bucketName"),
                "contentType": mimetypes.guess_type(full)[0], "source": {"path": full},
                "cacheControl": args.get("cacheControl")})
    else:
        bucket = args.get("bucketName")
        sync = (f'aws s3 sync "{args.get("path")}" "s3://{bucket}" --acl "{args.get("acl")}" --region "{reg.region}" '
                f'--delete --only-show-errors')
        reg.child("command:local:Command", f"{name}-sync-command", urn, {
            "create": sync, "update": sync,
            "delete": f'aws s3 rm "s3://{bucket}" --include "*" --recursive --only-show-errors'})
    return {}


BUILDERS: dict[str, Callable[[Registrar, str, str, dict], dict]] = {
    "awsx:ecr:Repository": awsx_ecr_repository,
    "aws-apigateway:index:RestAPI": rest_api,
    "synced-folder:index:S3BucketFolder": s3_bucket_folder,
    "awsx:ec2:Vpc": awsx_vpc,
    "awsx:lb:ApplicationLoadBalancer": awsx_alb,
    "awsx:ecs:FargateService": awsx_fargate_service,
    "awsx:ecs:FargateTaskDefinition": awsx_fargate_task_definition,
    "eks:index:Cluster": eks_cluster,
}
