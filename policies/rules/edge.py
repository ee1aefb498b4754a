"""Edge: CloudFront, API Gateway, Cognito (the platform's internet-facing surface).

Values that come from other resources (a WAF ACL ARN, an OAC id, a log group ARN) are unknown in a
preview of a new stack; rules accept them through `property_dependencies` (which resource supplies
them) or the presence of the key, and read the value only when nothing else says where it comes from.
"""
from __future__ import annotations

import json
from typing import Optional

import yaml
from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, items, plain, resource_policy, stack_policy

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
REST_METHOD = "aws:apigateway/method:Method"
REST_API = "aws:apigateway/restApi:RestApi"
HTTP_API = "aws:apigatewayv2/api:Api"
REST_STAGE = "aws:apigateway/stage:Stage"
HTTP_ROUTE = "aws:apigatewayv2/route:Route"
HTTP_STAGE = "aws:apigatewayv2/stage:Stage"
USER_POOL = "aws:cognito/userPool:UserPool"

SECURE_VIEWER = ("redirect-to-https", "https-only")
DEFAULT_MIN_TLS = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]
REST_AUTH = ("COGNITO_USER_POOLS", "AWS_IAM", "CUSTOM")
HTTP_AUTH = ("JWT", "AWS_IAM", "CUSTOM")


def keys(props) -> list:
    """Property names present (iterating keys never reads a value, so it holds under unknowns)."""
    return list(props) if props is not None else []


def supplied_by(resource, prop: str, token: str) -> bool:
    """Does `prop` of `resource` take its value from a resource of type `token`?"""
    return any(d.resource_type == token for d in resource.property_dependencies.get(prop, []))


# ---- CloudFront ------------------------------------------------------------------------------

def _https_only(props, report, args):
    behaviors = [("defaultCacheBehavior", get(props, "defaultCacheBehavior"))]
    behaviors += [(f"orderedCacheBehaviors[{i}]", b) for i, b in enumerate(items(get(props, "orderedCacheBehaviors")))]
    for where, behavior in behaviors:
        policy = get(behavior, "viewerProtocolPolicy") if behavior is not None else None
        if policy not in SECURE_VIEWER:
            report(f"{where}.viewerProtocolPolicy is {policy!r}; use 'redirect-to-https' or 'https-only'.")


def _min_tls(props, report, args):
    allowed = list((args.get_config() or {}).get("allowedProtocolVersions", DEFAULT_MIN_TLS))
    cert = get(props, "viewerCertificate") or {}
    if flag(cert, "cloudfrontDefaultCertificate") is True:
        report("uses the default *.cloudfront.net certificate, with which CloudFront fixes the minimum protocol at "
               "TLSv1; give the distribution a custom domain and an ACM certificate (us-east-1) with TLSv1.2_2021.")
        return
    version = get(cert, "minimumProtocolVersion")
    if version not in allowed:
        report(f"viewerCertificate.minimumProtocolVersion is {version!r}; expected one of {', '.join(allowed)}.")


def _waf_attached(resources, report, args):
    for r in resources:
        if r.resource_type != DISTRIBUTION or supplied_by(r, "webAclId", WEB_ACL):
            continue
        if "webAclId" not in keys(r.props) or not get(r.props, "webAclId"):
            report(f"distribution {r.name} has no WAF web ACL (webAclId).", r.urn)


def _logging(resources, report, args):
    sources = [r for r in resources if r.resource_type == LOG_DELIVERY_SOURCE]
    deliveries = [r for r in resources if r.resource_type == LOG_DELIVERY]
    for r in resources:
        if r.resource_type != DISTRIBUTION:
            continue
        if "loggingConfig" in keys(r.props) and "bucket" in keys(get(r.props, "loggingConfig") or {}):
            continue  # legacy standard logging
        v2 = [s for s in sources if supplied_by_urn(s, "resourceArn", r.urn) and get(s.props, "logType") == "ACCESS_LOGS"]
        if not any(supplied_by_urn(d, "deliverySourceName", s.urn) for s in v2 for d in deliveries):
            report(f"distribution {r.name} has no access logging: neither loggingConfig nor a LogDeliverySource "
                   f"(ACCESS_LOGS, resourceArn from the distribution) with a LogDelivery.", r.urn)


def supplied_by_urn(resource, prop: str, urn: str) -> bool:
    return any(d.urn == urn for d in resource.property_dependencies.get(prop, []))


def _s3_origin_oac(resources, report, args):
    for r in resources:
        if r.resource_type != DISTRIBUTION:
            continue
        oac_supplied = supplied_by(r, "origins", OAC)
        for i, origin in enumerate(items(get(r.props, "origins"))):
            present = keys(origin)
            if "customOriginConfig" in present or "vpcOriginConfig" in present:
                continue  # not an S3 REST origin
            if "originAccessControlId" not in present:
                report(f"distribution {r.name} origin {i} is an S3 origin without Origin Access Control "
                       f"(originAccessControlId).", r.urn)
            elif not oac_supplied and not get(origin, "originAccessControlId"):
                report(f"distribution {r.name} origin {i} has an empty originAccessControlId.", r.urn)


# ---- API Gateway ------------------------------------------------------------------------------

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "x-amazon-apigateway-any-method")


def openapi(body) -> Optional[dict]:
    """An OpenAPI/Swagger document given as a JSON or YAML string (or an object); None if unparsable."""
    if isinstance(body, str):
        try:
            doc = json.loads(body)
        except ValueError:
            try:
                doc = yaml.safe_load(body)
            except yaml.YAMLError:
                return None
    else:
        doc = plain(body)
    return doc if isinstance(doc, dict) else None


def open_operations(doc: dict) -> list[str]:
    """Operations an OpenAPI body leaves without authorization: no effective `security` requirement (the
    operation's own, else the document's; `[]` opens it explicitly) and no x-amazon-apigateway-auth."""
    default = doc.get("security") or []
    out = []
    for path, ops in (doc.get("paths") or {}).items():
        if not isinstance(ops, dict):
            continue
        for method, op in ops.items():
            if method.lower() not in HTTP_METHODS or not isinstance(op, dict):
                continue
            auth = (op.get("x-amazon-apigateway-auth") or {}).get("type", "")
            security = op["security"] if "security" in op else default
            if not security and str(auth).upper() not in ("AWS_IAM",):
                out.append(f"{method.upper()} {path}")
    return out


def _authorizer(props, report, args):
    if args.resource_type in (REST_API, HTTP_API):
        if "body" not in keys(props):
            return  # methods/routes are separate resources, judged on their own
        doc = openapi(get(props, "body"))
        if doc is None:
            report("body is not a parsable OpenAPI document: its operations' authorization cannot be checked.")
            return
        for op in open_operations(doc):
            report(f"OpenAPI body: operation {op} has no security requirement (no authorizer, IAM or Cognito).")
        return
    if args.resource_type == REST_METHOD:
        if get(props, "httpMethod") == "OPTIONS":
            return  # CORS preflight: browsers send it without credentials
        auth = get(props, "authorization")
        if auth not in REST_AUTH:
            report(f"method {get(props, 'httpMethod')} has authorization {auth!r}; use one of {', '.join(REST_AUTH)}.")
        elif auth != "AWS_IAM" and "authorizerId" not in keys(props):
            report(f"authorization {auth} without an authorizerId.")
    else:
        route = str(get(props, "routeKey", ""))
        if route.startswith("OPTIONS "):
            return
        auth = get(props, "authorizationType", "NONE")
        if auth not in HTTP_AUTH:
            report(f"route {route!r} has authorizationType {auth!r}; use one of {', '.join(HTTP_AUTH)}.")
        elif auth != "AWS_IAM" and "authorizerId" not in keys(props):
            report(f"route {route!r} uses {auth} without an authorizerId.")


def _access_logging(props, report, args):
    settings = get(props, "accessLogSettings")
    present = keys(settings) if settings is not None else []
    if "destinationArn" not in present:
        report("accessLogSettings.destinationArn is not set: the stage writes no access log.")
    elif "format" not in present or not get(settings, "format"):
        report("accessLogSettings.format is empty.")


def _waf_on_rest_stage(resources, report, args):
    associations = [r for r in resources if r.resource_type == WEB_ACL_ASSOCIATION]
    for stage in resources:
        if stage.resource_type != REST_STAGE:
            continue
        if not any(supplied_by_urn(a, "resourceArn", stage.urn) for a in associations):
            report(f"REST stage {stage.name} has no WAF web ACL (no WebAclAssociation whose resourceArn comes from it).",
                   stage.urn)


# ---- Cognito ------------------------------------------------------------------------------------

def _password_policy(props, report, args):
    min_len = int((args.get_config() or {}).get("minimumLength", 12))
    policy = get(props, "passwordPolicy")
    if policy is None:
        report(f"no passwordPolicy (Cognito's default is 8 characters); require {min_len}+ and every class.")
        return
    problems = []
    if (get(policy, "minimumLength") or 8) < min_len:
        problems.append(f"minimumLength < {min_len}")
    for key in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"):
        if flag(policy, key) is not True:
            problems.append(f"{key} not true")
    if problems:
        report("weak password policy: " + "; ".join(problems) + ".")


def _mfa(props, report, args):
    mode = get(props, "mfaConfiguration", "OFF")
    if mode != "ON":
        report(f"mfaConfiguration is {mode!r}; MFA must be required (ON) for production user pools.")


POLICIES = [
    resource_policy("cloudfront-https-only", "CloudFront must serve viewers over HTTPS only.", (DISTRIBUTION,),
                    _https_only, severity=Severity.HIGH, framework=fsbp("CloudFront.3"),
                    remediation="Set viewerProtocolPolicy='redirect-to-https' on every cache behavior.",
                    tags=["cloudfront", "encryption-in-transit"]),
    resource_policy("cloudfront-min-tls", "CloudFront viewer connections must use TLS 1.2 or later.", (DISTRIBUTION,),
                    _min_tls, severity=Severity.HIGH, framework=fsbp("CloudFront.8"),
                    remediation="Use a custom domain with an ACM certificate from us-east-1 and "
                                "minimumProtocolVersion='TLSv1.2_2021'.",
                    tags=["cloudfront", "encryption-in-transit"],
                    config_schema=PolicyConfigSchema(properties={
                        "allowedProtocolVersions": {"type": "array", "items": {"type": "string"},
                                                    "default": DEFAULT_MIN_TLS}})),
    stack_policy("cloudfront-waf-attached", "CloudFront distributions must be protected by a WAF web ACL.",
                 _waf_attached, severity=Severity.HIGH, framework=fsbp("CloudFront.6"),
                 remediation="Create an aws.wafv2.WebAcl (scope CLOUDFRONT, us-east-1 provider) and set webAclId.",
                 tags=["cloudfront", "waf"],
        types=('aws:cloudfront/distribution:Distribution', 'aws:wafv2/webAcl:WebAcl')),
    stack_policy("cloudfront-logging", "CloudFront distributions must log access requests.", _logging,
                 severity=Severity.MEDIUM, framework=fsbp("CloudFront.5"),
                 remediation="Add standard logging v2: LogDeliverySource(logType='ACCESS_LOGS', resourceArn=dist.arn), "
                             "LogDeliveryDestination and LogDelivery (us-east-1).",
                 tags=["cloudfront", "logging"],
        types=('aws:cloudwatch/logDeliverySource:LogDeliverySource', 'aws:cloudwatch/logDelivery:LogDelivery', 'aws:cloudfront/distribution:Distribution')),
    stack_policy("cloudfront-s3-origin-oac", "CloudFront S3 origins must use Origin Access Control.", _s3_origin_oac,
                 severity=Severity.HIGH, framework=fsbp("CloudFront.13"),
                 remediation="Create an aws.cloudfront.OriginAccessControl (s3, sigv4, always) and set "
                             "originAccessControlId on the origin; grant the bucket to that distribution only.",
                 tags=["cloudfront", "s3", "access"],
        types=('aws:cloudfront/distribution:Distribution', 'aws:cloudfront/originAccessControl:OriginAccessControl')),
    resource_policy("apigateway-authorizer-required", "API Gateway methods and routes must require authorization.",
                    (REST_METHOD, HTTP_ROUTE, REST_API, HTTP_API), _authorizer, severity=Severity.HIGH,
                    remediation="Set authorization='COGNITO_USER_POOLS' with authorizerId (REST) or "
                                "authorizationType='JWT' (HTTP API); only OPTIONS preflights may be open. In an "
                                "OpenAPI body, give every operation a security requirement (or a global one).",
                    tags=["apigateway", "access"]),
    resource_policy("apigateway-access-logging", "API Gateway stages must write access logs.",
                    (REST_STAGE, HTTP_STAGE), _access_logging, severity=Severity.MEDIUM,
                    framework=fsbp("APIGateway.1"),
                    remediation="Set accessLogSettings={destinationArn: <KMS log group ARN>, format: <JSON>}.",
                    tags=["apigateway", "logging"]),
    stack_policy("apigateway-waf-on-rest-stage", "API Gateway REST stages must be associated with a WAF web ACL.",
                 _waf_on_rest_stage, severity=Severity.MEDIUM, framework=fsbp("APIGateway.4"),
                 remediation="aws.wafv2.WebAclAssociation(resource_arn=stage.arn, web_acl_arn=<REGIONAL ACL>).",
                 tags=["apigateway", "waf"],
        types=('aws:wafv2/webAclAssociation:WebAclAssociation', 'aws:apigateway/stage:Stage')),
    resource_policy("cognito-password-policy", "Cognito user pools must require strong passwords.", (USER_POOL,),
                    _password_policy, severity=Severity.HIGH,
                    remediation="passwordPolicy: minimumLength >= 12 and require lowercase, uppercase, numbers, symbols.",
                    tags=["cognito", "identity"],
                    config_schema=PolicyConfigSchema(properties={"minimumLength": {"type": "integer", "default": 12}})),
    resource_policy("cognito-mfa-required", "Cognito user pools must require MFA.", (USER_POOL,), _mfa,
                    severity=Severity.HIGH,
                    remediation="mfaConfiguration='ON' with softwareTokenMfaConfiguration.enabled (edge.mfa in config).",
                    tags=["cognito", "identity"]),
]
