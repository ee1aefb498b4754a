"""What every tier shares, and nothing more: naming, tags, protection, the region and its provider, the
account id (resolved once) and the few platform-wide defaults every building block reads.

A tier never receives the whole `Settings`: its Args carry its own settings section plus the ids, ARNs and
names other tiers publish (see components/platform.py). `Platform` is built once per region: the primary
stack region by default, or another region's provider (the DR region builds the same tiers with it).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar, overload

import pulumi
import pulumi_aws as aws

from .config.platform import PlatformSettings
from .naming import Namer
from .tagging import Tagger, base_tags


@dataclasses.dataclass(frozen=True)
class Platform:
    project: str
    stack: str
    region: str
    settings: PlatformSettings       # the shared `ai-platform:platform` section (environment, owner, retention)
    namer: Namer
    tags: Tagger
    account_id: pulumi.Output[str]   # one get_caller_identity per Platform, through its provider
    key_deletion_window_days: int = 30
    secret_recovery_window_days: int = 30
    # This stack owns the account/region singletons (trail, Config, GuardDuty, SageMaker's training log
    # group, ECR replication, Backup region settings): exactly one stack per account sets it.
    account_baseline: bool = False
    provider: pulumi.ProviderResource | None = None
    # "" for the primary build; another instance of the same tiers in the same program (the DR region: "dr")
    # gets its own component-type namespace and nested-component names (see tier_type, component_name).
    instance: str = ""

    @classmethod
    def create(cls, *, project: str, stack: str, region: str, settings: PlatformSettings,
               provider: pulumi.ProviderResource | None = None, **defaults: Any) -> Platform:
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider)).account_id
        return cls(project=project, stack=stack, region=region, settings=settings, namer=Namer(project, stack),
                   tags=Tagger(base_tags(project, settings.environment, settings.owner, settings.cost_center)),
                   account_id=account, provider=provider, **defaults)

    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def protect(self) -> bool:
        return self.settings.protect

    def tier_type(self, tier: str) -> str:
        """A tier's component type. A child's URN is (parent's type, its type, its name): a second instance of the
        same tier in one program needs another parent type, or every child's URN would collide with the primary's."""
        return f"ai-platform:{self.instance or 'tier'}:{tier}"

    def component_name(self, name: str) -> str:
        """The logical name of a component nested in a tier (e.g. awsx's Vpc), whose children are named after it."""
        return f"{self.instance}-{name}" if self.instance else name

    def tier_options(self, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """Options of a tier component: its children inherit this platform's provider through parent=self."""
        mine = pulumi.ResourceOptions(providers=[self.provider] if self.provider is not None else None)
        return pulumi.ResourceOptions.merge(mine, opts)

    def invoke_options(self) -> pulumi.InvokeOptions:
        """Invokes (data sources) go through the same provider as the tier's resources."""
        return pulumi.InvokeOptions(provider=self.provider)

    def stateful(self, parent: pulumi.Resource, retain: bool = True, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a resource whose deletion loses data: Pulumi protect (and retain on delete)
        when the stack protects its data (prod). The service's own deletion protection is set by the tier."""
        protect = self.protect
        return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect and retain, **kwargs)

    def arn(self, service: str, resource: str, *, region: str | None = None) -> pulumi.Output[str]:
        """`arn:aws:<service>:<region>:<account>:<resource>` from known values: complete in a preview."""
        reg = self.region if region is None else region
        return self.account_id.apply(lambda a: f"arn:aws:{service}:{reg}:{a}:{resource}")


def assume_role_policy(service: str, account_id: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """Trust policy for an AWS service principal, scoped to this account (confused-deputy guard)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account_id is None:
        return pulumi.Output.from_input(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return pulumi.Output.from_input(account_id).apply(lambda acct: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{**statement, "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}]}))


def policy_json(*statements: pulumi.Input[dict]) -> pulumi.Output[str]:
    """An IAM policy document from statements that may contain Outputs (ARNs)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def publish(component: pulumi.ComponentResource, outputs: Any) -> None:
    """Register a tier's one frozen outputs dataclass (camelCase keys, as `pulumi stack` shows them)."""
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p[:1].upper() + p[1:] for p in rest)
    component.register_outputs({camel(f.name): getattr(outputs, f.name) for f in dataclasses.fields(outputs)})


def after(*values: pulumi.Input[Any]) -> list[Any]:
    """`depends_on` entries from published outputs: the resources behind each value are waited for, without
    the resource objects crossing a tier boundary (a dependency on an id is a dependency on its resource).
    Typed Any: `depends_on` is declared as resources, and the SDK also waits on an Output's resources."""
    return [pulumi.Output.from_input(v).apply(lambda _: None) for v in values]


T = TypeVar("T")


@overload
def required(value: pulumi.Output[T] | None, what: str) -> pulumi.Output[T]: ...  # type: ignore[overload-overlap]
@overload
def required(value: pulumi.Input[str] | None, what: str) -> pulumi.Input[str]: ...
@overload
def required(value: T | None, what: str) -> T: ...
def required(value, what):
    """A published output that a tier has only in some configurations, needed where that configuration holds (the
    DR key where the DR region is built): narrows the type, and names the missing output instead of an
    AttributeError deep in a tier."""
    if value is None:
        raise ValueError(f"{what} is required here, but its tier did not publish it")
    return value
