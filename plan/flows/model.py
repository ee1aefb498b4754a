"""The account as the recorded plan describes it: roles with their identity policies, resources with
their resource policies and keys, security groups with their rules. Lookups go by the values the
program wired together (ARNs, names, URLs, ids in inputs matched to recorded outputs), and by
property dependencies where the engine recorded them.

`Checker` answers the questions a flow is made of (an IAM request, a KMS use, a role trust, a
security-group path), each as an iam.Verdict (True / False / None = undecidable).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterable
from typing import Any

from ..elb_accounts import ELB_ACCOUNTS  # noqa: F401 - re-exported (plan/flows/logs.py)
from . import iam
from .iam import Unknown, Verdict, is_unknown
from .managed import MANAGED

ACCOUNT_DEFAULT = "123456789012"



def loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclasses.dataclass
class Role:
    urn: str
    name: str
    arn: Any
    tags: dict
    trust: Any
    identity: list            # [(label, document)]
    unmodelled: list          # managed policy ARNs attached but not modelled
    resource: Any = None

    def principal(self) -> iam.Principal:
        if is_unknown(self.arn):
            return iam.Principal("role", arn=iam.UNKNOWN_SENTINEL, account="")
        return iam.role_principal(self.arn, self.tags)


class Model:
    _sg_rules: list[tuple]  # cached by sg_rules()

    def __init__(self, plan):
        self.plan = plan
        self.region = plan.region
        self.resources = plan.resources
        self.by_urn = {r.urn: r for r in self.resources}
        # A catalogue asks for the same resources' state thousands of times (~14,000 on prod); the plan does not
        # change while a Model reads it (a test that changes a plan builds a new Model), so each resource's
        # state is merged once, and resources are grouped by type once.
        self._states: dict[int, dict] = {}
        self._by_type: dict[str, list] = {}
        self._order: dict[int, int] = {}
        for i, r in enumerate(self.resources):
            self._by_type.setdefault(r.type, []).append(r)
            self._order[id(r)] = i
        self.provider_region = {}
        for r in self.resources:
            if r.type.startswith("pulumi:providers:aws"):
                reg = r.props.get("region")
                if isinstance(reg, str):
                    urn = r.urn
                    self.provider_region[urn] = reg
        self.account = self._find_account()
        self._index()
        self._roles()
        self._policies()

    # ------------------------------------------------------------------ basics
    def _state(self, r) -> dict:
        s = self._states.get(id(r))
        if s is None:
            s = r.props
            for k, v in r.outputs.items():
                if k not in s or (is_unknown(s.get(k)) and not is_unknown(v)):
                    s[k] = v
            if r.id and "id" not in s:
                s["id"] = r.id
            self._states[id(r)] = s
        return s

    def state(self, r) -> dict:
        """The resource's inputs (secrets unwrapped) with its recorded outputs filling what the inputs leave out
        or leave unknown: a copy the caller may change."""
        return dict(self._state(r))

    def get(self, r, key, default=None):
        return self._state(r).get(key, default)

    def arn(self, r) -> Any:
        return self.get(r, "arn")

    def region_of(self, r) -> str:
        if r.provider and r.provider in self.provider_region:
            return self.provider_region[r.provider]
        for prov, reg in self.provider_region.items():
            if r.provider and r.provider.startswith(prov):
                return reg
        a = self.arn(r)
        if isinstance(a, str) and a.count(":") >= 4 and a.split(":")[3] and not is_unknown(a):
            return a.split(":")[3]
        return self.region

    def _find_account(self) -> str:
        for r in self.resources:
            a = r.outputs.get("arn")
            if isinstance(a, str) and a.startswith("arn:") and not is_unknown(a):
                acct = a.split(":")[4] if a.count(":") >= 5 else ""
                if acct.isdigit():
                    return acct
        return ACCOUNT_DEFAULT

    def of_type(self, *tokens) -> list:
        """The plan's resources of these types, in registration order."""
        if len(tokens) == 1:
            return list(self._by_type.get(tokens[0], ()))
        found = [r for t in dict.fromkeys(tokens) for r in self._by_type.get(t, ())]
        return sorted(found, key=lambda r: self._order[id(r)])

    def _index(self):
        self.index: dict[str, Any] = {}
        for r in self.resources:
            s = self._state(r)
            for key in ("arn", "id", "name", "url", "bucket", "keyId", "repositoryUrl", "identifier",
                        "replicationGroupId", "functionName", "dnsName"):
                v = s.get(key)
                if isinstance(v, str) and v and not is_unknown(v):
                    self.index.setdefault(v, r)
            if r.id and not is_unknown(r.id):
                self.index.setdefault(r.id, r)

    def find(self, value, *types) -> Any:
        """The resource whose arn/id/name/url is `value` (Unknown if value is unknown, None if not found)."""
        if is_unknown(value):
            return Unknown
        if not isinstance(value, str):
            return None
        r = self.index.get(value)
        if r is not None and (not types or r.type in types):
            return r
        for cand in self.resources:
            if types and cand.type not in types:
                continue
            s = self._state(cand)
            if value in (s.get("arn"), s.get("id"), s.get("name"), s.get("url"), s.get("bucket"), cand.id):
                return cand
        return None

    def dep(self, r, prop, *types) -> Any:
        """The resource a property of r was wired from (property dependencies), else None."""
        for urn in r.propertyDependencies.get(prop, []):
            d = self.by_urn.get(urn)
            if d is not None and (not types or d.type in types):
                return d
        return None

    def ref(self, r, prop, *types):
        d = self.dep(r, prop, *types)
        if d is not None:
            return d
        return self.find(self._state(r).get(prop), *types)

    # ------------------------------------------------------------------ IAM
    def _roles(self):
        self.roles: dict[str, Role] = {}
        for r in self.of_type("aws:iam/role:Role"):
            s = self.state(r)
            ident = []
            for ip in s.get("inlinePolicies") or []:
                if isinstance(ip, dict) and ip.get("policy"):
                    ident.append((f"{r.name}/inline:{ip.get('name')}", iam.parse_document(ip["policy"])))
            role = Role(urn=r.urn, name=r.name, arn=s.get("arn"), tags=s.get("tags") or {},
                        trust=iam.parse_document(s.get("assumeRolePolicy")), identity=ident, unmodelled=[], resource=r)
            for parn in s.get("managedPolicyArns") or []:
                self._attach(role, parn, f"{r.name}/managedPolicyArns")
            self.roles[r.urn] = role
        floating: list = []
        for rp in self.of_type("aws:iam/rolePolicy:RolePolicy"):
            role = self._role_ref(rp, "role")
            doc = iam.parse_document(rp.props.get("policy"))
            if role is Unknown:
                floating.append((rp.name, Unknown))
                continue
            if role is not None:
                role.identity.append((rp.name, doc))
        for att in self.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            role = self._role_ref(att, "role")
            if isinstance(role, Role):
                self._attach(role, att.props.get("policyArn"), att.name, att)
        for role in self.roles.values():  # a policy whose role is unknown may belong to any role
            role.identity.extend(floating)
        for att in self.of_type("aws:iam/policyAttachment:PolicyAttachment"):
            for rv in att.props.get("roles") or []:
                role = self._role_by_value(rv)
                if isinstance(role, Role):
                    self._attach(role, att.props.get("policyArn"), att.name, att)

    def _role_by_value(self, value) -> Any:
        if is_unknown(value):
            return Unknown
        for role in self.roles.values():
            s = self._state(role.resource)
            if value in (s.get("name"), s.get("arn"), role.resource.id, s.get("id")):
                return role
        return None

    def _role_ref(self, r, prop) -> Any:
        d = self.dep(r, prop, "aws:iam/role:Role")
        if d is not None:
            return self.roles[d.urn]
        return self._role_by_value(r.props.get(prop))

    def _attach(self, role: Role, parn, label, att=None):
        if is_unknown(parn):
            d = self.dep(att, "policyArn", "aws:iam/policy:Policy") if att is not None else None
            if d is not None:
                role.identity.append((f"{label}:{d.name}", iam.parse_document(d.props.get("policy"))))
            else:
                role.identity.append((label, Unknown))
            return
        if parn in MANAGED:
            role.identity.append((parn.split("/")[-1], MANAGED[parn]))
            return
        pol = self.find(parn, "aws:iam/policy:Policy")
        if pol is not None and pol is not Unknown:
            role.identity.append((pol.name, iam.parse_document(pol.props.get("policy"))))
            return
        role.unmodelled.append(parn.split("/")[-1])

    def role_by_arn(self, arn) -> Any:
        if is_unknown(arn):
            return Unknown
        for role in self.roles.values():
            if role.arn == arn:
                return role
        return None

    def role_named(self, logical: str) -> Role | None:
        for role in self.roles.values():
            if role.name == logical:
                return role
        return None

    # ------------------------------------------------------------------ resource policies
    def _policies(self):
        self.rpolicies: dict[str, list] = {}
        self.floating: dict[str, list] = {}

        def add(target, label, doc, kind):
            if is_unknown(target) or target is Unknown:
                self.floating.setdefault(kind, []).append((label, Unknown))
                return
            if target is None:
                return
            self.rpolicies.setdefault(target, []).append((label, doc))

        for r in self.of_type("aws:s3/bucketPolicy:BucketPolicy"):
            b = r.props.get("bucket")
            add(Unknown if is_unknown(b) else f"arn:aws:s3:::{b}", r.name, iam.parse_document(r.props.get("policy")), "s3")
        for r in self.of_type("aws:sqs/queuePolicy:QueuePolicy"):
            q = self.ref(r, "queueUrl", "aws:sqs/queue:Queue")
            add(Unknown if q is Unknown else (self.arn(q) if q else None), r.name,
                iam.parse_document(r.props.get("policy")), "sqs")
        for r in self.of_type("aws:sqs/queue:Queue"):
            if r.props.get("policy"):
                add(self.arn(r), r.name, iam.parse_document(r.props["policy"]), "sqs")
        for r in self.of_type("aws:sns/topicPolicy:TopicPolicy"):
            add(r.props.get("arn"), r.name, iam.parse_document(r.props.get("policy")), "sns")
        for r in self.of_type("aws:sns/topic:Topic"):
            if r.props.get("policy"):
                add(self.arn(r), r.name, iam.parse_document(r.props["policy"]), "sns")
        for r in self.of_type("aws:secretsmanager/secretPolicy:SecretPolicy"):
            add(r.props.get("secretArn"), r.name, iam.parse_document(r.props.get("policy")), "secretsmanager")
        for r in self.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy"):
            repo = self.ref(r, "repository", "aws:ecr/repository:Repository")
            add(Unknown if repo is Unknown else (self.arn(repo) if repo else None), r.name,
                iam.parse_document(r.props.get("policy")), "ecr")
        for r in self.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy"):
            bus = r.props.get("eventBusName") or "default"
            b = self.find(bus, "aws:cloudwatch/eventBus:EventBus")
            target = (Unknown if b is Unknown else self.arn(b)) if b else \
                f"arn:aws:events:{self.region_of(r)}:{self.account}:event-bus/{bus}"
            add(target, r.name, iam.parse_document(r.props.get("policy")), "events")
        for r in self.of_type("aws:backup/vaultPolicy:VaultPolicy"):
            v = self.find(r.props.get("backupVaultName"), "aws:backup/vault:Vault")
            add(Unknown if v is Unknown else (self.arn(v) if v else None), r.name,
                iam.parse_document(r.props.get("policy")), "backup")
        for r in self.of_type("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            add(self.arn(r), r.name, iam.parse_document(r.props.get("policy")), "kms")
        for r in self.of_type("aws:lambda/permission:Permission"):
            fn = self.ref(r, "function", "aws:lambda/function:Function")
            p = r.props
            cond: dict = {}
            if p.get("sourceArn"):
                cond.setdefault("ArnLike", {})["AWS:SourceArn"] = p["sourceArn"]
            if p.get("sourceAccount"):
                cond.setdefault("StringEquals", {})["AWS:SourceAccount"] = p["sourceAccount"]
            principal = p.get("principal")
            pr = {"Service": principal} if isinstance(principal, str) and principal.endswith(".amazonaws.com") \
                else {"AWS": principal}
            doc = {"Version": "2012-10-17", "Statement": [
                {"Sid": r.name, "Effect": "Allow", "Principal": pr, "Action": p.get("action"),
                 "Resource": self.arn(fn) if fn not in (None, Unknown) else "*", **({"Condition": cond} if cond else {})}]}
            add(Unknown if fn is Unknown or is_unknown(p) else (self.arn(fn) if fn else None), r.name, doc, "lambda")

    def resource_docs(self, resource_arn: str) -> list:
        if is_unknown(resource_arn):
            return [("(unknown resource)", Unknown)]
        target = resource_arn
        kind = resource_arn.split(":")[2] if resource_arn.count(":") >= 2 else ""
        if kind == "s3":
            target = "arn:aws:s3:::" + resource_arn[len("arn:aws:s3:::"):].split("/")[0]
        docs = list(self.rpolicies.get(target, []))
        docs += self.floating.get(kind, [])
        return docs

    # ------------------------------------------------------------------ keys
    def key(self, ref) -> Any:
        """A key reference (ARN, id, alias name or ARN) -> the key resource, 'aws-managed', Unknown or None."""
        if ref is None or ref == "":
            return None
        if is_unknown(ref):
            return Unknown
        if isinstance(ref, str) and ("alias/aws/" in ref):
            return "aws-managed"
        r = self.find(ref, "aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/alias:Alias")
        if r is None and isinstance(ref, str):
            tail = ref.split("/")[-1]
            for k in self.of_type("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
                if self.get(k, "keyId") == tail:
                    return k
            if ref.startswith("arn:aws:kms") and ":alias/" in ref:
                r = self.find("alias/" + ref.split(":alias/")[1], "aws:kms/alias:Alias")
        if r is not None and r is not Unknown and r.type == "aws:kms/alias:Alias":
            return self.key(self.get(r, "targetKeyId") or self.get(r, "targetKeyArn"))
        return r

    def bucket(self, name_or_arn) -> Any:
        if is_unknown(name_or_arn):
            return Unknown
        if isinstance(name_or_arn, str) and name_or_arn.startswith("arn:aws:s3:::"):
            name_or_arn = name_or_arn[len("arn:aws:s3:::"):]
        return self.find(name_or_arn, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

    def bucket_name(self, b) -> Any:
        return self.get(b, "bucket")

    def bucket_sse(self, b) -> tuple[str, Any, bool]:
        """(algorithm, key reference, bucket key enabled) of a bucket's default encryption."""
        name = self.bucket_name(b)
        for r in self.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"):
            if self.dep(r, "bucket") is b or r.props.get("bucket") == name:
                for rule in r.props.get("rules") or []:
                    d = rule.get("applyServerSideEncryptionByDefault") or {}
                    return d.get("sseAlgorithm", "AES256"), d.get("kmsMasterKeyId"), bool(rule.get("bucketKeyEnabled"))
        sse = (b.props.get("serverSideEncryptionConfiguration") or {}).get("rule") or {}
        d = sse.get("applyServerSideEncryptionByDefault") or {}
        if d:
            return d.get("sseAlgorithm", "AES256"), d.get("kmsMasterKeyId"), bool(sse.get("bucketKeyEnabled"))
        return "AES256", None, False

    # ------------------------------------------------------------------ security groups
    def sg_rules(self):
        """[(direction, sg id, protocol, from, to, peer)] where peer is ('sg', id) or ('cidr', net)."""
        if hasattr(self, "_sg_rules"):
            return self._sg_rules
        rules: list[tuple] = []

        def peer_of(d):
            out = []
            for key in ("referencedSecurityGroupId", "sourceSecurityGroupId"):
                if d.get(key):
                    out.append(("sg", d[key]))
            for key in ("cidrIpv4", "cidrBlocks", "cidrIpv6", "ipv6CidrBlocks"):
                for c in (d.get(key) if isinstance(d.get(key), list) else [d.get(key)]):
                    if c:
                        out.append(("cidr", c))
            for sg in d.get("securityGroups") or []:
                out.append(("sg", sg))
            if d.get("self"):
                out.append(("self", None))
            if d.get("prefixListId") or d.get("prefixListIds"):
                out.append(("prefix-list", d.get("prefixListId") or d.get("prefixListIds")))
            return out

        for sg in self.of_type("aws:ec2/securityGroup:SecurityGroup"):
            sid = self.get(sg, "id") or sg.id
            for direction in ("ingress", "egress"):
                for d in sg.props.get(direction) or []:
                    for peer in peer_of(d):
                        if peer[0] == "self":
                            peer = ("sg", sid)
                        rules.append((direction, sid, str(d.get("protocol", "-1")), d.get("fromPort", 0),
                                      d.get("toPort", 65535), peer, sg.name))
        for r in self.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                              "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"):
            direction = "ingress" if "Ingress" in r.type else "egress"
            d = r.props
            for peer in peer_of(d):
                rules.append((direction, d.get("securityGroupId"), str(d.get("ipProtocol", "-1")),
                              d.get("fromPort", 0), d.get("toPort", 65535), peer, r.name))
        for r in self.of_type("aws:ec2/securityGroupRule:SecurityGroupRule"):
            d = r.props
            direction = d.get("type")
            for peer in peer_of(d):
                if peer[0] == "self":
                    peer = ("sg", d.get("securityGroupId"))
                rules.append((direction, d.get("securityGroupId"), str(d.get("protocol", "-1")),
                              d.get("fromPort", 0), d.get("toPort", 65535), peer, r.name))
        self._sg_rules = rules
        return rules


def _port_ok(proto, lo, hi, port) -> bool:
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    try:
        return int(lo) <= port <= int(hi)
    except (TypeError, ValueError):
        return False


def _cidr_contains(net, addr) -> bool:
    try:
        return ipaddress.ip_network(addr, strict=False).subnet_of(ipaddress.ip_network(net, strict=False))  # type: ignore[arg-type]  # mixed versions raise TypeError, caught
    except (TypeError, ValueError):
        return False


class Checker:
    """Decisions on top of a Model."""

    def __init__(self, model: Model):
        self.m = model
        self._may_allow: dict = {}

    def identity_may_allow(self, role: Role, action: str) -> bool:
        """False only when none of the role's identity documents can allow `action`: each is known, none has an
        Allow statement whose Action (or NotAction) matches or is unknown, and no managed policy is unmodelled.
        Then `role_can(role, action, arn)` is allowed only through a resource policy naming the role
        (`resource_may_name_roles`). A cheap filter for the checks that try every role (producers); cached
        per role and action."""
        key = (role.urn, action)
        if key not in self._may_allow:
            self._may_allow[key] = bool(role.unmodelled) or any(
                doc is Unknown or any(isinstance(st, dict) and st.get("Effect") == "Allow"
                                      and iam._action_match(st, action) is not False for st in iam.statements(doc))
                for _, doc in role.identity)
        return self._may_allow[key]

    def resource_may_name_roles(self, resource: str) -> bool:
        """Whether a resource policy of `resource` could allow a role directly: an unknown document, or an Allow
        statement whose principal is not service principals only."""
        for _, doc in self.m.resource_docs(resource):
            if doc is Unknown:
                return True
            for st in iam.statements(doc):
                if not isinstance(st, dict) or st.get("Effect") != "Allow":
                    continue
                principal = st.get("Principal")
                if "NotPrincipal" in st or not (isinstance(principal, dict) and set(principal) == {"Service"}):
                    return True
        return False

    def roles_that_may(self, roles: Iterable, action: str, resource: str) -> list:
        """The roles of `roles` for which `role_can(role, action, resource)` may be allowed (the others are
        certainly not): every role when a resource policy could name roles, else those whose identity may."""
        if is_unknown(resource) or self.resource_may_name_roles(resource):
            return list(roles)
        return [r for r in roles if self.identity_may_allow(r, action)]

    # ------------------------------------------------------------------ IAM requests
    def request(self, principal, action: str, resource: str, context: dict | None = None,
                role: Role | None = None) -> Verdict:
        if role is Unknown or is_unknown(resource) or (principal.kind == "role" and is_unknown(principal.arn)):
            return Verdict(None, f"{action}: principal or resource unknown until apply")
        identity = role.identity if isinstance(role, Role) else None
        acct = ""
        if isinstance(resource, str) and resource.count(":") >= 5:
            acct = resource.split(":")[4]
        kms = resource.startswith("arn:aws:kms:")
        trust = action.startswith("sts:AssumeRole")
        req = iam.Request(principal, action, resource, dict(context or {}))
        return iam.decide(req, identity=identity, resource=self.m.resource_docs(resource),
                          resource_account=acct or self.m.account, requires_resource_policy=kms or trust,
                          identity_unmodelled=role.unmodelled if isinstance(role, Role) else ())

    def role_can(self, role: Any, action: str, resource: str, context: dict | None = None) -> Verdict:
        if role is Unknown:
            return Verdict(None, "role unknown until apply")
        if role is None:
            return Verdict(False, "no such role in the plan")
        return self.request(role.principal(), action, resource, context, role=role)

    def trust(self, role: Any, service: str) -> Verdict:
        if role is Unknown:
            return Verdict(None, "role unknown until apply")
        if role is None:
            return Verdict(False, "no role")
        if role.trust is Unknown:
            return Verdict(None, "trust policy unknown until apply")
        req = iam.Request(iam.service_principal(service), "sts:AssumeRole", role.arn,
                          {"aws:SourceAccount": self.m.account})
        v = iam.decide(req, identity=None, resource=[(f"{role.name}/trust", role.trust)],
                       resource_account=self.m.account, requires_resource_policy=True)
        return Verdict(v.allowed, f"{service} may assume {role.name}" if v.allowed else f"trust of {role.name}: {v.reason}")

    def kms_use(self, principal, key_ref, actions: Iterable[str], context: dict,
                role: Role | None = None) -> Verdict:
        key = self.m.key(key_ref)
        if key is None:
            return Verdict(True, "not encrypted with a customer managed key")
        if key == "aws-managed":
            return Verdict(True, "AWS managed key (usable by the account through the service)")
        if key is Unknown:
            return Verdict(None, "key unknown until apply")
        karn = self.m.arn(key)
        if is_unknown(karn):
            return Verdict(None, "key ARN unknown until apply")
        # AWS adds the key's aliases to every request on it (kms:ResourceAliases, a multivalued key)
        refs = {karn, self.m.get(key, "keyId"), getattr(key, "id", None)} - {None, ""}
        aliases = [self.m.get(a, "name") for a in self.m.of_type("aws:kms/alias:Alias")
                   if (self.m.get(a, "targetKeyId") in refs or self.m.get(a, "targetKeyArn") in refs)]
        if aliases and "kms:ResourceAliases" not in context:
            context = {**context, "kms:ResourceAliases": aliases}
        for action in actions:
            v = self.request(principal, action, karn, context, role=role)
            if v.allowed is not True:
                return Verdict(v.allowed, f"key {key.name}: {action}: {v.reason}")
        return Verdict(True, f"key {key.name} allows {', '.join(actions)}")

    # ------------------------------------------------------------------ network
    def sg_path(self, src: Any, dst_sgs: Iterable, port: int, *, src_cidr: str | None = None) -> Verdict:
        """Traffic from security groups `src` (or from the address range src_cidr) to a target in dst_sgs on
        `port`: an egress rule of a source group and an ingress rule of a target group must both admit it."""
        dst_sgs = list(dst_sgs or [])
        src = list(src or [])
        if is_unknown(dst_sgs) or is_unknown(src):
            return Verdict(None, "security group ids unknown until apply")
        if not dst_sgs:
            return Verdict(False, "target has no security group")
        rules = self.m.sg_rules()
        if any(is_unknown(r[1]) or is_unknown(r[5]) for r in rules):
            unknown_rules = True
        else:
            unknown_rules = False

        def peer_ok(peer, sgs, cidr):
            kind, val = peer
            if kind == "sg":
                return val in sgs
            if kind == "cidr" and cidr:
                return _cidr_contains(val, cidr)
            return False

        ingress = [r for r in rules if r[0] == "ingress" and r[1] in dst_sgs and _port_ok(r[2], r[3], r[4], port)
                   and peer_ok(r[5], src, src_cidr)]
        if not ingress:
            why = f"no ingress rule on {', '.join(map(str, dst_sgs))} admits " \
                  f"{src_cidr or ', '.join(map(str, src))} on {port}"
            return Verdict(None if unknown_rules else False, why)
        if src_cidr:
            return Verdict(True, f"ingress {ingress[0][6]} admits {src_cidr} on {port}")
        egress = [r for r in rules if r[0] == "egress" and r[1] in src and _port_ok(r[2], r[3], r[4], port)
                  and (peer_ok(r[5], dst_sgs, None) or (r[5][0] == "cidr" and r[5][1] in ("0.0.0.0/0",)))]
        if not egress:
            return Verdict(None if unknown_rules else False,
                           f"no egress rule on {', '.join(map(str, src))} allows port {port} to {', '.join(map(str, dst_sgs))}")
        return Verdict(True, f"egress {egress[0][6]} + ingress {ingress[0][6]} on {port}")
