"""Remediations (policies/rules/remediation.py and required-tags): under `remediate` the engine runs
Remediate then Analyze, so the fixed inputs must pass every rule; outside `remediate` nothing changes."""
from __future__ import annotations

import functools

from plan.analyze import analyze, build_servicer, configure
from plan.records import records_plan
from policy_harness import UNKNOWN, check, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "dev", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}
PAB, Q, T = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:sqs/queue:Queue", "aws:sns/topic:Topic")
REMEDIATIONS = ("s3-public-access-block-remediation", "sqs-queue-managed-encryption-remediation",
                "sns-topic-managed-encryption-remediation")
RECORDS = [
    rec("aws:s3/bucket:Bucket", "bucket", {"tags": TAGS}),
    # violating: half-open block; bucket id unknown as in a new stack's preview
    rec(PAB, "pab-open", {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": False},
        prop_deps={"bucket": ["bucket"]}),
    rec(PAB, "pab-closed", {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": True,
                            "ignorePublicAcls": True, "restrictPublicBuckets": True}, prop_deps={"bucket": ["bucket"]}),
    rec(Q, "queue-plain", {"tags": TAGS, "policy": UNKNOWN}),
    rec(Q, "queue-cmk", {"tags": TAGS, "kmsMasterKeyId": UNKNOWN}),
    rec(T, "topic-plain", {"tags": TAGS, "name": "alerts"}),
    rec(T, "topic-cmk", {"tags": TAGS, "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/k"}),
    rec(Q, "queue-untagged", {"sqsManagedSseEnabled": True, "tags": {"Project": "p"}}),
]


@functools.lru_cache(maxsize=None)
def _remediated():
    servicer = build_servicer()
    configure(servicer, {"all": "mandatory", "required-tags": "remediate", **{p: "remediate" for p in REMEDIATIONS},
                         # SQS-managed SSE is what the remediation sets; prod.json may demand a customer key
                         "sqs-encrypted": {"allowSqsManagedSse": True}})
    plan = records_plan(RECORDS)
    return plan, analyze(plan, servicer=servicer)


def _inputs(name):
    plan, _ = _remediated()
    return next(r.inputs for r in plan.resources if r.name == name)


def _fixed(policy):
    _, a = _remediated()
    return {x["urn"].split("::")[-1] for x in a.remediations if x["policy"] == policy}


def test_violating_resources_are_remediated_and_passing_ones_untouched():
    assert _fixed("s3-public-access-block-remediation") == {"pab-open"}
    assert _fixed("sqs-queue-managed-encryption-remediation") == {"queue-plain"}
    assert _fixed("sns-topic-managed-encryption-remediation") == {"topic-plain"}
    assert _fixed("required-tags") == {"queue-untagged"}


def test_remediated_inputs_keep_unknowns_and_set_the_fix():
    pab = _inputs("pab-open")
    assert pab["bucket"] == UNKNOWN and all(pab[f] is True for f in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert _inputs("queue-plain") == {"tags": TAGS, "policy": UNKNOWN, "sqsManagedSseEnabled": True}
    assert _inputs("topic-plain")["kmsMasterKeyId"] == "alias/aws/sns"
    assert _inputs("queue-cmk") == {"tags": TAGS, "kmsMasterKeyId": UNKNOWN}
    assert _inputs("queue-untagged")["tags"]["Owner"] == "unassigned"


# The service rules validating what each remediation fixes (owned by tags.py, s3.py, messaging.py).
VALIDATORS = ("required-tags", "s3-public-access-block", "sqs-encrypted", "sns-encrypted")


def test_remediated_resources_pass_the_rules_that_validate_them():
    _, a = _remediated()
    assert set(VALIDATORS) <= set(a.policies)
    fixed = {x["urn"] for x in a.remediations}
    left = [v for v in a.violations if v.urn in fixed and v.policy in VALIDATORS]
    assert left == [], left
    # and the same records without remediation fail them: the remediation is what makes them pass
    r = check(RECORDS, config={"sqs-encrypted": {"allowSqsManagedSse": True}})
    failing = {v.urn.split("::")[-1] for v in r.violations if v.policy in VALIDATORS}
    assert {"queue-plain", "topic-plain", "queue-untagged"} <= failing


def test_without_remediate_level_nothing_is_rewritten():
    r = check(RECORDS, level="advisory")
    assert r.remediations == []
    for p in REMEDIATIONS:
        assert violations(r, p) == [] and skipped(r, p) == []


def test_topic_key_is_configurable():
    servicer = build_servicer()
    configure(servicer, {"all": "advisory", "sns-topic-managed-encryption-remediation":
                         {"enforcementLevel": "remediate", "kmsMasterKeyId": "alias/org-sns"}})
    plan = records_plan([rec(T, "t", {"tags": TAGS})])
    analyze(plan, servicer=servicer)
    assert plan.resources[-1].inputs["kmsMasterKeyId"] == "alias/org-sns"
