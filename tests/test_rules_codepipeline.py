"""Tests for policies/rules/codepipeline.py: an artifact store per action region (issue 24, deployability)."""
from __future__ import annotations

from policy_harness import check, rec, violations

PIPELINE = "aws:codepipeline/pipeline:Pipeline"


def pipeline(stores, action_region=None):
    deploy = {"name": "Deploy", "category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1",
              "inputArtifacts": ["image"], "configuration": {"ClusterName": "c", "ServiceName": "s"}}
    if action_region:
        deploy["region"] = action_region
    return {"roleArn": "arn:aws:iam::1:role/p", "artifactStores": stores,
            "stages": [{"name": "Source", "actions": [{"name": "Source", "category": "Source", "owner": "AWS",
                                                       "provider": "S3", "version": "1", "outputArtifacts": ["image"],
                                                       "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"}}]},
                       {"name": "Deploy", "actions": [deploy]}]}


def test_cross_region_actions_need_an_artifact_store_in_their_region():
    home = {"location": "artifacts-east", "type": "S3", "region": "us-east-1"}
    west = {"location": "artifacts-west", "type": "S3", "region": "us-west-2"}
    prov = {"type": "pulumi:providers:aws", "props": {"region": "us-east-1"}}
    r = check([rec(PIPELINE, "missing", pipeline([home], "us-west-2"), provider=prov),
               rec(PIPELINE, "covered", pipeline([home, west], "us-west-2"), provider=prov),
               rec(PIPELINE, "local", pipeline([{"location": "a", "type": "S3"}]), provider=prov),
               rec(PIPELINE, "unnamed", pipeline([home, {"location": "b", "type": "S3"}]), provider=prov)])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "codepipeline-artifact-store-per-region")}
    assert set(found) == {"missing", "unnamed"} and "us-west-2" in found["missing"]
    assert "every store must name its region" in found["unnamed"]
