"""The first-up check (`python -m plan --first-up`): every invoke answerable in an empty account.

A first `pulumi up` runs against an account that holds only what the deployment itself has created so far plus
the prerequisites the README declares. A data source that looks up anything else (a repository, an image, a
parameter, a zone, a secret, ...) fails the `up` with the provider's "not found" error; the default mocks answer
every lookup (an empty image list, a made-up parameter), so nothing else notices.

In this mode the program runs as `pulumi up` runs it (outputs known), and the mocks answer lookups as the
provider does:
- an invoke of a *pure* function (policy documents, caller identity, regions, partitions, AZs, service
  principals, public AMIs, the ELB log-delivery account, random passwords) is answered as usual;
- a *lookup* is answered only when what it names exists: a resource of the type that creates it, registered
  earlier in this run, in the lookup's region, whose identifying property has the looked-up value (or AWS
  provides it in every account: `alias/aws/*` keys, `arn:aws:iam::aws:policy/*` policies, `/aws/service/*`
  public parameters, the default VPC, CloudFront's `Managed-*` policies). Anything else is a deploy error
  (plan/deploy_errors.py, kind `lookup`) and the invoke fails as the provider's would, with its error text;
- list queries (`getSubnets`, `getRouteTables`, ...) find nothing and succeed, as AWS's do; `getImages` needs
  its repository, and a new repository holds no image.
The resources that depend on a failed lookup are not registered (as in a real `up`); everything else is.

Invokes of types this table does not know are looked up generically: `aws:<module>/get<Type>:get<Type>` looks
up a `aws:<module>/<type>:<Type>` (the SDK's own resource index) by its identifying arguments.

Prerequisites a program's README declares (a shared zone, another team's repository) are declared to the check
in the stack file, as config `plan:prerequisites`: `{<invoke token or its function name>: [identifying value,
...]}` (e.g. `getImage: [shared/base]`, `aws:route53/getZone:getZone: [example.com]`); a lookup naming one of
them is answered. This project's README declares none that a data source looks up (certificates and domains are
configuration values, the Git connection is completed after the first `up`), so nothing else is assumed.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .deploy_errors import DeployError
from .mocks import ACCOUNT_ID, PlatformMocks, _resource_index

# Answerable in any account: computed by the provider or AWS, or AWS's own public data.
PURE = {
    "aws:iam/getPolicyDocument:getPolicyDocument", "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getRegion:getRegion", "aws:index/getRegions:getRegions", "aws:index/getPartition:getPartition",
    "aws:index/getAvailabilityZones:getAvailabilityZones", "aws:index/getAvailabilityZone:getAvailabilityZone",
    "aws:index/getServicePrincipal:getServicePrincipal", "aws:index/getDefaultTags:getDefaultTags",
    "aws:index/getIpRanges:getIpRanges", "aws:index/getArn:getArn",
    "aws:index/getBillingServiceAccount:getBillingServiceAccount",
    "aws:ec2/getAmi:getAmi", "aws:ec2/getAmiIds:getAmiIds", "aws:ec2/getInstanceType:getInstanceType",
    "aws:ec2/getInstanceTypes:getInstanceTypes", "aws:ec2/getInstanceTypeOffering:getInstanceTypeOffering",
    "aws:elb/getServiceAccount:getServiceAccount",
    "aws:elasticloadbalancing/getServiceAccount:getServiceAccount", "aws:elb/getHostedZoneId:getHostedZoneId",
    "aws:lb/getHostedZoneId:getHostedZoneId", "aws:s3/getCanonicalUserId:getCanonicalUserId",
    "aws:secretsmanager/getRandomPassword:getRandomPassword", "aws:rds/getEngineVersion:getEngineVersion",
    "aws:rds/getOrderableDbInstance:getOrderableDbInstance", "aws:eks/getAddonVersion:getAddonVersion",
    "aws:ec2/getManagedPrefixList:getManagedPrefixList", "aws:ec2/getPrefixList:getPrefixList",
    "aws:cloudwatch/getLogDataProtectionPolicyDocument:getLogDataProtectionPolicyDocument",
    "aws:iam/getPrincipalPolicySimulation:getPrincipalPolicySimulation",
    "aws:cloudfront/getLogDeliveryCanonicalUserId:getLogDeliveryCanonicalUserId",
    "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage", "aws:ssm/getPatchBaseline:getPatchBaseline",
    "awsx:ec2:getDefaultVpc", "pulumi:pulumi:getResource",
}


@dataclasses.dataclass(frozen=True)
class Lookup:
    """What a lookup invoke names: a resource of `creates` whose property `prop` equals the invoke's `arg`."""
    creates: tuple[str, ...]
    keys: tuple[tuple[str, str], ...]          # (invoke argument, resource property) pairs, first present wins
    error: str                                 # the provider's error text ({arg} filled from the invoke's args)
    aws_provided: Callable[[Mapping], bool] = lambda args: False
    needs_image: bool = False                  # getImage: the repository must also hold the image


def _starts(arg: str, *prefixes: str) -> Callable[[Mapping], bool]:
    return lambda a: isinstance(a.get(arg), str) and a[arg].startswith(prefixes)


REPOSITORY = ("aws:ecr/repository:Repository",)
LOOKUPS: dict[str, Lookup] = {
    "aws:ecr/getImages:getImages": Lookup(
        REPOSITORY, (("repositoryName", "name"),),
        "RepositoryNotFoundException: The repository with name '{repositoryName}' does not exist in the registry "
        "with id '{registryId}'"),
    "aws:ecr/getImage:getImage": Lookup(
        REPOSITORY, (("repositoryName", "name"),),
        "ImageNotFoundException: The image requested does not exist in the specified repository "
        "'{repositoryName}'", needs_image=True),
    "aws:ecr/getRepository:getRepository": Lookup(
        REPOSITORY, (("name", "name"),),
        "RepositoryNotFoundException: The repository with name '{name}' does not exist"),
    "aws:ssm/getParameter:getParameter": Lookup(
        ("aws:ssm/parameter:Parameter",), (("name", "name"),), "ParameterNotFound: parameter {name} not found",
        aws_provided=_starts("name", "/aws/service/")),
    "aws:route53/getZone:getZone": Lookup(
        ("aws:route53/zone:Zone",), (("zoneId", "zoneId"), ("name", "name")),
        "no matching Route 53 Hosted Zone found ({name}{zoneId})"),
    "aws:acm/getCertificate:getCertificate": Lookup(
        ("aws:acm/certificate:Certificate",), (("domain", "domainName"),),
        "no ACM Certificate matching domain ({domain})"),
    "aws:secretsmanager/getSecret:getSecret": Lookup(
        ("aws:secretsmanager/secret:Secret",), (("arn", "arn"), ("name", "name")),
        "ResourceNotFoundException: Secrets Manager can't find the specified secret ({name}{arn})"),
    "aws:secretsmanager/getSecretVersion:getSecretVersion": Lookup(
        ("aws:secretsmanager/secret:Secret",), (("secretId", "arn"), ("secretId", "name")),
        "ResourceNotFoundException: Secrets Manager can't find the specified secret ({secretId})"),
    "aws:kms/getAlias:getAlias": Lookup(
        ("aws:kms/alias:Alias",), (("name", "name"),), "NotFoundException: Alias {name} is not found",
        aws_provided=_starts("name", "alias/aws/")),
    "aws:kms/getKey:getKey": Lookup(
        ("aws:kms/key:Key", "aws:kms/alias:Alias"), (("keyId", "arn"), ("keyId", "keyId"), ("keyId", "name")),
        "NotFoundException: Key '{keyId}' does not exist", aws_provided=_starts("keyId", "alias/aws/")),
    "aws:iam/getRole:getRole": Lookup(
        ("aws:iam/role:Role",), (("name", "name"),), "NoSuchEntity: The role with name {name} cannot be found"),
    "aws:iam/getPolicy:getPolicy": Lookup(
        ("aws:iam/policy:Policy",), (("arn", "arn"), ("name", "name")),
        "NoSuchEntity: Policy {arn}{name} does not exist", aws_provided=_starts("arn", "arn:aws:iam::aws:policy/")),
    "aws:s3/getBucket:getBucket": Lookup(
        ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"), (("bucket", "bucket"),),
        "NotFound: S3 bucket ({bucket}) not found"),
    "aws:ec2/getVpc:getVpc": Lookup(
        ("aws:ec2/vpc:Vpc",), (("id", "id"),), "no matching EC2 VPC found ({id})",
        aws_provided=lambda a: bool(a.get("default")) and not a.get("id")),
    "aws:cloudfront/getCachePolicy:getCachePolicy": Lookup(
        ("aws:cloudfront/cachePolicy:CachePolicy",), (("id", "id"), ("name", "name")),
        "no CloudFront Cache Policy ({name}{id})", aws_provided=_starts("name", "Managed-")),
    "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": Lookup(
        ("aws:cloudfront/originRequestPolicy:OriginRequestPolicy",), (("id", "id"), ("name", "name")),
        "no CloudFront Origin Request Policy ({name}{id})", aws_provided=_starts("name", "Managed-")),
    "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": Lookup(
        ("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",), (("id", "id"), ("name", "name")),
        "no CloudFront Response Headers Policy ({name}{id})", aws_provided=_starts("name", "Managed-")),
}
# Resource types that put an image into a repository during the deployment (getImage can find theirs).
IMAGE_BUILDERS = ("awsx:ecr:Image", "docker:index/image:Image", "docker-build:index:Image")
IDENTIFYING_ARGS = ("name", "id", "arn", "bucket", "functionName", "clusterName", "tableName", "queueName",
                    "topicName", "domainName", "identifier", "dbInstanceIdentifier", "clusterIdentifier",
                    "repositoryName", "keyId", "secretId", "userPoolId", "restApiId", "streamName", "roleName",
                    "policyName", "zoneId", "certificateArn", "alias")


# The provider errors this module raised on purpose: their futures are left unretrieved by the Pulumi runtime when
# the resources that awaited them are abandoned (as in a failed `up`), and asyncio would print each one again
# ("Future exception was never retrieved") after the report. The report already says them once.
_REFUSED: set[str] = set()


class _AlreadyReported(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (_REFUSED and "never retrieved" in text and any(m in text for m in _REFUSED))


logging.getLogger("asyncio").addFilter(_AlreadyReported())


@dataclasses.dataclass
class Created:
    token: str
    region: str
    state: dict      # inputs and computed outputs, as the provider reports them after create


PREREQUISITES_KEY = "plan:prerequisites"


def prerequisites(config: Mapping[str, Any]) -> dict[str, set[str]]:
    """The stack file's `plan:prerequisites` ({token or function name: [values]}); bad shape is a PlanError."""
    from .errors import PlanError
    value = config.get(PREREQUISITES_KEY)
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                              for v in value.values()):
        raise PlanError(f"{PREREQUISITES_KEY}: expected a mapping of invoke (e.g. getImage or "
                        f"aws:ecr/getImage:getImage) to a list of the values it looks up, got {value!r}"[:300])
    return {str(k): set(v) for k, v in value.items()}


class FirstUpMocks(PlatformMocks):
    """PlatformMocks (update mode) whose lookups answer as the provider does in an empty account."""

    def __init__(self, region: str, preview: bool = False, stack_references: Mapping[str, Mapping] | None = None,
                 declared: Mapping[str, set[str]] | None = None):
        super().__init__(region=region, preview=False, stack_references=stack_references)
        self.declared = dict(declared or {})
        self.created: list[Created] = []
        self.errors: list[DeployError] = []
        self._lock = threading.Lock()

    def new_resource(self, args):
        rid, state = super().new_resource(args)
        token = args.typ
        if not token.startswith("pulumi:providers:"):
            provider_id = (args.provider or "").split("::")[-1]
            region = args.inputs.get("region") if isinstance(args.inputs.get("region"), str) else \
                self.provider_regions.get(provider_id, self.region)
            with self._lock:
                self.created.append(Created(token, region, {"id": rid, **state}))
        return rid, state

    def call(self, args):
        token, call_args = args.token, dict(args.args or {})
        if token in PURE:
            return super().call(args)
        given = call_args.get("region")
        region: str = given if isinstance(given, str) else \
            self.provider_regions.get((args.provider or "").split("::")[-1], self.region)
        lookup = LOOKUPS.get(token) or _generic(token)
        if lookup is None:            # a list query, or a function whose semantics nothing here knows
            return super().call(args)
        if self._declared(token, call_args):       # a prerequisite the program's README declares: it exists
            return super().call(args)
        found = lookup.aws_provided(call_args) or self._exists(lookup, call_args, region)
        error = lookup.error if found or not lookup.needs_image else LOOKUPS["aws:ecr/getImages:getImages"].error
        if found and lookup.needs_image:
            found = self._image_built(call_args)
        if found:
            return super().call(args)
        self.invokes.append({"token": token, "args": call_args})
        message = _fill(error, call_args, region)
        _REFUSED.add(message)
        with self._lock:
            self.errors.append(DeployError(
                "lookup", "", token, {k: v for k, v in call_args.items() if isinstance(v, (str, int, bool))},
                f"{' or '.join(t.split(':')[-1] for t in lookup.creates)} created earlier in this deployment "
                f"(in {region})", message, label=f"lookup {token.split(':')[-1]} in {region}"))
        return {}, [("", message)]

    def _exists(self, lookup: Lookup, args: Mapping, region: str) -> bool:
        pairs = [(arg, prop) for arg, prop in lookup.keys if args.get(arg) not in (None, "")]
        if not pairs:
            return True           # nothing identifying given: a filter the provider may satisfy; not judged
        with self._lock:
            created = [c for c in self.created if c.token in lookup.creates and c.region == region]
        for c in created:
            for arg, prop in pairs:
                values = [v for v in c.state.values() if isinstance(v, str)] if prop == "*" else [c.state.get(prop)]
                if any(_same(v, args[arg]) for v in values):
                    return True
        return False

    def _declared(self, token: str, args: Mapping) -> bool:
        values = self.declared.get(token, set()) | self.declared.get(token.split(":")[-1], set())
        return any(isinstance(v, str) and v in values for v in args.values())

    def _image_built(self, args: Mapping) -> bool:
        name = str(args.get("repositoryName") or "")
        with self._lock:
            builders = [c for c in self.created if c.token in IMAGE_BUILDERS]
        return any(name and name in str(c.state) for c in builders)


def _same(have: Any, want: Any) -> bool:
    if not isinstance(have, str) or not isinstance(want, str):
        return False
    return have == want or have.rstrip(".") == want.rstrip(".")


def _fill(template: str, args: Mapping, region: str) -> str:
    values = {k: ("" if v is None else str(v)) for k, v in args.items()}
    values.setdefault("registryId", ACCOUNT_ID)

    class Missing(dict):
        def __missing__(self, key):
            return ""
    return template.format_map(Missing(values)).replace("()", "").strip()


def _generic(token: str) -> Lookup | None:
    """`aws:<module>/get<Type>:get<Type>` -> a lookup of `aws:<module>/<type>:<Type>` when the SDK has that type
    (singular data sources only: list queries find nothing and succeed)."""
    try:
        pkg, path, fn = token.split(":")
    except ValueError:
        return None
    if not fn.startswith("get") or "/" not in path:
        return None
    kind = fn[3:]
    module = path.split("/")[0]
    resource = f"{pkg}:{module}/{kind[:1].lower()}{kind[1:]}:{kind}"
    if resource not in _resource_index(pkg):
        return None
    keys = tuple((arg, "*") for arg in IDENTIFYING_ARGS)   # any of the resource's own values
    return Lookup((resource,), keys, f"{kind} not found ({{name}}{{id}}{{arn}})")
