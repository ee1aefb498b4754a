"""API Gateway (REST and HTTP APIs): authorization (methods, routes and OpenAPI bodies), access logs,
WAF, endpoint types and caches (awsguard's names and options)."""
from __future__ import annotations

import json

import yaml
from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import nist
from ._lib import as_list, flag, fsbp, get, plain, resource_policy, stack_policy
from ._shared import keys, supplied_by_urn

STAGE = "aws:apigateway/stage:Stage"

METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"

REST_API = "aws:apigateway/restApi:RestApi"


def _stage_cached(props, report, args):
    if flag(props, "cacheClusterEnabled") is not True:
        report("cacheClusterEnabled must be true.")


def _method_cache(props, report, args):
    require = (args.get_config() or {}).get("requireCaching", True)
    caching = flag(props, "settings.cachingEnabled") is True
    if require and not caching:
        report("settings.cachingEnabled must be true.")
    if caching and flag(props, "settings.cacheDataEncrypted") is not True:
        report("settings.cacheDataEncrypted must be true when caching is enabled.")


def _endpoint_type(props, report, args):
    cfg = args.get_config() or {}
    allowed = {t for t, key, default in (("EDGE", "allowEdge", True), ("REGIONAL", "allowRegional", False),
                                        ("PRIVATE", "allowPrivate", False)) if cfg.get(key, default)}
    # No endpointConfiguration: API Gateway creates an EDGE API (judged as EDGE, allowed by default).
    types = as_list(plain(get(props, "endpointConfiguration.types"))) or ["EDGE"]
    for t in types:
        if t not in allowed:
            report(f"endpoint type {t} is not allowed (allowed: {', '.join(sorted(allowed)) or 'none'}).")


WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

REST_METHOD = "aws:apigateway/method:Method"

HTTP_API = "aws:apigatewayv2/api:Api"

REST_STAGE = "aws:apigateway/stage:Stage"

HTTP_ROUTE = "aws:apigatewayv2/route:Route"

HTTP_STAGE = "aws:apigatewayv2/stage:Stage"

REST_AUTH = ("COGNITO_USER_POOLS", "AWS_IAM", "CUSTOM")

HTTP_AUTH = ("JWT", "AWS_IAM", "CUSTOM")

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "x-amazon-apigateway-any-method")


def openapi(body) -> dict | None:
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


POLICIES = [
    resource_policy(
        "apigateway-stage-cached", "API Gateway REST API stages should have a cache cluster.", (STAGE,),
        _stage_cached, severity=Severity.LOW, framework=nist("SC-5"),
        remediation="Set cacheClusterEnabled=True and cacheClusterSize on the stage (billed per hour).",
        tags=["apigateway", "performance", "awsguard:apigateway-stage-cached", "checkov:CKV_AWS_120"]),
    resource_policy(
        "apigateway-method-cached-and-encrypted", "API Gateway method caches must be encrypted (and, by default, "
        "enabled).", (METHOD_SETTINGS,), _method_cache, severity=Severity.MEDIUM, framework=fsbp("APIGateway.5"),
        remediation="settings={'caching_enabled': True, 'cache_data_encrypted': True}.",
        tags=["apigateway", "encryption", "awsguard:apigateway-method-cached-and-encrypted", "checkov:CKV_AWS_225",
              "checkov:CKV_AWS_308"],
        config_schema=PolicyConfigSchema(properties={
            "requireCaching": {"type": "boolean", "default": True,
                               "description": "false: only require encryption where caching is on"}})),
    resource_policy(
        "apigateway-endpoint-type", "API Gateway REST APIs must use an allowed endpoint type.", (REST_API,),
        _endpoint_type, severity=Severity.MEDIUM, framework=nist("SC-7"),
        remediation="Set endpointConfiguration={'types': 'REGIONAL'} (or EDGE/PRIVATE) as the config allows.",
        tags=["apigateway", "network", "awsguard:apigateway-endpoint-type"],
        config_schema=PolicyConfigSchema(properties={
            "allowEdge": {"type": "boolean", "default": True},
            "allowRegional": {"type": "boolean", "default": False},
            "allowPrivate": {"type": "boolean", "default": False}})),
    resource_policy("apigateway-authorizer-required", "API Gateway methods and routes must require authorization.",
                    (REST_METHOD, HTTP_ROUTE, REST_API, HTTP_API), _authorizer, severity=Severity.HIGH,
                    remediation="Set authorization='COGNITO_USER_POOLS' with authorizerId (REST) or "
                                "authorizationType='JWT' (HTTP API); only OPTIONS preflights may be open. In an "
                                "OpenAPI body, give every operation a security requirement (or a global one).",
                    tags=["checkov:CKV_AWS_59", "checkov:CKV2_AWS_70", "checkov:CKV_AWS_309",
                          "cdk-nag:AwsSolutions-APIG4",
                          "apigateway", "access"]),
    resource_policy("apigateway-access-logging", "API Gateway stages must write access logs.",
                    (REST_STAGE, HTTP_STAGE), _access_logging, severity=Severity.MEDIUM,
                    framework=fsbp("APIGateway.1"),
                    remediation="Set accessLogSettings={destinationArn: <KMS log group ARN>, format: <JSON>}.",
                    tags=["checkov:CKV_AWS_76", "cdk-nag:AwsSolutions-APIG1",
                          "compliance-policies:aws-apigatewayv2-stage-enable-access-logging",
                          "compliance-policies:aws-apigatewayv2-stage-configure-access-logging",
                          "apigateway", "logging"]),
    stack_policy("apigateway-waf-on-rest-stage", "API Gateway REST stages must be associated with a WAF web ACL.",
                 _waf_on_rest_stage, severity=Severity.MEDIUM, framework=fsbp("APIGateway.4"),
                 remediation="aws.wafv2.WebAclAssociation(resource_arn=stage.arn, web_acl_arn=<REGIONAL ACL>).",
                 tags=["checkov:CKV2_AWS_29", "cdk-nag:AwsSolutions-APIG3",
                       "apigateway", "waf"],
        types=('aws:wafv2/webAclAssociation:WebAclAssociation', 'aws:apigateway/stage:Stage')),
]


# --- edges (issue 31): custom domains that accept TLS 1.0 ------------------------------------------------------
REST_DOMAIN = "aws:apigateway/domainName:DomainName"

HTTP_DOMAIN = "aws:apigatewayv2/domainName:DomainName"

# SecurityPolicy values (botocore's apigateway/apigatewayv2 models): only TLS_1_0 accepts TLS 1.0/1.1; TLS_1_2 and
# every SecurityPolicy_TLS12_*/TLS13_* policy require TLS 1.2+. REST domains default to TLS_1_0 when unset.
WEAK_DOMAIN_POLICIES = ("TLS_1_0",)


def _domain_tls(props, report, args):
    if args.resource_type == REST_DOMAIN:
        policy = get(props, "securityPolicy", "TLS_1_0")
        where = "securityPolicy" + ("" if "securityPolicy" in keys(props) else " (unset: API Gateway applies TLS_1_0)")
    else:
        policy = get(props, "domainNameConfiguration.securityPolicy")
        where = "domainNameConfiguration.securityPolicy"
    if policy in WEAK_DOMAIN_POLICIES:
        report(f"{where} is {policy!r}: clients may connect with TLS 1.0/1.1; use 'TLS_1_2' (or a "
               f"SecurityPolicy_TLS13_* policy).")


POLICIES.append(resource_policy(
    "apigateway-domain-tls12", "API Gateway custom domain names must require TLS 1.2 or later.",
    (REST_DOMAIN, HTTP_DOMAIN), _domain_tls, severity=Severity.HIGH, framework=nist("SC-8"),
    remediation="security_policy='TLS_1_2' (REST) / domain_name_configuration.security_policy='TLS_1_2' (HTTP).",
    refs={"checkov": "CKV_AWS_206",
          "pulumi": ["aws-apigateway-domainname-configure-security-policy",
                     "aws-apigatewayv2-domainname-configure-domain-name-security-policy"]},
    tags=["apigateway", "encryption-in-transit"]))


# ------------------------------------------------------------------ deployability (issue 24)
INTEGRATION = "aws:apigateway/integration:Integration"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
VPC_LINK_V1 = "aws:apigateway/vpcLink:VpcLink"
VPC_LINK_V2 = "aws:apigatewayv2/vpcLink:VpcLink"
_LBS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
_APIGW_DOCS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"


def _vpc_link_integration(resources, report, args):
    from ._compliance import is_unknown as unknown
    from ._links import arn_region, linked, provider_region
    for integ in (r for r in resources if r.resource_type == INTEGRATION):
        if unknown(integ.props, "connectionType") or get(integ.props, "connectionType") != "VPC_LINK":
            continue
        if get(integ.props, "type") not in ("HTTP", "HTTP_PROXY"):
            report(f"integration {integ.name}: a VPC link integration must be of type HTTP or HTTP_PROXY "
                   f"(is {get(integ.props, 'type')!r}).", integ.urn)
        if not unknown(integ.props, "connectionId") and not get(integ.props, "connectionId"):
            report(f"integration {integ.name}: connectionType VPC_LINK without a connectionId.", integ.urn)
            continue
        for link in linked(resources, integ, "connectionId", (VPC_LINK_V1,)):
            for lb in linked(resources, link, "targetArns", _LBS):
                if get(lb.props, "loadBalancerType", "application") != "network":
                    report(f"integration {integ.name}: VPC link {link.name} (REST, V1) targets {lb.name}, which is "
                           "not a Network Load Balancer (a V1 link reaches NLBs only; use a V2 link for an ALB).",
                           integ.urn)
        if linked(resources, integ, "connectionId", (VPC_LINK_V2,)):
            if not unknown(integ.props, "integrationTarget") and not get(integ.props, "integrationTarget"):
                report(f"integration {integ.name}: a VPC link V2 integration of a REST API needs integrationTarget "
                       "(the load balancer's ARN).", integ.urn)
            elif not unknown(integ.props, "integrationTarget"):
                target_region, region = arn_region(get(integ.props, "integrationTarget")), provider_region(integ)
                if target_region and region and target_region != region:
                    report(f"integration {integ.name}: its load balancer is in {target_region}, the API in {region}: "
                           "the VPC link, the load balancer and the API must be in one region.", integ.urn)


def _deployment_tracks_integrations(resources, report, args):
    from ._lib import depends_on
    from ._links import linked
    integrations = [r for r in resources if r.resource_type == INTEGRATION]
    for dep in (r for r in resources if r.resource_type == DEPLOYMENT):
        apis = linked(resources, dep, "restApi", (REST_API,))
        if not apis:
            continue
        mine = [i for i in integrations if any(depends_on(i, a, "restApi") for a in apis)]
        untracked = [i.name for i in mine if not depends_on(dep, i, "triggers")]
        if untracked:
            shown = ", ".join(sorted(untracked)[:4]) + (f" (+{len(untracked) - 4})" if len(untracked) > 4 else "")
            report(f"deployment {dep.name}: its triggers are not computed from integration(s) {shown}: a change to "
                   "what those routes call is applied to the API but never reaches the deployed stage (a deployment "
                   "is a snapshot; API Gateway serves the old integration until the next redeployment).", dep.urn)


POLICIES += [
    stack_policy(
        "apigateway-vpc-link-integration",
        "A REST API private integration must be HTTP/HTTP_PROXY over a VPC link: a V1 link to Network Load "
        "Balancers only, a V2 link with integrationTarget set to a load balancer in the API's region (API Gateway "
        f"Developer Guide, \"Private integrations for REST APIs in API Gateway\": {_APIGW_DOCS}private-integration.html).",
        _vpc_link_integration, types=(INTEGRATION, VPC_LINK_V1, VPC_LINK_V2) + _LBS, severity=Severity.HIGH,
        remediation="connection_type='VPC_LINK', connection_id=<link>.id, type='HTTP_PROXY' and, for a V2 link, "
                    "integration_target=<load balancer ARN in the same region>.",
        tags=["apigateway", "deployability"]),
    stack_policy(
        "apigateway-deployment-tracks-integrations",
        "A REST API deployment's triggers must be computed from every integration of its API, so a change to what "
        "a route calls is redeployed to the stage (API Gateway Developer Guide, \"Deploy REST APIs in API "
        f"Gateway\": {_APIGW_DOCS}how-to-deploy-api.html; pulumi-aws apigateway.Deployment, triggers).",
        _deployment_tracks_integrations, types=(DEPLOYMENT, INTEGRATION, REST_API), severity=Severity.HIGH,
        remediation="triggers={'redeployment': <hash of every integration's uri, connection_id, integration_target, "
                    "request parameters and timeout, as Outputs of the integrations>}.",
        tags=["apigateway", "deployability"]),
]
