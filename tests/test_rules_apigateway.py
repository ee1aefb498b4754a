"""Tests for policies/rules/apigateway.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import json

from policy_harness import UNKNOWN, case_table, check, rec, skipped, violations

STAGE, MS, API = "aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/restApi:RestApi"

STAGE, MS, API = "aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/restApi:RestApi"

STAGE, MS, API = "aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/restApi:RestApi"

CASES = [
    ("apigateway-stage-cached", "stage-nocache", STAGE, {"stageName": "v1", "deployment": "d"}, "violation"),
    ("apigateway-stage-cached", "stage-cache", STAGE, {"stageName": "v1", "cacheClusterEnabled": True}, "pass"),
    ("apigateway-stage-cached", "stage-cache-preview", STAGE, {"stageName": "v1", "deployment": UNKNOWN,
                                                               "restApi": UNKNOWN, "cacheClusterEnabled": True}, "pass"),
    ("apigateway-method-cached-and-encrypted", "ms-nocache", MS, {"methodPath": "*/*", "settings": {}}, "violation"),
    ("apigateway-method-cached-and-encrypted", "ms-plain-cache", MS, {"methodPath": "*/*", "settings": {
        "cachingEnabled": True}}, "violation"),
    ("apigateway-method-cached-and-encrypted", "ms-ok", MS, {"methodPath": "*/*", "settings": {
        "cachingEnabled": True, "cacheDataEncrypted": True}}, "pass"),
    ("apigateway-method-cached-and-encrypted", "ms-preview", MS, {"methodPath": "*/*", "restApi": UNKNOWN,
                                                                  "stageName": UNKNOWN, "settings": {
        "cachingEnabled": True, "cacheDataEncrypted": True}}, "pass"),
    # no endpointConfiguration: API Gateway creates an EDGE API, allowed by default (issue 13: was flagged)
    ("apigateway-endpoint-type", "api-noconfig", API, {"name": "a"}, "pass"),
    ("apigateway-endpoint-type", "api-regional", API, {"endpointConfiguration": {"types": "REGIONAL"}}, "violation"),
    ("apigateway-endpoint-type", "api-edge", API, {"endpointConfiguration": {"types": ["EDGE"]}}, "pass"),
    ("apigateway-endpoint-type", "api-edge-preview", API, {"endpointConfiguration": {"types": "EDGE",
                                                                                     "vpcEndpointIds": UNKNOWN}}, "pass"),
]

METHOD = "aws:apigateway/method:Method"

ROUTE = "aws:apigatewayv2/route:Route"

STAGE_edge = "aws:apigateway/stage:Stage"


def names_edge(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- apigateway-waf-on-rest-stage -------------------------------------------------------------
ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"

REST_API = "aws:apigateway/restApi:RestApi"


def _body(security_default, op_security=None):
    op = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": "arn"}}
    if op_security is not None:
        op["security"] = op_security
    doc = {"openapi": "3.0.1", "paths": {"/items": {"get": op, "options": {}}}}
    if security_default is not None:
        doc["security"] = security_default
    return json.dumps(doc)


test_case = case_table(CASES)


def test_options_as_in_awsguard():
    r = check([rec(API, "regional", {"endpointConfiguration": {"types": "REGIONAL"}}),
               rec(MS, "nocache", {"methodPath": "*/*", "settings": {"metricsEnabled": True}})],
              config={"apigateway-endpoint-type": {"allowRegional": True},
                      "apigateway-method-cached-and-encrypted": {"requireCaching": False}})
    assert violations(r, "apigateway-endpoint-type") == []
    assert violations(r, "apigateway-method-cached-and-encrypted") == []


# --- apigateway-authorizer-required -----------------------------------------------------------
def test_authorizer_violation_on_open_methods_and_routes():
    r = check([rec(METHOD, "open", {"httpMethod": "ANY", "authorization": "NONE"}),
               rec(METHOD, "no-id", {"httpMethod": "GET", "authorization": "COGNITO_USER_POOLS"}),
               rec(ROUTE, "route", {"routeKey": "GET /items", "authorizationType": "NONE"})])
    assert names_edge(r, "apigateway-authorizer-required") == ["no-id", "open", "route"]


def test_authorizer_passes_cognito_iam_and_preflight():
    r = check([rec(METHOD, "cog", {"httpMethod": "ANY", "authorization": "COGNITO_USER_POOLS", "authorizerId": "a1"}),
               rec(METHOD, "iam", {"httpMethod": "ANY", "authorization": "AWS_IAM"}),
               rec(METHOD, "preflight", {"httpMethod": "OPTIONS", "authorization": "NONE"}),
               rec(ROUTE, "jwt", {"routeKey": "ANY /{proxy+}", "authorizationType": "JWT", "authorizerId": "a"})])
    assert violations(r, "apigateway-authorizer-required") == []


def test_authorizer_preview_unknown_ids_pass():
    r = check([rec(METHOD, "cog", {"httpMethod": "ANY", "authorization": "COGNITO_USER_POOLS",
                                   "authorizerId": UNKNOWN, "restApi": UNKNOWN, "resourceId": UNKNOWN})])
    assert violations(r, "apigateway-authorizer-required") == [] and not skipped(r, "apigateway-authorizer-required")


# --- apigateway-access-logging ----------------------------------------------------------------
def test_access_logging_violation_without_settings():
    r = check([rec(STAGE_edge, "s", {"stageName": "v1"}),
               rec(STAGE_edge, "noformat", {"stageName": "v1", "accessLogSettings": {"destinationArn": "arn", "format": ""}})])
    assert names_edge(r, "apigateway-access-logging") == ["noformat", "s"]


def test_access_logging_passes():
    r = check([rec(STAGE_edge, "s", {"accessLogSettings": {"destinationArn": "arn:aws:logs:x", "format": "{}"}})])
    assert violations(r, "apigateway-access-logging") == []


def test_access_logging_preview_unknown_log_group_passes():
    r = check([rec(STAGE_edge, "s", {"accessLogSettings": {"destinationArn": UNKNOWN, "format": "{\"a\":1}"}})])
    assert violations(r, "apigateway-access-logging") == [] and not skipped(r, "apigateway-access-logging")


def test_waf_on_stage_violation_when_association_targets_another_resource():
    r = check([rec(STAGE_edge, "s", {"stageName": "v1"}), rec(STAGE_edge, "other", {"stageName": "v2"}),
               rec(ASSOC, "a", {"resourceArn": "x", "webAclArn": "y"}, prop_deps={"resourceArn": ["other"]})])
    assert names_edge(r, "apigateway-waf-on-rest-stage") == ["s"]


def test_waf_on_stage_passes():
    r = check([rec(STAGE_edge, "s", {"stageName": "v1"}),
               rec(ASSOC, "a", {"resourceArn": "arn", "webAclArn": "acl"}, prop_deps={"resourceArn": ["s"]})])
    assert violations(r, "apigateway-waf-on-rest-stage") == []


def test_waf_on_stage_preview_passes():
    r = check([rec(STAGE_edge, "s", {"stageName": "v1", "restApi": UNKNOWN}),
               rec(ASSOC, "a", {"resourceArn": UNKNOWN, "webAclArn": UNKNOWN}, prop_deps={"resourceArn": ["s"]})])
    assert violations(r, "apigateway-waf-on-rest-stage") == [] and not skipped(r, "apigateway-waf-on-rest-stage")


def test_openapi_body_operations_need_a_security_requirement():
    """Before: a REST API defined by an OpenAPI `body` escaped the authorizer rule entirely."""
    yaml_body = "openapi: 3.0.1\npaths:\n  /x:\n    post:\n      responses: {}\n"
    r = check([rec(REST_API, "api-open", {"body": _body(None)}),
               rec(REST_API, "api-global", {"body": _body([{"cognito": []}])}),
               rec(REST_API, "api-op-opened", {"body": _body([{"cognito": []}], op_security=[])}),
               rec(REST_API, "api-yaml-open", {"body": yaml_body}),
               rec(REST_API, "api-nobody", {"name": "x"}),
               rec(REST_API, "api-preview", {"body": UNKNOWN})])
    bad = {v.urn.split("::")[-1] for v in violations(r, "apigateway-authorizer-required")}
    assert bad == {"api-open", "api-op-opened", "api-yaml-open"}
    assert {s.urn.split("::")[-1] for s in skipped(r, "apigateway-authorizer-required")} == {"api-preview"}
    assert "GET /items" in violations(r, "apigateway-authorizer-required")[0].message


# --- issue 31: custom domains and TLS 1.0 ------------------------------------------------------------------------
def test_custom_domain_tls_policy():
    rest, http = "aws:apigateway/domainName:DomainName", "aws:apigatewayv2/domainName:DomainName"
    r = check([
        rec(rest, "rest-default", {"domainName": "api.example.com", "regionalCertificateArn": UNKNOWN}),
        rec(rest, "rest-tls10", {"domainName": "a.example.com", "securityPolicy": "TLS_1_0"}),
        rec(rest, "rest-tls12", {"domainName": "b.example.com", "securityPolicy": "TLS_1_2",
                                 "regionalCertificateArn": UNKNOWN}),
        rec(rest, "rest-tls13", {"domainName": "c.example.com", "securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"}),
        rec(http, "http-tls10", {"domainName": "d.example.com", "domainNameConfiguration": {
            "certificateArn": UNKNOWN, "endpointType": "REGIONAL", "securityPolicy": "TLS_1_0"}}),
        rec(http, "http-tls12", {"domainName": "e.example.com", "domainNameConfiguration": {
            "certificateArn": UNKNOWN, "endpointType": "REGIONAL", "securityPolicy": "TLS_1_2"}}),
    ])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "apigateway-domain-tls12")}
    assert set(found) == {"rest-default", "rest-tls10", "http-tls10"}
    assert "unset: API Gateway applies TLS_1_0" in found["rest-default"]
    assert not skipped(r, "apigateway-domain-tls12")


# ------------------------------------------------------------------ deployability (issue 24)
INTEG_T, DEPLOY_T, API_T = ("aws:apigateway/integration:Integration", "aws:apigateway/deployment:Deployment",
                            "aws:apigateway/restApi:RestApi")
LINK2_T, LINK1_T, LB_T = ("aws:apigatewayv2/vpcLink:VpcLink", "aws:apigateway/vpcLink:VpcLink",
                          "aws:lb/loadBalancer:LoadBalancer")
PRIVATE = {"restApi": UNKNOWN, "resourceId": UNKNOWN, "httpMethod": "ANY", "type": "HTTP_PROXY",
           "integrationHttpMethod": "ANY", "connectionType": "VPC_LINK", "connectionId": UNKNOWN,
           "integrationTarget": UNKNOWN, "uri": "http://internal.example.com/"}


def test_vpc_link_integrations_follow_the_link_version():
    recs = [rec(API_T, "api", {"name": "api"}), rec(LINK2_T, "link2", {"name": "l2", "subnetIds": [UNKNOWN]}),
            rec(LINK1_T, "link1", {"name": "l1", "targetArns": [UNKNOWN]}, prop_deps={"targetArns": ["alb"]}),
            rec(LB_T, "alb", {"loadBalancerType": "application", "internal": True}),
            rec(INTEG_T, "good", PRIVATE, prop_deps={"restApi": ["api"], "connectionId": ["link2"],
                                                     "integrationTarget": ["alb"]}),
            rec(INTEG_T, "no-target", {k: v for k, v in PRIVATE.items() if k != "integrationTarget"},
                prop_deps={"restApi": ["api"], "connectionId": ["link2"]}),
            rec(INTEG_T, "v1-to-alb", {k: v for k, v in PRIVATE.items() if k != "integrationTarget"},
                prop_deps={"restApi": ["api"], "connectionId": ["link1"]}),
            rec(INTEG_T, "aws-type", {**PRIVATE, "type": "AWS_PROXY"},
                prop_deps={"restApi": ["api"], "connectionId": ["link2"], "integrationTarget": ["alb"]})]
    r = check(recs)
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "apigateway-vpc-link-integration")}
    assert set(found) == {"no-target", "v1-to-alb", "aws-type"}
    assert "integrationTarget" in found["no-target"] and "Network Load Balancer" in found["v1-to-alb"]
    assert skipped(r, "apigateway-vpc-link-integration") == []


def test_deployment_triggers_must_track_every_integration():
    """A change to what a route calls must reach the stage: the deployment's triggers are computed from every
    integration of its API (issue 24)."""
    def stack(tracked):
        return [rec(API_T, "api", {"name": "api"}),
                rec(INTEG_T, "root", PRIVATE, prop_deps={"restApi": ["api"]}),
                rec(INTEG_T, "proxy", PRIVATE, prop_deps={"restApi": ["api"]}),
                rec(DEPLOY_T, "deployment", {"restApi": UNKNOWN, "triggers": {"redeployment": UNKNOWN}},
                    prop_deps={"restApi": ["api"], "triggers": tracked})]
    assert violations(check(stack(["root", "proxy"])), "apigateway-deployment-tracks-integrations") == []
    [v] = violations(check(stack(["root"])), "apigateway-deployment-tracks-integrations")
    assert "proxy" in v.message and "never reaches the deployed stage" in v.message and v.level == "mandatory"
    assert violations(check(stack([])), "apigateway-deployment-tracks-integrations")


def test_the_recorded_prod_plan_tracks_every_integration_and_a_hand_summary_is_red():
    """Issue 24: the API's deployment trigger was a hand-written summary (backend URL, CORS origin, routes): a
    replaced VPC link or load balancer reached the integrations but never the stage. The program now hashes every
    integration's outputs; reintroducing a summary that leaves one integration out is reported (prod config)."""
    import copy

    from conftest import ROOT, stack_plan
    from plan.analyze import analyze

    config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    assert analyze(plan, policy_config=config).of("apigateway-deployment-tracks-integrations") == []
    deployments = [r for r in plan.resources if r.type == DEPLOY_T]
    assert len(deployments) == 2   # the primary's API and the DR region's
    for d in deployments:
        d.propertyDependencies["triggers"] = [u for u in d.propertyDependencies["triggers"]
                                              if not u.endswith("::api-proxy-integration")]
    found = analyze(plan, policy_config=config).of("apigateway-deployment-tracks-integrations")
    assert len(found) == 2 and all("api-proxy-integration" in v.message and v.level == "mandatory" for v in found)
