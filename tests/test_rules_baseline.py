"""Tests for policies/rules/baseline.py: the account baseline in every region a stack runs in (issue 32)."""
from __future__ import annotations

from policy_harness import check, rec, violations

RULE = "account-baseline-every-region"
WEST = {"type": "pulumi:providers:aws", "props": {"region": "us-west-2"}}


def _baseline(suffix="", provider=None, region=None):
    extra = {"region": region} if region else {}
    return [rec("aws:cfg/recorder:Recorder", f"recorder{suffix}", {"roleArn": "r", **extra}, provider=provider),
            rec("aws:guardduty/detector:Detector", f"detector{suffix}", {"enable": True, **extra}, provider=provider),
            rec("aws:ebs/encryptionByDefault:EncryptionByDefault", f"ebs{suffix}", {"enabled": True, **extra},
                provider=provider)]


def _names(result):
    return sorted(v.urn.split("::")[-1] for v in violations(result, RULE))


def test_baseline_only_in_the_primary_while_the_stack_runs_in_two_regions():
    # issue 32: prod's DR region held a VPC, RDS, Redis and buckets, the recorder and GuardDuty only us-east-1
    r = check([*_baseline(), rec("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}),
               rec("aws:rds/instance:Instance", "dr-db", {"instanceClass": "db.t4g.small"}, provider=WEST)])
    assert _names(r) == ["dr-db"]
    assert "us-west-2" in violations(r, RULE)[0].message and "GuardDuty" in violations(r, RULE)[0].message


def test_baseline_in_every_region_passes_by_provider_or_own_region_input():
    by_provider = [*_baseline(), *_baseline("-dr", provider=WEST),
                   rec("aws:rds/instance:Instance", "dr-db", {"instanceClass": "db.t4g.small"}, provider=WEST)]
    by_input = [*_baseline(), *_baseline("-dr", region="us-west-2"),
                rec("aws:sqs/queue:Queue", "dr-queue", {"region": "us-west-2"})]
    assert _names(check(by_provider)) == [] and _names(check(by_input)) == []


def test_a_stack_without_the_baseline_is_not_judged_and_a_partial_one_is():
    # dev shares prod's account: it builds no singleton at all
    assert _names(check([rec("aws:rds/instance:Instance", "dr-db", {}, provider=WEST)])) == []
    partial = [*_baseline()[:2], rec("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})]
    assert _names(check(partial)) == ["vpc"]   # EBS encryption by default missing in us-east-1
