"""Edge rules (CloudFront, API Gateway, Cognito), each three ways: violating, passing, and passing as a
new stack's preview shows it (values from other resources UNKNOWN)."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

DIST = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
ACL = "aws:wafv2/webAcl:WebAcl"
METHOD = "aws:apigateway/method:Method"
ROUTE = "aws:apigatewayv2/route:Route"
STAGE = "aws:apigateway/stage:Stage"
POOL = "aws:cognito/userPool:UserPool"


def names(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


def dist(name="d", *, web_acl="arn:aws:wafv2:us-east-1:1:global/webacl/a/b", oac="E123", domain="b.s3.amazonaws.com",
         viewer="redirect-to-https", cert=None, **extra):
    origin = {"originId": "o", "domainName": domain}
    if oac is not None:
        origin["originAccessControlId"] = oac
    props = {"origins": [origin], "defaultCacheBehavior": {"viewerProtocolPolicy": viewer, "targetOriginId": "o"},
             "viewerCertificate": cert or {"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x",
                                           "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}}
    if web_acl is not None:
        props["webAclId"] = web_acl
    props.update(extra)
    return props


def preview_site(**overrides):
    """The edge tier as a new stack's preview records it: ids and ARNs of other resources unknown."""
    records = [
        rec(ACL, "acl", {"scope": "CLOUDFRONT"}),
        rec(OAC, "oac", {"signingBehavior": "always"}),
        rec(DIST, "d", dist(web_acl=UNKNOWN, oac=UNKNOWN, domain=UNKNOWN,
                            cert={"acmCertificateArn": UNKNOWN, "sslSupportMethod": "sni-only",
                                  "minimumProtocolVersion": "TLSv1.2_2021"}),
            prop_deps={"webAclId": ["acl"], "origins": ["oac"]}),
        rec("aws:cloudwatch/logDeliverySource:LogDeliverySource", "src", {"logType": "ACCESS_LOGS", "resourceArn": UNKNOWN},
            prop_deps={"resourceArn": ["d"]}),
        rec("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "dst", {"outputFormat": "json"}),
        rec("aws:cloudwatch/logDelivery:LogDelivery", "del", {"deliverySourceName": UNKNOWN,
                                                             "deliveryDestinationArn": UNKNOWN},
            prop_deps={"deliverySourceName": ["src"], "deliveryDestinationArn": ["dst"]}),
    ]
    return records


# --- cloudfront-https-only --------------------------------------------------------------------
def test_https_only_violation_on_allow_all_behaviors():
    r = check([rec(DIST, "d", dist(viewer="allow-all",
                                   orderedCacheBehaviors=[{"viewerProtocolPolicy": "allow-all", "pathPattern": "/x"}]))])
    messages = [v.message for v in violations(r, "cloudfront-https-only")]
    assert any("defaultCacheBehavior" in m for m in messages) and any("orderedCacheBehaviors[0]" in m for m in messages)


def test_https_only_passes_redirect_and_https_only():
    r = check([rec(DIST, "d", dist(orderedCacheBehaviors=[{"viewerProtocolPolicy": "https-only"}]))])
    assert violations(r, "cloudfront-https-only") == []


def test_https_only_preview_decides():
    r = check(preview_site())
    assert violations(r, "cloudfront-https-only") == [] and not skipped(r, "cloudfront-https-only")


# --- cloudfront-min-tls -----------------------------------------------------------------------
def test_min_tls_violations_default_certificate_and_old_policy():
    r = check([rec(DIST, "default", dist(cert={"cloudfrontDefaultCertificate": True,
                                               "minimumProtocolVersion": "TLSv1.2_2021"})),
               rec(DIST, "old", dist(cert={"acmCertificateArn": "arn", "minimumProtocolVersion": "TLSv1.1_2016"}))])
    assert names(r, "cloudfront-min-tls") == ["default", "old"]
    assert any("TLSv1;" in v.message or "at TLSv1" in v.message for v in violations(r, "cloudfront-min-tls"))


def test_min_tls_passes_custom_certificate():
    assert violations(check([rec(DIST, "d", dist())]), "cloudfront-min-tls") == []


def test_min_tls_preview_with_unknown_certificate_arn_decides():
    r = check(preview_site())
    assert violations(r, "cloudfront-min-tls") == [] and not skipped(r, "cloudfront-min-tls")


# --- cloudfront-waf-attached ------------------------------------------------------------------
def test_waf_violation_without_web_acl():
    r = check([rec(DIST, "d", dist(web_acl=None)), rec(DIST, "empty", dist(web_acl=""))])
    assert names(r, "cloudfront-waf-attached") == ["d", "empty"]


def test_waf_passes_literal_acl_arn():
    assert violations(check([rec(DIST, "d", dist())]), "cloudfront-waf-attached") == []


def test_waf_preview_acl_from_resource_passes():
    r = check(preview_site())
    assert violations(r, "cloudfront-waf-attached") == [] and not skipped(r, "cloudfront-waf-attached")


# --- cloudfront-logging -----------------------------------------------------------------------
def test_logging_violation_without_any_logging():
    r = check([rec(DIST, "d", dist()),
               # a delivery source for another resource does not count
               rec("aws:cloudwatch/logDeliverySource:LogDeliverySource", "src", {"logType": "ACCESS_LOGS"})])
    assert names(r, "cloudfront-logging") == ["d"]


def test_logging_source_without_delivery_is_a_violation():
    records = [r for r in preview_site() if r["name"] != "del"]
    assert names(check(records), "cloudfront-logging") == ["d"]


def test_logging_passes_legacy_logging_config():
    r = check([rec(DIST, "d", dist(loggingConfig={"bucket": "logs.s3.amazonaws.com", "prefix": "cf/"}))])
    assert violations(r, "cloudfront-logging") == []


def test_logging_v2_preview_passes():
    r = check(preview_site())
    assert violations(r, "cloudfront-logging") == [] and not skipped(r, "cloudfront-logging")


# --- cloudfront-s3-origin-oac -----------------------------------------------------------------
def test_oac_violation_on_s3_origin_without_oac():
    r = check([rec(DIST, "d", dist(oac=None)), rec(DIST, "empty", dist(oac=""))])
    assert names(r, "cloudfront-s3-origin-oac") == ["d", "empty"]


def test_oac_passes_and_ignores_custom_origins():
    custom = dist(oac=None)
    custom["origins"][0]["customOriginConfig"] = {"originProtocolPolicy": "https-only"}
    r = check([rec(DIST, "d", dist()), rec(DIST, "custom", custom)])
    assert violations(r, "cloudfront-s3-origin-oac") == []


def test_oac_preview_passes():
    r = check(preview_site())
    assert violations(r, "cloudfront-s3-origin-oac") == [] and not skipped(r, "cloudfront-s3-origin-oac")


# --- apigateway-authorizer-required -----------------------------------------------------------
def test_authorizer_violation_on_open_methods_and_routes():
    r = check([rec(METHOD, "open", {"httpMethod": "ANY", "authorization": "NONE"}),
               rec(METHOD, "no-id", {"httpMethod": "GET", "authorization": "COGNITO_USER_POOLS"}),
               rec(ROUTE, "route", {"routeKey": "GET /items", "authorizationType": "NONE"})])
    assert names(r, "apigateway-authorizer-required") == ["no-id", "open", "route"]


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
    r = check([rec(STAGE, "s", {"stageName": "v1"}),
               rec(STAGE, "noformat", {"stageName": "v1", "accessLogSettings": {"destinationArn": "arn", "format": ""}})])
    assert names(r, "apigateway-access-logging") == ["noformat", "s"]


def test_access_logging_passes():
    r = check([rec(STAGE, "s", {"accessLogSettings": {"destinationArn": "arn:aws:logs:x", "format": "{}"}})])
    assert violations(r, "apigateway-access-logging") == []


def test_access_logging_preview_unknown_log_group_passes():
    r = check([rec(STAGE, "s", {"accessLogSettings": {"destinationArn": UNKNOWN, "format": "{\"a\":1}"}})])
    assert violations(r, "apigateway-access-logging") == [] and not skipped(r, "apigateway-access-logging")


# --- apigateway-waf-on-rest-stage -------------------------------------------------------------
ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"


def test_waf_on_stage_violation_when_association_targets_another_resource():
    r = check([rec(STAGE, "s", {"stageName": "v1"}), rec(STAGE, "other", {"stageName": "v2"}),
               rec(ASSOC, "a", {"resourceArn": "x", "webAclArn": "y"}, prop_deps={"resourceArn": ["other"]})])
    assert names(r, "apigateway-waf-on-rest-stage") == ["s"]


def test_waf_on_stage_passes():
    r = check([rec(STAGE, "s", {"stageName": "v1"}),
               rec(ASSOC, "a", {"resourceArn": "arn", "webAclArn": "acl"}, prop_deps={"resourceArn": ["s"]})])
    assert violations(r, "apigateway-waf-on-rest-stage") == []


def test_waf_on_stage_preview_passes():
    r = check([rec(STAGE, "s", {"stageName": "v1", "restApi": UNKNOWN}),
               rec(ASSOC, "a", {"resourceArn": UNKNOWN, "webAclArn": UNKNOWN}, prop_deps={"resourceArn": ["s"]})])
    assert violations(r, "apigateway-waf-on-rest-stage") == [] and not skipped(r, "apigateway-waf-on-rest-stage")


# --- cognito ------------------------------------------------------------------------------------
STRONG = {"minimumLength": 14, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
          "requireSymbols": True}


def test_password_policy_violations():
    r = check([rec(POOL, "none", {}), rec(POOL, "short", {"passwordPolicy": {**STRONG, "minimumLength": 8}}),
               rec(POOL, "nosym", {"passwordPolicy": {**STRONG, "requireSymbols": False}})])
    assert names(r, "cognito-password-policy") == ["none", "nosym", "short"]


def test_password_policy_passes():
    assert violations(check([rec(POOL, "p", {"passwordPolicy": STRONG})]), "cognito-password-policy") == []


def test_password_policy_preview_passes():
    r = check([rec(POOL, "p", {"passwordPolicy": STRONG, "name": "x", "lambdaConfig": UNKNOWN})])
    assert violations(r, "cognito-password-policy") == [] and not skipped(r, "cognito-password-policy")


def test_mfa_violation_optional_and_off():
    r = check([rec(POOL, "opt", {"mfaConfiguration": "OPTIONAL"}), rec(POOL, "off", {})])
    assert names(r, "cognito-mfa-required") == ["off", "opt"]


def test_mfa_advisory_level_does_not_block():
    r = check([rec(POOL, "opt", {"mfaConfiguration": "OPTIONAL"})], level="advisory")
    [v] = violations(r, "cognito-mfa-required")
    assert v.level == "advisory" and not r.mandatory


def test_mfa_passes_on_including_preview():
    r = check([rec(POOL, "on", {"mfaConfiguration": "ON", "softwareTokenMfaConfiguration": {"enabled": True},
                                "lambdaConfig": UNKNOWN})])
    assert violations(r, "cognito-mfa-required") == [] and not skipped(r, "cognito-mfa-required")


# --- issue 13: a REST API defined by an OpenAPI body ---------------------------------------------------
import json  # noqa: E402

REST_API = "aws:apigateway/restApi:RestApi"


def _body(security_default, op_security=None):
    op = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": "arn"}}
    if op_security is not None:
        op["security"] = op_security
    doc = {"openapi": "3.0.1", "paths": {"/items": {"get": op, "options": {}}}}
    if security_default is not None:
        doc["security"] = security_default
    return json.dumps(doc)


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
