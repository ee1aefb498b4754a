"""Tests for policies/rules/tags.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import pytest

from plan.analyze import analyze, build_servicer, configure
from plan.records import records_plan
from policy_harness import UNKNOWN, check, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "dev", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

FN = "aws:lambda/function:Function"


# --- required-tags ---------------------------------------------------------------------------
def test_required_tags_violation_names_missing_keys():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {"Project": "p"}})])
    [v] = violations(r, "required-tags")
    assert "Environment, ManagedBy, Owner, CostCenter" in v.message and v.level == "mandatory"


def test_required_tags_pass_and_ignore_untaggable_types():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": TAGS}),
               rec("aws:iam/rolePolicy:RolePolicy", "rp", {"policy": "{}"}),
               rec("awsx:ec2:Vpc", "vpc", {})])
    assert violations(r, "required-tags") == []


def test_required_tags_accept_provider_default_tags_in_tags_all():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tagsAll": TAGS})])
    assert violations(r, "required-tags") == []


def test_required_tags_preview_with_unknown_other_props_still_decides():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": TAGS, "kmsMasterKeyId": UNKNOWN}),
               rec("aws:sqs/queue:Queue", "bad", {"tags": {"Project": "p"}, "kmsMasterKeyId": UNKNOWN})])
    assert [v.urn.split("::")[-1] for v in violations(r, "required-tags")] == ["bad"]


def test_required_tags_unknown_tags_object_is_reported_as_undecidable():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": UNKNOWN})])
    assert violations(r, "required-tags") == [] and skipped(r, "required-tags")


def test_required_tags_are_configurable():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {"Team": "x"}})],
              config={"required-tags": {"requiredTags": ["Team"]}})
    assert violations(r, "required-tags") == []


@pytest.mark.parametrize("level", ["remediate", "mandatory", "advisory"])
def test_unknown_tag_map_never_aborts_a_preview_at_any_level(level):
    """Before: required-tags remediated and raised ValueError on a tag map unknown in preview (the real
    engine then fails the preview). Now the rule says it could not decide, at every level."""
    records = [rec("aws:sqs/queue:Queue", "q", {"tags": UNKNOWN}), rec("aws:s3/bucketV2:BucketV2", "b",
                                                                       {"tags": UNKNOWN})]
    servicer = build_servicer()
    configure(servicer, {"all": level})
    result = analyze(records_plan(records), servicer=servicer)
    assert {f.urn.split("::")[-1] for f in result.skipped if f.policy == "required-tags"} == {"q", "b"}
    assert result.remediations == []


def test_missing_tags_are_reported_not_invented_even_under_remediate():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {"Project": "p"}})], level="remediate")
    assert r.remediations == []
    [v] = [f for f in r.violations if f.policy == "required-tags"]
    assert "Owner" in v.message


def test_a_tag_whose_value_alone_is_unknown_counts_as_present():
    r = check([rec("aws:sqs/queue:Queue", "q", {"tags": {**TAGS, "Owner": UNKNOWN}})])
    assert violations(r, "required-tags") == [] and skipped(r, "required-tags") == []


def test_lambda_types_are_tag_checked():
    """Before: aws:lambda/* was never checked (the Python module is pulumi_aws.lambda_)."""
    r = check([rec(FN, "fn-untagged", {"runtime": "python3.12"}), rec(FN, "fn-tagged", {"runtime": "python3.12",
                                                                                        "tags": TAGS})])
    assert {v.urn.split("::")[-1] for v in violations(r, "required-tags")} == {"fn-untagged"}
