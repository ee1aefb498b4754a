"""issue 25: the journeys (plan/journeys): AI traffic walked hop by hop through the recorded plan, each hop decided
against its documented limit. Every promised journey passes in both stacks; each break turns a named journey red at
the hop that breaks; unknown values make a journey undecidable, never passed."""
from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from conftest import cli, stack_plan
from plan.journeys import waf
from plan.journeys.catalogue import HOPS, build_journeys

INTEGRATION = "aws:apigateway/integration:Integration"
LB = "aws:lb/loadBalancer:LoadBalancer"
CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"


def without_statement(sid: str):
    def mutate(props):
        doc = json.loads(props["policy"])
        doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") != sid]
        props["policy"] = json.dumps(doc)
    return mutate


def by_name(plan) -> dict:
    return {j.name: j for j in build_journeys(plan)}


def changed(plan, name: str, token: str, mutate):
    """The plan with one resource's inputs changed (a copy: the cached plan is shared)."""
    out = []
    for r in plan.resources:
        if r.name == name and r.type == token:
            r = dataclasses.replace(r, inputs=copy.deepcopy(r.inputs), outputs=copy.deepcopy(r.outputs))
            before = set(r.inputs)
            mutate(r.inputs)
            for k in list(r.outputs):
                if k in r.inputs:
                    r.outputs[k] = r.inputs[k]
                elif k in before:
                    del r.outputs[k]
        out.append(r)
    return dataclasses.replace(plan, resources=out)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_promised_journey_passes(stack):
    journeys = by_name(stack_plan(stack, False))
    assert {"streamed-answer-conversational", "streamed-answer-code", "image-roundtrip-5mb",
            "prompt-with-script-and-dotdot", "burst-100-one-user", "script-body-to-search-blocked",
            "document-200mb-through-api-refused", "pdf-upload-200mb"} <= set(journeys)
    failing = {n: j.to_json()["reason"] for n, j in journeys.items() if j.promised and j.verdict != "pass"}
    assert not failing
    stream = journeys["streamed-answer-conversational"]
    assert [h.hop for h in stream.hops] == list(HOPS) and all(h.source.startswith(("Content", "Baseline", "Stream",
                                                                                   "Set up", "Edit", "TargetGroup",
                                                                                   "Quotas", "Amazon"))
                                                             for h in stream.hops)
    # both sides: a blocked journey is refused where it should be, and the refusal reaches the SPA as its status
    blocked = journeys["script-body-to-search-blocked"]
    assert blocked.outcome is False and blocked.broken_at.hop == "WAF" and "403" in blocked.broken_at.verdict.reason
    assert journeys["document-200mb-through-api-refused"].broken_at.hop == "API Gateway"


def test_preview_journeys_are_undecidable_never_passed():
    journeys = build_journeys(stack_plan("dev", True))
    assert journeys and all(j.verdict == "undecidable" for j in journeys)


@pytest.mark.parametrize("breaks, journey, hop, words", [
    # drop STREAM: the answer is buffered (and the 29 s default would end it anyway)
    (("api-conversational-proxy-integration", INTEGRATION, lambda p: p.update(responseTransferMode="BUFFERED")),
     "streamed-answer-conversational", "API Gateway", "buffered"),
    (("api-code-proxy-integration", INTEGRATION, lambda p: p.update(timeoutMilliseconds=29000)),
     "streamed-answer-code", "API Gateway", "outlives"),
    # an idle timeout below the route's timeout
    (("alb", LB, lambda p: p.update(idleTimeout=60)), "streamed-answer-conversational", "load balancer", "60 s"),
    # a body rule back in block on the API
    (("waf-api", "aws:wafv2/webAcl:WebAcl", lambda p: [
        r["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"].pop(1) for r in p["rules"]
        if r["name"] == "AWSManagedRulesCommonRuleSet"]),
     "prompt-with-script-and-dotdot", "WAF", "CrossSiteScripting_BODY"),
    # no binary media types: the image is corrupted
    (("api", "aws:apigateway/restApi:RestApi", lambda p: p.pop("binaryMediaTypes")),
     "image-roundtrip-5mb", "API Gateway", "UTF-8"),
    # a release cuts streams in flight
    (("code-tg", "aws:lb/targetGroup:TargetGroup", lambda p: p.update(deregistrationDelay=30)),
     "streamed-answer-code", "target group", "cuts"),
    # the per-user rate limit below the burst
    (("waf-api", "aws:wafv2/webAcl:WebAcl", lambda p: [
        r["statement"]["rateBasedStatement"].update(limit=50) for r in p["rules"] if r["name"] == "rate-limit-per-user"]),
     "burst-100-one-user", "WAF", "rate-limit-per-user"),
    # the documents bucket without its CORS rule: the browser refuses the direct upload
    (("documents-upload-cors", CORS, lambda p: p.update(corsRules=[])), "pdf-upload-200mb", "S3", "no CORS rule"),
    (("documents-upload-cors", CORS, lambda p: p["corsRules"][0].update(exposeHeaders=[])),
     "pdf-upload-200mb", "S3", "ETag"),
    # the owning service without its upload grant: the presigned parts are denied
    (("document-extraction-task-policy", "aws:iam/rolePolicy:RolePolicy", without_statement("IssueUploads")),
     "pdf-upload-200mb", "IAM", "s3:PutObject"),
    # the CSP without the bucket's host: the browser does not even send the PUT
    (("security-headers", "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", lambda p: p[
        "securityHeadersConfig"]["contentSecurityPolicy"].update(contentSecurityPolicy=p["securityHeadersConfig"][
            "contentSecurityPolicy"]["contentSecurityPolicy"].replace(" https://ai-platform-prod-documents", " x"))),
     "pdf-upload-200mb", "CloudFront", "does not admit"),
    # scaling on CPU only: the burst is not absorbed
    (("code-requests-scaling", "aws:appautoscaling/policy:Policy", lambda p: p[
        "targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"].update(
            predefinedMetricType="ECSServiceAverageCPUUtilization", resourceLabel=None)),
     "burst-100-one-user", "container", "no scaling on requests"),
    # the WAF's 403 without CORS headers: the SPA would see a CORS error, not the block
    (("api-default-4xx-cors", "aws:apigateway/response:Response", lambda p: p.update(responseParameters={})),
     "script-body-to-search-blocked", "WAF", "CORS error"),
])
def test_each_break_turns_a_named_journey_red_at_its_hop(breaks, journey, hop, words):
    plan = stack_plan("prod", False)
    before = by_name(plan)[journey]
    assert before.verdict == "pass"
    after = by_name(changed(plan, *breaks))[journey]
    assert after.verdict == "fail" and after.broken_at.hop == hop and words in after.broken_at.verdict.reason


def test_waf_evaluation_both_sides():
    acl = {"defaultAction": {"allow": {}}, "rules": [
        {"name": "AWSManagedRulesCommonRuleSet", "priority": 1, "overrideAction": {"none": {}},
         "statement": {"managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet", "vendorName": "AWS",
                                                     "ruleActionOverrides": [
                                                         {"name": "GenericLFI_BODY", "actionToUse": {"count": {}}}]}}},
        {"name": "lfi-outside-code", "priority": 2, "action": {"block": {}}, "statement": {"andStatement": {"statements": [
            {"labelMatchStatement": {"scope": "LABEL", "key": "awswaf:managed:aws:core-rule-set:GenericLFI_Body"}},
            {"notStatement": {"statement": {"regexMatchStatement": {
                "regexString": "^(/v1)?/(code)(/.*)?$", "fieldToMatch": {"uriPath": {}},
                "textTransformations": [{"priority": 0, "type": "URL_DECODE"}, {"priority": 1, "type": "NORMALIZE_PATH"}]}}}}]}}},
        {"name": "mystery", "priority": 3, "action": {"block": {}}, "statement": {"geoMatchStatement": {}}}]}
    lfi = frozenset({"GenericLFI_BODY"})
    # counted on /code, blocked elsewhere, and a path that only looks like /code is normalised first
    assert waf.evaluate(acl, waf.Request("/v1/search/q", trips=lfi)).allowed is False
    assert waf.evaluate(acl, waf.Request("/v1/code/%2e%2e/search/q", trips=lfi)).allowed is False
    assert waf.evaluate(acl, waf.Request("/v1/code/x", trips=frozenset({"CrossSiteScripting_BODY"}))).allowed is False
    # a rule the evaluator does not model: undecidable, never allowed
    assert waf.evaluate(acl, waf.Request("/v1/code/x", trips=lfi)).allowed is None
    acl["rules"].pop()
    assert waf.evaluate(acl, waf.Request("/v1/code/x", trips=lfi)).allowed is True


def test_cli_journeys_json_shape_and_exit_codes():
    run = cli("--stack", "prod", "--journeys", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert set(doc) == {"stack", "mode", "journeys", "summary"} and doc["mode"] == "update"
    j = doc["journeys"][0]
    assert set(j) == {"name", "description", "expect", "promised", "verdict", "outcome", "brokenAt", "reason", "hops"}
    assert set(j["hops"][0]) == {"hop", "verdict", "reason", "limit", "source"}
    assert doc["summary"]["promisedBroken"] == 0
    text = cli("--stack", "dev", "--journeys")
    assert text.returncode == 0 and "streamed-answer-conversational" in text.stdout
    preview = cli("--stack", "dev", "--journeys", "--mode", "preview")
    assert preview.returncode == 1 and "UNDECIDABLE" in preview.stdout
    bad = cli("--stack", "nope", "--journeys")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sid", ["InvokeOwnModelsThroughProfile0", "InvokeOwnModelsProfiles"])
def test_a_profile_id_left_ungranted_turns_its_flow_red(sid):
    from plan.flows.catalogue import build_flows
    plan = stack_plan("dev", False)
    name = "code -> model us.anthropic.claude-3-5-haiku-20241022-v1:0 (inference profile)"

    def flow(p):
        [f] = [f for f in build_flows(p) if f"{f.source} -> {f.target}" == name]
        return f
    assert flow(plan).ok and flow(plan).verdict.allowed is True
    broken = flow(changed(plan, "code-task-policy", "aws:iam/rolePolicy:RolePolicy", without_statement(sid)))
    assert not broken.ok and broken.verdict.allowed is False and "bedrock:InvokeModel" in broken.verdict.reason
