"""Issue 26: what is written in the DR region during an outage comes back, and no replication fails silently.

Every replicated S3 bucket is two-way in the standing modes (the DR replica replicates back to its source with its
own DR-side role, replica modification sync on both rules); every replication rule (both directions) and every
DynamoDB replica pair has its failure/latency alarms in the region AWS publishes the metric in, to that region's
alerts topic (plan/dr.py `replication_alarm_gaps`, which `--dr` reports). Both sides: each check goes red when the
thing it checks is removed."""
from __future__ import annotations

import dataclasses
import functools
import json

import pytest
from test_dr_tier import dr_provider, prod_with

from components.dr import DYNAMODB_LATENCY_MS
from conftest import stack_plan
from plan import dr
from plan.deploy_errors import validate_document

REPL = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET = "aws:s3/bucket:Bucket"
MODES = ("pilot-light", "warm-standby")


@functools.cache
def plan_of(mode: str):
    # update mode (every ARN known), the plans the other DR tests share
    return stack_plan("prod", preview=False) if mode == "pilot-light" else prod_with(mode, False, released=True)


def _sse_key(plan, bucket_urn: str):
    [sse] = [r for r in plan.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
             if r.propertyDependencies.get("bucket") == [bucket_urn]]
    return sse.props["rules"][0]["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId")


def _bucket_by_arn(plan, arn: str):
    [b] = [b for b in plan.of_type(BUCKET) if b.props.get("bucket") == arn.split(":::")[-1]]
    return b


def _request(rule: dict, role: str) -> dict:
    """The PutBucketReplication ReplicationConfiguration the provider sends for this rule (keys matched to the
    API model case-insensitively, as the provider's Go structures are)."""
    return {"Role": role, "Rules": [rule]}


@pytest.mark.parametrize("mode", MODES)
def test_every_replicated_bucket_replicates_back_from_its_dr_copy(mode):
    plan = plan_of(mode)
    provider = dr_provider(plan).urn
    by_urn = plan.by_urn()
    configs = plan.of_type(REPL)
    forward = [c for c in configs if c.provider != provider]
    back = {c.propertyDependencies["bucket"][0]: c for c in configs if c.provider == provider}
    assert len(forward) == 4 and len(back) == 4        # the three data buckets and the site bundle
    roles = {c.props["role"] for c in forward}, {c.props["role"] for c in back.values()}
    assert len(roles[0]) == len(roles[1]) == 1 and roles[0] != roles[1]     # one role per direction
    for c in forward:
        source = by_urn[c.propertyDependencies["bucket"][0]]
        [rule] = c.props["rules"]
        replica = _bucket_by_arn(plan, rule["destination"]["bucket"])
        assert replica.provider == provider
        rev = back[replica.urn]                     # the replica's own configuration, in the DR region
        [brule] = rev.props["rules"]
        assert brule["destination"]["bucket"] == f"arn:aws:s3:::{source.props['bucket']}", rev.name
        # re-encrypted under the source's own key (the site: SSE-S3 both ways, no KMS criteria)
        key = _sse_key(plan, source.urn)
        assert (brule["destination"].get("encryptionConfiguration") or {}).get("replicaKmsKeyId") == key, rev.name
        assert ((brule.get("sourceSelectionCriteria") or {}).get("sseKmsEncryptedObjects") is not None) == (key is not None)
        for r in (rule, brule):
            assert r["status"] == "Enabled" and r["sourceSelectionCriteria"]["replicaModifications"] == {"status": "Enabled"}
            assert r["destination"]["metrics"]["status"] == "Enabled"
            assert validate_document(_request(r, rev.props["role"]), "s3", "PutBucketReplication",
                                     "ReplicationConfiguration") == [], r
        # delete markers, RTC and the filter as the forward rule has them
        for part in ("deleteMarkerReplication", "filter"):
            assert brule[part] == rule[part], part
        assert brule["destination"].get("replicationTime") == rule["destination"].get("replicationTime")
        # versioning on both sides and the role's grants before the configuration
        waits = set(rev.options["dependsOn"])
        versionings = {v.propertyDependencies["bucket"][0]: v.urn
                       for v in plan.of_type("aws:s3/bucketVersioning:BucketVersioning")}
        assert {versionings[source.urn], versionings[replica.urn]} <= waits, rev.name
    [policy] = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "s3-replication-back-policy"]
    assert policy.provider == provider
    doc = {s["Sid"]: s for s in json.loads(policy.props["policy"])["Statement"]}
    sources = {f"arn:aws:s3:::{by_urn[c.propertyDependencies['bucket'][0]].props['bucket']}" for c in forward}
    replicas = {c.props["rules"][0]["destination"]["bucket"] for c in forward}
    assert set(doc["WriteReplicas"]["Resource"]) == {f"{a}/*" for a in sources}       # into the primary buckets only
    assert set(doc["ReadSourceConfiguration"]["Resource"]) == replicas
    assert doc["EncryptReplicas"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert doc["DecryptSources"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def test_one_way_only_where_nothing_writes_in_the_dr_region():
    """backup-restore: no DR writer until the region is stood up (a standing mode adds the rules back)."""
    plan = prod_with("backup-restore", False, released=True)
    provider = dr_provider(plan).urn
    configs = plan.of_type(REPL)
    assert len(configs) == 4 and all(c.provider != provider for c in configs)


@pytest.mark.parametrize("mode", MODES)
def test_every_replication_pages_in_the_region_its_metric_lives_in(mode):
    plan = plan_of(mode)
    assert dr.replication_alarm_gaps(plan) == []
    provider = dr_provider(plan).urn
    s3 = [a for a in plan.of_type(dr.ALARM) if a.props.get("namespace") == "AWS/S3"]
    ddb = [a for a in plan.of_type(dr.ALARM) if a.props.get("namespace") == "AWS/DynamoDB"]
    # 8 rules (4 buckets x 2 directions) x (failures + latency); one table x 2 regions
    assert len(s3) == 16 and len(ddb) == 2
    for a in s3 + ddb:
        region = "us-west-2" if a.provider == provider else "us-east-1"
        assert a.props["treatMissingData"] == "notBreaching", a.name   # not emitted while nothing replicates
        assert all(f":sns:{region}:" in t and t.endswith("alerts") for t in a.props["alarmActions"]), a.name
        dims = a.props["dimensions"]
        if a.props["metricName"] == "OperationsFailedReplication":
            assert a.props["threshold"] == 0 and a.props["statistic"] == "Sum"
            assert dims["SourceBucket"].endswith(region), a.name      # published in the source bucket's region
        elif a.props["namespace"] == "AWS/S3":
            assert a.props["metricName"] == "ReplicationLatency" and a.props["threshold"] == 900   # RTC threshold
            assert dims["DestinationBucket"].endswith(region), a.name  # ... in the destination bucket's region
        else:
            assert dims["ReceivingRegion"] != region and a.props["threshold"] == DYNAMODB_LATENCY_MS


def test_a_missing_or_misplaced_replication_alarm_is_named():
    plan = plan_of("pilot-light")

    def without(pred):
        return dataclasses.replace(plan, resources=[r for r in plan.resources if not pred(r)])
    gone = without(lambda r: r.type == dr.ALARM and r.props.get("name", "").endswith("s3-repl-failed-documents-to-primary"))
    [gap] = dr.replication_alarm_gaps(gone)
    assert "documents" in gap and "rule to-primary" in gap and "OperationsFailedReplication" in gap and "us-west-2" in gap
    gone = without(lambda r: r.type == dr.ALARM and r.props.get("metricName") == "ReplicationLatency"
                   and r.props.get("namespace") == "AWS/DynamoDB" and r.provider == dr_provider(plan).urn)
    [gap] = dr.replication_alarm_gaps(gone)
    assert gap.startswith("DynamoDB") and "in us-west-2 (ReceivingRegion us-east-1)" in gap
    assert any("no alarm: DynamoDB" in n for n in dr.objectives(gone).notes)
    # an alarm to another region's topic does not count (alarms notify topics of their own region)
    def moved(r):
        if r.type == dr.ALARM and r.props.get("name", "").endswith("s3-repl-latency-site-dr-region"):
            acts = [a.replace(":us-west-2:", ":us-east-1:") for a in r.props["alarmActions"]]
            return dataclasses.replace(r, inputs={**r.inputs, "alarmActions": acts})
        return r
    [gap] = dr.replication_alarm_gaps(dataclasses.replace(plan, resources=[moved(r) for r in plan.resources]))
    assert "site" in gap and "ReplicationLatency alarm in us-west-2" in gap
