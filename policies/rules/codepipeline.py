"""CodePipeline: deployability constraints AWS documents between a pipeline's actions and its artifact stores."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import is_unknown
from ._lib import get, items, stack_policy
from ._links import provider_region

PIPELINE = "aws:codepipeline/pipeline:Pipeline"


def _artifact_store_per_region(resources, report, args):
    for pl in (r for r in resources if r.resource_type == PIPELINE):
        if is_unknown(pl.props, "stages") or is_unknown(pl.props, "artifactStores"):
            continue
        home = provider_region(pl)
        regions = set()
        for stage in items(get(pl.props, "stages")):
            for action in items(get(stage, "actions")):
                if not is_unknown(action, "region") and get(action, "region"):
                    regions.add(get(action, "region"))
        stores = items(get(pl.props, "artifactStores"))
        store_regions = {get(s, "region") for s in stores}
        cross = {r for r in regions if r != home} if home else (regions if len(regions) > 1 else set())
        if len(stores) > 1 and None in store_regions:
            report(f"pipeline {pl.name}: with more than one artifact store every store must name its region.", pl.urn)
        if not cross:
            continue
        missing = sorted(cross - store_regions)
        if missing:
            report(f"pipeline {pl.name} has actions in {', '.join(missing)} without an artifact store there: "
                   "CodePipeline needs one artifact store (S3 bucket, and key) per region an action runs in.", pl.urn)


POLICIES = [
    stack_policy(
        "codepipeline-artifact-store-per-region",
        "A pipeline with cross-region actions must have an artifact store in every region an action runs in, each "
        "naming its region (CodePipeline User Guide, \"Add a cross-Region action in CodePipeline\": "
        "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html).",
        _artifact_store_per_region, types=(PIPELINE,), severity=Severity.HIGH,
        remediation="artifact_stores=[{location: <bucket in region R>, region: R, encryption_key: <key in R>} for "
                    "the pipeline's region and every action region].",
        tags=["codepipeline", "deployability"]),
]
