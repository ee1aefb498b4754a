"""Edge tier wiring, on the registered inputs: site bucket <- OAC <- distribution, the bucket granted to
that distribution only, Cognito on every API method, WAF on both entry points, us-east-1 resources
through the us-east-1 provider whatever the stack's region."""
from __future__ import annotations

import functools
import json
import re

import pytest

from conftest import primary_plan as stack_plan
from conftest import program_with

EDGE = "ai-platform:tier:Edge"
DIST = "aws:cloudfront/distribution:Distribution"
WAF = "aws:wafv2/webAcl:WebAcl"
GLOBAL_ONLY = ("aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation",
               "aws:cloudwatch/logDeliverySource:LogDeliverySource",
               "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "aws:cloudwatch/logDelivery:LogDelivery")
ALB = "internal-app-123.eu-west-1.elb.amazonaws.com"


def edge_resources(plan):
    [tier] = [r for r in plan.resources if r.type == EDGE]
    return [r for r in plan.resources if r.parent == tier.urn]


def out(plan, name, token=None, key="arn"):
    return plan.named(name, token).outputs[key]


ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/app/0123456789abcdef"


def _edge_only_program(alb_dns_name=ALB):
    """Security + edge, with an ALB and a log bucket given: the wiring the full program gets later."""
    from components.config import load_settings
    from components.edge import EdgeTier, EdgeTierArgs
    from components.platform import platform_for
    from components.security import SecurityTier, SecurityTierArgs
    settings = load_settings()
    platform = platform_for(settings)
    sec = SecurityTier("security", SecurityTierArgs(platform=platform, settings=settings.security)).outputs
    # The application tier publishes its backend URL: http:// without an ALB certificate (dev's case).
    EdgeTier("edge", EdgeTierArgs(platform=platform, settings=settings.edge, logs_key_arn=sec.logs_key_arn,
                                  backend_url=f"http://{alb_dns_name}", log_bucket_name="logs-bucket",
                                  log_bucket_arn="arn:aws:s3:::logs-bucket", alb_arn=ALB_ARN,
                                  vpc_link_subnet_ids=["subnet-a", "subnet-b"], vpc_link_security_group_id="sg-link"))


@functools.cache
def eu_plan(alb_dns_name=ALB):
    config = {"aws:region": "eu-west-1",
              "ai-platform:platform": {"environment": "dev", "owner": "o", "costCenter": "c"},
              "ai-platform:edge": {"customDomain": "app.example.org", "hostedZoneId": "Z0123456789ABC"}}
    return program_with(config, stack="dev", preview=False,
                        program=functools.partial(_edge_only_program, alb_dns_name))


# --- site: bucket, OAC, distribution, bucket policy -------------------------------------------
def test_distribution_reads_the_site_bucket_through_oac():
    plan = stack_plan("dev", preview=False)
    dist = plan.named("site-distribution", DIST)
    oac = plan.named("site-oac")
    bucket = [r for r in edge_resources(plan) if r.type == "aws:s3/bucket:Bucket"][0]
    [origin] = dist.props["origins"]
    assert origin["originAccessControlId"] == oac.id
    assert origin["domainName"] == bucket.outputs["bucketRegionalDomainName"]
    assert "customOriginConfig" not in origin and "s3OriginConfig" not in origin
    assert {oac.urn, bucket.urn} <= set(dist.propertyDependencies["origins"])
    assert oac.props["signingBehavior"] == "always" and oac.props["signingProtocol"] == "sigv4"
    assert oac.props["originAccessControlOriginType"] == "s3"


def test_bucket_policy_grants_only_that_distribution_and_only_over_tls():
    plan = stack_plan("dev", preview=False)
    dist = plan.named("site-distribution", DIST)
    policy = plan.named("site-bucket-policy")
    bucket = [r for r in edge_resources(plan) if r.type == "aws:s3/bucket:Bucket"][0]
    doc = json.loads(policy.props["policy"])
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{"Sid": "CloudFrontOacRead", "Effect": "Allow",
                       "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                       "Resource": bucket.outputs["arn"] + "/*",
                       "Condition": {"StringEquals": {"AWS:SourceArn": dist.outputs["arn"]}}}]
    [deny] = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Principal"] == "*"
    assert dist.urn in policy.propertyDependencies["policy"]
    assert policy.props["bucket"] == bucket.id


def test_site_bucket_secure_defaults():
    plan = stack_plan("prod", preview=False)
    by_type = {r.type: r for r in edge_resources(plan)}
    pab = by_type["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"].props
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets"))
    assert by_type["aws:s3/bucketOwnershipControls:BucketOwnershipControls"].props["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}
    assert by_type["aws:s3/bucketVersioning:BucketVersioning"].props["versioningConfiguration"]["status"] == "Enabled"
    sse = by_type["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"].props
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert by_type["aws:s3/bucket:Bucket"].props["forceDestroy"] is False  # prod protects


def test_distribution_settings_dev_and_prod():
    for stack in ("dev", "prod"):
        plan = stack_plan(stack, preview=False)
        d = plan.named("site-distribution", DIST).props
        assert d["defaultRootObject"] == "index.html"
        assert sorted((e["errorCode"], e["responseCode"], e["responsePagePath"]) for e in d["customErrorResponses"]) == [
            (403, 200, "/index.html"), (404, 200, "/index.html")]
        b = d["defaultCacheBehavior"]
        assert b["viewerProtocolPolicy"] == "redirect-to-https" and b["compress"] is True
        assert b["responseHeadersPolicyId"] == plan.named("security-headers").id
        assert d["webAclId"] == out(plan, "waf-cloudfront")
    prod = stack_plan("prod", preview=False).named("site-distribution", DIST).props
    assert prod["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert prod["viewerCertificate"]["sslSupportMethod"] == "sni-only" and prod["aliases"] == ["app.example.com"]
    dev = stack_plan("dev", preview=False).named("site-distribution", DIST).props
    # honest: the default certificate pins TLSv1, and the plan says so rather than claiming TLSv1.2_2021
    assert dev["viewerCertificate"] == {"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1"}


def test_security_headers_policy():
    cfg = stack_plan("dev", preview=False).named("security-headers").props["securityHeadersConfig"]
    assert cfg["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31536000
    assert cfg["strictTransportSecurity"]["includeSubdomains"] is True
    assert cfg["frameOptions"]["frameOption"] == "DENY"
    assert cfg["contentTypeOptions"]["override"] is True
    assert cfg["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    assert cfg["xssProtection"] == {"protection": True, "modeBlock": True, "override": True}


def test_cloudfront_logs_v2_to_the_data_tier_log_bucket():
    plan = stack_plan("dev", preview=False)
    source = plan.named("site-access-log-source")
    dest = plan.named("site-access-log-destination")
    delivery = plan.named("site-access-log-delivery")
    assert source.props["logType"] == "ACCESS_LOGS"
    assert source.props["resourceArn"] == out(plan, "site-distribution", DIST)
    log_bucket_arn = plan.exports.get("logBucketArn") or plan.named("access-logs-bucket").outputs["arn"]
    assert dest.props["deliveryDestinationConfiguration"]["destinationResourceArn"] == log_bucket_arn
    assert delivery.props["deliverySourceName"] == source.props["name"]
    assert delivery.props["deliveryDestinationArn"] == dest.outputs["arn"]


# --- API ----------------------------------------------------------------------------------------
def test_every_api_method_uses_the_cognito_authorizer_except_preflight():
    plan = stack_plan("dev", preview=False)
    authorizer = plan.named("api-cognito-authorizer")
    assert authorizer.props["type"] == "COGNITO_USER_POOLS"
    assert authorizer.props["providerArns"] == [out(plan, "user-pool")]
    methods = [r for r in edge_resources(plan) if r.type == "aws:apigateway/method:Method"]
    # root and /{proxy+}, plus /<service> and /<service>/{proxy+} of the two streamed services: ANY and OPTIONS
    assert len(methods) == 12
    for m in methods:
        if m.props["httpMethod"] == "OPTIONS":
            assert m.props["authorization"] == "NONE"
        else:
            assert m.props["authorization"] == "COGNITO_USER_POOLS" and m.props["authorizerId"] == authorizer.id


def test_stage_logs_traces_throttles_and_is_behind_waf():
    for stack, (rate, burst) in (("dev", (50, 100)), ("prod", (500, 1000))):
        plan = stack_plan(stack, preview=False)
        stage = plan.named("api-stage")
        logs = plan.named("api-access-logs")
        assert stage.props["xrayTracingEnabled"] is True
        assert stage.props["accessLogSettings"]["destinationArn"] == logs.outputs["arn"]
        assert "$context.requestId" in json.loads(stage.props["accessLogSettings"]["format"]).values()
        assert logs.props["kmsKeyId"] == out(plan, "logs-key")
        settings = plan.named("api-method-settings").props
        assert settings["methodPath"] == "*/*"
        assert (settings["settings"]["throttlingRateLimit"], settings["settings"]["throttlingBurstLimit"]) == (rate, burst)
        assoc = plan.named("api-waf-association").props
        assert assoc["resourceArn"] == stage.outputs["arn"] and assoc["webAclArn"] == out(plan, "waf-api")
        # Execution logs (loggingLevel) land in the group API Gateway names after the API and stage: declared
        # first, encrypted, with a retention, before the settings that turn them on (issue 30).
        assert settings["settings"]["loggingLevel"] == "ERROR"
        execution = plan.named("api-execution-logs")
        api_id = plan.named("api", "aws:apigateway/restApi:RestApi").id
        assert execution.props["name"] == f"API-Gateway-Execution-Logs_{api_id}/{stage.props['stageName']}"
        assert execution.props["kmsKeyId"] == out(plan, "logs-key") and execution.props["retentionInDays"] > 0
        assert execution.urn in plan.named("api-method-settings").options["dependsOn"]


def _edge_without_alb_program():
    from components.config import load_settings
    from components.edge import EdgeTier, EdgeTierArgs
    from components.platform import platform_for
    from components.security import SecurityTier, SecurityTierArgs
    settings = load_settings()
    platform = platform_for(settings)
    sec = SecurityTier("security", SecurityTierArgs(platform=platform, settings=settings.security)).outputs
    EdgeTier("edge", EdgeTierArgs(platform=platform, settings=settings.edge, logs_key_arn=sec.logs_key_arn))


def test_without_alb_the_api_answers_from_a_mock():
    config = {"aws:region": "us-east-1", "ai-platform:platform": {"environment": "dev"}}
    plan = program_with(config, stack="dev", preview=False, program=_edge_without_alb_program)
    integrations = [r for r in edge_resources(plan) if r.type == "aws:apigateway/integration:Integration"]
    assert {i.props["type"] for i in integrations} == {"MOCK"}


def test_the_stack_proxies_the_api_to_its_alb_on_the_scheme_it_listens_on():
    # dev has no ALB certificate, hence no 443 listener: the API calls HTTP:80 on the ALB's AWS name. prod
    # calls HTTPS on the name its certificate covers: API Gateway verifies the certificate against it.
    for stack, scheme, port in (("dev", "http", 80), ("prod", "https", 443)):
        plan = stack_plan(stack, preview=False)
        proxy = plan.named("api-proxy-integration").props
        assert proxy["type"] == "HTTP_PROXY"
        dns = plan.named("alb", "aws:lb/loadBalancer:LoadBalancer").outputs["dnsName"]
        host = dns if stack == "dev" else "origin.app.example.com"
        assert proxy["uri"] == f"{scheme}://{host}/{{proxy}}"
        listener = plan.named("https" if scheme == "https" else "http", "aws:lb/listener:Listener").props
        assert listener["port"] == port and listener["protocol"] == scheme.upper()


def test_with_alb_the_api_proxies_to_it():
    plan = eu_plan()
    proxy = plan.named("api-proxy-integration").props
    assert proxy["type"] == "HTTP_PROXY" and proxy["integrationHttpMethod"] == "ANY"
    assert proxy["uri"] == f"http://{ALB}/{{proxy}}"  # dev settings: no ALB certificate
    assert proxy["requestParameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}
    assert plan.named("api-root-integration").props["uri"] == f"http://{ALB}/"


def test_a_new_alb_redeploys_the_api():
    """A deployment is a snapshot of the integrations: a replaced ALB (new DNS name) must produce a new
    deployment, or the stage keeps proxying to the deleted load balancer."""
    def trigger(plan):
        return plan.named("api-deployment").props["triggers"]["redeployment"]
    same, moved = eu_plan(), eu_plan("internal-app-456.eu-west-1.elb.amazonaws.com")
    assert moved.named("api-proxy-integration").props["uri"] != same.named("api-proxy-integration").props["uri"]
    assert trigger(same) != trigger(moved) and len(trigger(same)) == 64


# --- Cognito --------------------------------------------------------------------------------------
def primary_named(plan, name):
    """The primary region's resource of that name (the DR region's edge tier builds a standing pool too)."""
    [found] = [r for r in plan.resources if r.name == name and "ai-platform:dr:" not in r.urn]
    return found


def test_user_pool_dev_and_prod():
    dev = stack_plan("dev", preview=False).named("user-pool")
    prod = primary_named(stack_plan("prod", preview=False), "user-pool")
    for pool in (dev, prod):
        pp = pool.props["passwordPolicy"]
        assert pp["minimumLength"] >= 12 and all(pp[k] is True for k in (
            "requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"))
        assert pool.props["userPoolAddOns"] == {"advancedSecurityMode": "ENFORCED"}
        assert pool.props["userPoolTier"] == "PLUS"  # threat protection needs the Plus feature plan
        assert pool.props["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert dev.props["mfaConfiguration"] == "OPTIONAL" and prod.props["mfaConfiguration"] == "ON"
    assert dev.props["deletionProtection"] == "INACTIVE" and prod.props["deletionProtection"] == "ACTIVE"
    assert prod.options["protect"] is True and dev.options["protect"] is False


def test_spa_client_is_public_code_flow_with_config_urls():
    plan = stack_plan("prod", preview=False)
    c = primary_named(plan, "spa-client").props
    assert c["generateSecret"] is False and c["allowedOauthFlows"] == ["code"]
    assert c["allowedOauthFlowsUserPoolClient"] is True
    assert c["callbackUrls"] == ["https://app.example.com/auth/callback"]
    assert c["logoutUrls"] == ["https://app.example.com/"]
    assert c["preventUserExistenceErrors"] == "ENABLED" and c["userPoolId"] == primary_named(plan, "user-pool").id


# --- WAF ------------------------------------------------------------------------------------------
def test_both_acls_managed_groups_rate_limit_and_logging():
    plan = stack_plan("prod", preview=False)
    for key, scope in (("cloudfront", "CLOUDFRONT"), ("api", "REGIONAL")):
        acl = plan.named(f"waf-{key}", WAF)
        assert acl.props["scope"] == scope
        rules = {r["name"]: r for r in acl.props["rules"]}
        assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["limit"] == 2000
        assert "block" in rules["rate-limit-per-ip"]["action"]
        for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                      "AWSManagedRulesAmazonIpReputationList"):
            statement = dict(rules[group]["statement"]["managedRuleGroupStatement"])
            overrides = statement.pop("ruleActionOverrides", None)
            assert statement == {"vendorName": "AWS", "name": group}
            # issue 12: prompts and documents exceed 8 KB: the API counts SizeRestrictions_BODY, CloudFront does not
            # issue 25: and the body rules prompts trip count there too (blocked again outside the prompts routes)
            if key == "api" and group == "AWSManagedRulesCommonRuleSet":
                assert overrides == [{"name": name, "actionToUse": {"count": {}}} for name in (
                    "SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY",
                    "EC2MetaDataSSRF_BODY")]
            else:
                assert overrides is None
        assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in rules.values())
        # what CreateWebACL validates: unique priorities, metric names (1-128, [\w#:.\-/]), the window
        # the API adds the prompts routes' rules (issue 25): body rules outside them, body size per route, per user
        assert len({r["priority"] for r in acl.props["rules"]}) == len(acl.props["rules"]) == (
            4 if key == "cloudfront" else 8)
        metrics = [r["visibilityConfig"]["metricName"] for r in acl.props["rules"]] + [
            acl.props["visibilityConfig"]["metricName"]]
        assert all(re.fullmatch(r"[\w#:.\-/]{1,128}", m) for m in metrics) and len(set(metrics)) == len(metrics)
        assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["evaluationWindowSec"] in (60, 120, 300, 600)
        logs = plan.named(f"waf-{key}-logs")
        assert plan.named(f"waf-{key}-logging").propertyDependencies["logDestinationConfigs"] == [logs.urn]
        assert logs.props["name"].startswith("aws-waf-logs-")
        logging = plan.named(f"waf-{key}-logging").props
        assert logging["resourceArn"] == acl.outputs["arn"] and logging["logDestinationConfigs"] == [logs.outputs["arn"]]


# --- us-east-1 provider -----------------------------------------------------------------------------
def test_us_east_1_resources_use_the_us_east_1_provider_in_another_region():
    plan = eu_plan()
    assert plan.region == "eu-west-1"
    [provider] = [r for r in plan.resources if r.type == "pulumi:providers:aws"]
    assert provider.inputs["region"] == "us-east-1"
    global_names = {"waf-cloudfront", "waf-cloudfront-logs", "waf-cloudfront-logging", "global-logs-key"}
    resources = edge_resources(plan)
    for r in resources:
        if r.type in GLOBAL_ONLY or r.name in global_names:
            assert r.provider == provider.urn, r.name
        elif r.type != "pulumi:providers:aws":
            assert r.provider == "", r.name
    assert {r.type for r in resources if r.provider} >= set(GLOBAL_ONLY) | {WAF}
    # the us-east-1 WAF log group cannot use the eu-west-1 logs key
    assert plan.named("waf-cloudfront-logs").props["kmsKeyId"] == out(plan, "global-logs-key")
    assert plan.named("waf-api-logs").props["kmsKeyId"] == out(plan, "logs-key")
    # a certificate is created and validated for the custom domain, and used with TLSv1.2_2021
    viewer = plan.named("site-distribution", DIST).props["viewerCertificate"]
    assert viewer["acmCertificateArn"] == out(plan, "site-certificate")
    assert viewer["minimumProtocolVersion"] == "TLSv1.2_2021"


def test_edge_resources_are_tagged():
    from policies.rules.tags import taggable
    resources = [r for r in edge_resources(stack_plan("dev", preview=False)) if taggable(r.type)]
    assert len(resources) >= 10  # distribution, bucket, pool, ACLs, log groups, API, stage...
    for r in resources:
        if taggable(r.type):
            assert {"Project", "Environment", "ManagedBy", "Owner", "CostCenter"} <= set(r.props.get("tags", {})), r.name


def my_rules_analysis(plan):
    """Only this issue's rules (edge + messaging), at prod's mandatory level: fast, and the same SDK path."""
    from plan.analyze import analyze, build_servicer, configure
    from policies.rules import policies_of
    awsguard_configured = {"apigateway-endpoint-type", "apigateway-method-cached-and-encrypted", "apigateway-stage-cached"}
    servicer = build_servicer(policies=[p for p in policies_of("cloudfront", "apigateway", "cognito", "sqs", "sns",
                                                               "kinesis") if p.name not in awsguard_configured])
    configure(servicer, {"all": "mandatory"})
    return analyze(plan, servicer=servicer)


def test_prod_has_no_edge_or_messaging_violation_in_preview_or_update():
    for preview in (True, False):
        result = my_rules_analysis(stack_plan("prod", preview))
        assert result.violations == [], [v.message for v in result.violations]


def test_dev_reports_only_the_documented_advisories():
    result = my_rules_analysis(stack_plan("dev", False))
    assert sorted(v.policy for v in result.violations) == ["cloudfront-min-tls", "cognito-mfa-required"]


def test_cognito_domain_prefix_reserved_words_are_refused_at_plan_time():
    import pytest

    from components.config import ConfigError, load_settings
    for bad in ("my-aws-login", "cognito-app", "amazonish"):
        with pytest.raises(ConfigError) as err:
            load_settings({"platform": {"environment": "dev"}, "edge": {"authDomainPrefix": bad}},
                          stack="dev", region="us-east-1")
        assert err.value.path == "ai-platform:edge.authDomainPrefix"
    ok = load_settings({"platform": {"environment": "dev"}, "edge": {"authDomainPrefix": "acme-login"}},
                       stack="dev", region="us-east-1")
    assert ok.edge.auth_domain_prefix == "acme-login"


def test_the_api_gateway_account_setting_can_be_left_to_another_stack():
    """One CloudWatch role setting per account and region: a stack sharing the account can leave it alone."""
    config = {"aws:region": "us-east-1", "ai-platform:platform": {"environment": "dev"},
              "ai-platform:edge": {"manageApiGatewayAccount": False}}
    plan = program_with(config, stack="dev", preview=False, program=_edge_without_alb_program)
    assert plan.of_type("aws:apigateway/account:Account") == []
    assert [r for r in plan.resources if r.name == "apigateway-cloudwatch-role"] == []
    # issue 12: one owner per account and region, prod by default (destroying dev never stops prod's API logs)
    assert stack_plan("dev", preview=False).of_type("aws:apigateway/account:Account") == []
    default = stack_plan("prod", preview=False)
    [account] = default.of_type("aws:apigateway/account:Account")
    assert account.urn in default.named("api-stage", "aws:apigateway/stage:Stage").dependencies


# --- issue 12: the front door, CORS, dev sign-in ---------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_api_reaches_the_internal_alb_only_through_its_vpc_link(stack):
    plan = stack_plan(stack, preview=False)
    link = plan.named("api-vpc-link", "aws:apigatewayv2/vpcLink:VpcLink")
    assert link.props["securityGroupIds"] == [plan.named("vpclink-sg", "aws:ec2/securityGroup:SecurityGroup").id]
    assert link.props["subnetIds"] == plan.named("vpc", "awsx:ec2:Vpc").outputs["privateSubnetIds"]
    alb = plan.named("alb", "aws:lb/loadBalancer:LoadBalancer").outputs["arn"]
    for key in ("root", "proxy"):
        i = plan.named(f"api-{key}-integration").props
        assert (i["connectionType"], i["connectionId"], i["integrationTarget"]) == ("VPC_LINK", link.id, alb)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_gateway_responses_carry_cors_headers(stack):
    plan = stack_plan(stack, preview=False)
    origin = plan.named("api-proxy-options-200-integration").props["responseParameters"][
        "method.response.header.Access-Control-Allow-Origin"]
    for kind in ("default-4xx", "default-5xx"):
        r = plan.named(f"api-{kind}-cors", "aws:apigateway/response:Response")
        assert r.props["responseType"] == kind.upper().replace("-", "_")
        assert r.props["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == origin
        assert r.urn in plan.named("api-deployment").dependencies


def test_dev_spa_can_sign_in_from_its_cloudfront_origin():
    plan = stack_plan("dev", preview=False)
    domain = plan.named("site-distribution").outputs["domainName"]
    client = plan.named("spa-client").props
    assert f"https://{domain}/auth/callback" in client["callbackUrls"]
    assert "http://localhost:4200/auth/callback" in client["callbackUrls"]
    assert f"https://{domain}/" in client["logoutUrls"]
    # ... the origin the API's CORS admits
    origin = plan.named("api-proxy-options-200-integration").props["responseParameters"][
        "method.response.header.Access-Control-Allow-Origin"]
    assert origin == f"'https://{domain}'"


# --- the API part alone (the DR region's instance: components/platform.py::build_dr_region) ---------------------
def _api_only_program():
    from components.config import load_settings
    from components.edge import EdgeTier, EdgeTierArgs
    from components.platform import platform_for
    settings = load_settings()
    platform = platform_for(settings, instance="dr")
    EdgeTier("dr-edge", EdgeTierArgs(
        platform=platform, settings=settings.edge, logs_key_arn="arn:aws:kms:eu-west-1:123456789012:key/logs",
        api_only=True, backend_url="https://origin.app.example.org", alb_arn=ALB_ARN,
        vpc_link_subnet_ids=["subnet-a"], vpc_link_security_group_id="sg-link",
        user_pool_arns=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC"],
        site_url="https://app.example.org",
        apigateway_role_arn="arn:aws:iam::123456789012:role/apigw-logs"))


def test_api_only_builds_the_api_part_and_nothing_global():
    config = {"aws:region": "eu-west-1",
              "ai-platform:platform": {"environment": "dev", "owner": "o", "costCenter": "c"},
              "ai-platform:edge": {"manageApiGatewayAccount": True, "apiDomainName": "api.app.example.org", "apiCertificateArn":
                                   "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000009"}}
    plan = program_with(config, stack="dev", preview=False, program=_api_only_program)
    [tier] = [r for r in plan.resources if r.type == "ai-platform:dr:Edge"]
    kinds = {r.type for r in plan.resources if r.parent == tier.urn}
    assert not {t for t in kinds if t.startswith(("aws:cognito/", "aws:cloudfront/", "aws:s3/", "pulumi:providers"))}
    assert {"aws:apigateway/restApi:RestApi", "aws:apigateway/stage:Stage", "aws:apigateway/domainName:DomainName",
            "aws:apigateway/basePathMapping:BasePathMapping", WAF} <= kinds
    assert not plan.of_type("aws:iam/role:Role"), "the given logs role is reused (IAM is global)"
    assert plan.named("apigateway-account").props["cloudwatchRoleArn"] == "arn:aws:iam::123456789012:role/apigw-logs"
    assert plan.named("api-cognito-authorizer").props["providerArns"] == [
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC"]
    [acl] = plan.of_type(WAF)
    assert acl.props["scope"] == "REGIONAL"
    domain = plan.named("api-domain")
    assert domain.props["endpointConfiguration"]["types"] == "REGIONAL" and domain.props["securityPolicy"] == "TLS_1_2"
    assert plan.named("api-base-path").props["restApi"] == plan.named("api").id
    ir = [r for r in plan.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
          if r.props.get("httpMethod") == "OPTIONS"][0]
    assert ir.props["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == \
        "'https://app.example.org'"
