"""Whole stacks through the offline engine: what holds for every resource of every tier."""
from __future__ import annotations

import re

import pytest

from components.naming import AUTONAME_SUFFIX, NAME_PROPERTIES, RULES
from conftest import ROOT, cli, stack_analysis, stack_plan
from plan.engine import UNKNOWN
from policies.rules.tags import taggable

REQUIRED = {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"}



@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_prod_has_no_mandatory_violation(preview):
    analysis = stack_analysis("prod", preview)
    assert [f"{v.policy}: {v.urn}: {v.message.splitlines()[-1]}" for v in analysis.mandatory] == []


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_dev_plans_cleanly(preview):
    analysis = stack_analysis("dev", preview)
    assert analysis.mandatory == []  # dev policy config is advisory


STACK_FILES = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize("stack", STACK_FILES)
def test_every_stack_file_plans_through_the_cli_without_a_mandatory_violation(stack, mode):
    """What CI checks of every stack file: `python -m plan --stack S [--mode update]` exits 0 (1 would be a
    mandatory violation, 2 bad config, 3 a policy that raised)."""
    result = cli("--stack", stack, *(["--mode", "update"] if mode == "update" else []))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-2000:])
    assert "mandatory" in result.stdout


def test_every_taggable_resource_carries_the_five_tags_in_its_own_inputs(stack_name):
    plan = stack_plan(stack_name, True)
    missing = []
    for r in plan.resources:
        if r.type.startswith("aws:") and taggable(r.type):
            tags = r.props.get("tags")
            if tags == UNKNOWN or not REQUIRED <= set(tags or {}):
                missing.append(f"{r.type}::{r.name}")
        if r.type == "awsx:ec2:Vpc":
            assert REQUIRED <= set(r.props["tags"])
    assert missing == []
    assert sum(1 for r in plan.resources if r.props.get("tags")) > 20


def test_every_name_fits_what_aws_accepts(stack_name):
    plan = stack_plan(stack_name, False)
    bad = []
    for r in plan.resources:
        if r.type not in NAME_PROPERTIES:
            continue
        prop, kind = NAME_PROPERTIES[r.type]
        rule = RULES[kind]
        explicit = r.props.get(prop) or r.props.get(prop + "Prefix")
        name, limit = (explicit, rule.max_len) if explicit else (r.name, rule.max_len - AUTONAME_SUFFIX)
        if kind == "kms_alias" or not isinstance(name, str):
            continue
        charset = rule.allowed
        if len(name) > limit or not re.fullmatch(f"[{charset}]+", name) or (rule.lowercase and name != name.lower()):
            bad.append(f"{r.type} {r.name}: {name!r} (limit {limit}, charset [{rule.allowed}])")
    assert bad == []


def test_prod_is_larger_and_protected_where_dev_is_not():
    dev, prod = stack_plan("dev", False), stack_plan("prod", False)
    def protected(p):
        return sum(1 for r in p.resources if r.options["protect"])
    assert protected(dev) == 0 and protected(prod) >= 3
    assert len(prod.resources) > len(dev.resources)


def test_no_policy_is_silently_skipped_in_prod_update_mode():
    """With outputs known (as after `up`), every policy must be able to decide."""
    assert stack_analysis("prod", False).skipped == []


# Stateful types and the service's own protection setting each must carry in prod.
SERVICE_PROTECTION = {
    "aws:rds/instance:Instance": lambda p: p.get("deletionProtection") is True and (
        p.get("replicateSourceDb") or (p.get("skipFinalSnapshot") is False and p.get("finalSnapshotIdentifier"))),
    "aws:docdb/cluster:Cluster": lambda p: p.get("deletionProtection") is True and p.get("skipFinalSnapshot") is False,
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda p: bool(p.get("finalSnapshotIdentifier")),
    "aws:dynamodb/table:Table": lambda p: p.get("deletionProtectionEnabled") is True,
    "aws:dynamodb/tableReplica:TableReplica": lambda p: p.get("deletionProtectionEnabled") is True,
    "aws:s3/bucket:Bucket": lambda p: p.get("forceDestroy") in (None, False),
    "aws:kms/key:Key": lambda p: p.get("deletionWindowInDays") == 30,
    "aws:ecr/repository:Repository": lambda p: p.get("forceDelete") in (None, False),
    "aws:backup/vault:Vault": lambda p: p.get("forceDestroy") in (None, False),
    "aws:kinesis/stream:Stream": lambda p: True,
    "aws:cognito/userPool:UserPool": lambda p: p.get("deletionProtection") == "ACTIVE",
}
# Deliberately unprotected: the SPA bucket's content is rebuilt by the site's pipeline on every release.
REBUILDABLE = {("aws:s3/bucket:Bucket", "spa")}


def test_every_stateful_resource_in_prod_is_protected_twice():
    """Nothing is lost: the service's own protection AND Pulumi's protect + retainOnDelete."""
    plan = stack_plan("prod", False)
    checked, unprotected = 0, []
    for r in plan.resources:
        rule = SERVICE_PROTECTION.get(r.type)
        if rule is None or (r.type, (r.props.get("tags") or {}).get("Purpose")) in REBUILDABLE:
            continue
        checked += 1
        if not (r.options["protect"] and r.options["retainOnDelete"] and rule(r.props)):
            unprotected.append(f"{r.type} {r.name}")
    assert unprotected == []
    assert checked >= 30  # the data, ML, DR and governance tiers' stores are all in the plan


def test_dev_stays_destroyable():
    plan = stack_plan("dev", False)
    assert [r.name for r in plan.resources if r.type in SERVICE_PROTECTION and r.options["protect"]] == []


def test_every_dead_letter_queue_has_a_depth_alarm_on_the_warnings_topic(stack_name):
    """Per region (prod's DR region has its own events tier): every DLQ is alarmed on that region's warnings topic
    (a DLQ message is a warning: it informs, docs/paging.md)."""
    plan = stack_plan(stack_name, False)
    topics = {t.provider: t.outputs["arn"] for t in plan.of_type("aws:sns/topic:Topic") if t.name == "topic-warnings"}
    assert len(topics) == (2 if stack_name == "prod" else 1)
    for provider, topic in topics.items():
        watched = {r.props["dimensions"]["QueueName"] for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                   if r.provider == provider and r.props.get("namespace") == "AWS/SQS"
                   and r.props.get("metricName") == "ApproximateNumberOfMessagesVisible"
                   and r.props.get("alarmActions") == [topic]}
        dlqs = {r.props["name"] for r in plan.of_type("aws:sqs/queue:Queue")
                if r.provider == provider and r.props["name"].endswith("-dlq")}
        assert len(dlqs) >= 3 and dlqs <= watched, sorted(dlqs - watched)


def _other_region_program():
    import pulumi_aws as aws

    from components.config import load_settings
    from components.data import DataTier, DataTierArgs
    from components.events import EventsTier, EventsTierArgs
    from components.network import NetworkTier, NetworkTierArgs
    from components.platform import platform_for
    from components.security import SecurityTier, SecurityTierArgs

    settings = load_settings()
    provider = aws.Provider("other-region", region="us-west-2")
    p = platform_for(settings, provider, region="us-west-2")
    sec = SecurityTier("security", SecurityTierArgs(platform=p, settings=settings.security)).outputs
    net = NetworkTier("network", NetworkTierArgs(platform=p, settings=settings.network,
                                                 logs_key_arn=sec.logs_key_arn)).outputs
    DataTier("data", DataTierArgs(platform=p, settings=settings.data, vpc_id=net.vpc_id,
                                  isolated_subnet_ids=net.isolated_subnet_ids, data_sg_id=net.data_security_group_id,
                                  data_key_arn=sec.data_key_arn, logs_key_arn=sec.logs_key_arn))
    EventsTier("events", EventsTierArgs(platform=p, settings=settings.events, data_key_arn=sec.data_key_arn))


def test_tiers_build_in_another_region_through_its_provider():
    """What the DR region relies on: given another region's provider, every resource of the tiers (children
    inherit it through parent=self) is created through it, and region-derived names follow the region."""
    from conftest import program_with
    config = {"aws:region": "us-east-1", "ai-platform:platform": {"environment": "dev"}}
    plan = program_with(config, stack="dev", preview=False, program=_other_region_program)
    [provider] = [r for r in plan.resources if r.name == "other-region"]
    assert provider.props["region"] == "us-west-2"
    tiers = [r for r in plan.resources if r.custom and r.type.startswith("aws:") and ":tier:" in r.parent]
    assert len(tiers) > 50
    assert [r.name for r in tiers if r.provider != provider.urn] == []
    buckets = [r.props["bucket"] for r in tiers if r.type == "aws:s3/bucket:Bucket"]
    assert buckets and all(b.endswith("-us-west-2") for b in buckets)
