"""What every tier receives besides its own inputs: settings, naming, tags and protection options."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from .config import Settings
from .naming import Namer
from .tagging import Tagger, base_tags


@dataclasses.dataclass(frozen=True)
class Platform:
    settings: Settings
    namer: Namer
    tags: Tagger

    @classmethod
    def from_settings(cls, settings: Settings) -> "Platform":
        p = settings.platform
        return cls(settings=settings, namer=Namer(settings.project, settings.stack),
                   tags=Tagger(base_tags(settings.project, p.environment, p.owner, p.cost_center)))

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def protect(self) -> bool:
        return self.settings.platform.protect

    def stateful(self, parent: pulumi.Resource, retain: bool = True, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a resource whose deletion loses data: Pulumi protect (and retain on delete)
        when the stack protects its data (prod). The service's own deletion protection is set by the tier."""
        protect = self.protect
        return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect and retain, **kwargs)

    def account_id(self) -> pulumi.Output[str]:
        return aws.get_caller_identity_output().account_id


def assume_role_policy(service: str, account_id: Optional[pulumi.Input[str]] = None) -> pulumi.Output[str]:
    """Trust policy for an AWS service principal, scoped to this account (confused-deputy guard)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account_id is None:
        return pulumi.Output.from_input(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return pulumi.Output.from_input(account_id).apply(lambda acct: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{**statement, "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}]}))


def policy_json(*statements: dict) -> pulumi.Output[str]:
    """An IAM policy document from statements that may contain Outputs (ARNs)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})
