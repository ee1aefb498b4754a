"""The DR region's front door (issue 15): its API (the edge tier's API part with the DR provider) over the DR
load balancer, the site's CloudFront origin group on the DR replica, and DNS failover between the two APIs."""
from __future__ import annotations

import copy
import json

import pytest
from test_dr_tier import dr_provider, dr_side, prod_with
from test_fn_dr_failover import aws, built, world  # noqa: F401  (moto fixtures of the procedure tests)

from conftest import (
    API_CERT,
    DR_API_CERT,
    DR_POOL,
    NO_DR_DNS,
    NO_EDGE_DNS,
    PROD_STANDBY_ALTERNATIVES,
    prod_standby_alternatives,
    stack_analysis,
    stack_file_config,
    stack_plan,
)
from plan.engine import PlanError
from plan.flows.catalogue import build_flows
from plan.flows.model import Model

API_NAME = "api.example.com"      # Pulumi.prod.yaml's edge.apiDomainName
DIST = "aws:cloudfront/distribution:Distribution"
STAGE = "aws:apigateway/stage:Stage"
INTEGRATION = "aws:apigateway/integration:Integration"
LB = "aws:lb/loadBalancer:LoadBalancer"
BUCKET = "aws:s3/bucket:Bucket"
DOMAIN = "aws:apigateway/domainName:DomainName"
RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"


def sides(plan, token):
    """(primary-region, DR-region) resources of a type."""
    dr = {r.urn for r in dr_side(plan)}
    return ([r for r in plan.of_type(token) if r.urn not in dr], [r for r in plan.of_type(token) if r.urn in dr])


def under(plan, component_type: str) -> list:
    by_urn = plan.by_urn()

    def inside(r):
        while r is not None:
            if r.type == component_type:
                return True
            r = by_urn.get(r.parent)
        return False
    return [r for r in plan.resources if inside(r)]


# --- the DR API ------------------------------------------------------------------------------------------------------
def test_the_dr_api_is_the_edge_tiers_api_part_over_the_dr_load_balancer():
    plan = stack_plan("prod", preview=False)
    dr_edge = under(plan, "ai-platform:dr:Edge")
    provider = dr_provider(plan).urn
    assert dr_edge and all(r.provider == provider for r in dr_edge if r.provider and r.type.startswith("aws:"))
    kinds = {r.type for r in dr_edge}
    # the API part and the standing DR user pool: the site and CloudFront stay global / in the primary region
    assert not kinds & {DIST, BUCKET, "pulumi:providers:aws"}
    assert {"aws:apigateway/restApi:RestApi", STAGE, "aws:apigatewayv2/vpcLink:VpcLink",
            "aws:wafv2/webAclAssociation:WebAclAssociation"} <= kinds
    (primary_lb,), (dr_lb,) = sides(plan, LB)
    assert dr_lb.props["internal"] is True and primary_lb.props["internal"] is True
    integrations = [r for r in dr_edge if r.type == INTEGRATION and r.props["type"] == "HTTP_PROXY"]
    assert len(integrations) == 6   # root, /{proxy+}, and the streamed services' two routes each (issue 25)
    assert {i.props["integrationTarget"] for i in integrations} == {dr_lb.outputs["arn"]}
    assert {i.props["connectionType"] for i in integrations} == {"VPC_LINK"}
    [link] = [r for r in dr_edge if r.type == "aws:apigatewayv2/vpcLink:VpcLink"]
    groups = {r.name: r for r in dr_side(plan) if r.type == "aws:ec2/securityGroup:SecurityGroup"}
    assert link.props["securityGroupIds"] == [groups["vpclink-sg"].id]
    # the DR load balancer admits only the DR VPC link's group: no CIDR, no other group
    assert dr_lb.props["securityGroups"] == [groups["lb-sg"].id]
    ingress = [r for r in dr_side(plan) if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
               and r.props["securityGroupId"] == groups["lb-sg"].id]
    assert ingress and all(r.props.get("referencedSecurityGroupId") == groups["vpclink-sg"].id
                           and not r.props.get("cidrIpv4") for r in ingress)
    # the authorizer accepts the primary pool's tokens and the DR region's standing pool's (Cognito is regional:
    # docs/dr.md, sign-in without a `pulumi up` during the outage)
    [authorizer] = [r for r in dr_edge if r.type == "aws:apigateway/authorizer:Authorizer"]
    pools = plan.of_type("aws:cognito/userPool:UserPool")
    [dr_pool] = [r for r in pools if r in dr_edge]
    [primary_pool] = [r for r in pools if r not in dr_edge]
    assert authorizer.props["providerArns"] == [primary_pool.outputs["arn"], dr_pool.outputs["arn"]]
    # CORS for the primary's SPA origin, as the primary API answers it
    [primary_ir, dr_ir] = [[r for r in side if r.props.get("httpMethod") == "OPTIONS"][0] for side in
                           sides(plan, "aws:apigateway/integrationResponse:IntegrationResponse")]
    key = "method.response.header.Access-Control-Allow-Origin"
    assert dr_ir.props["responseParameters"][key] == primary_ir.props["responseParameters"][key] \
        == "'https://app.example.com'"


def test_the_dr_stage_logs_traces_and_sits_behind_the_dr_regions_waf():
    plan = stack_plan("prod", preview=False)
    [_], [stage] = sides(plan, STAGE)
    assert stage.props["xrayTracingEnabled"] is True
    [group] = [r for r in dr_side(plan) if r.type == "aws:cloudwatch/logGroup:LogGroup"
               and r.outputs.get("arn") == stage.props["accessLogSettings"]["destinationArn"]]
    assert group.props["kmsKeyId"] == plan.named("dr-logs-key").outputs["arn"]
    [assoc] = [r for r in dr_side(plan) if r.type == "aws:wafv2/webAclAssociation:WebAclAssociation"]
    assert assoc.props["resourceArn"] == stage.outputs["arn"]
    [acl] = [r for r in dr_side(plan) if r.type == "aws:wafv2/webAcl:WebAcl"]
    assert acl.props["scope"] == "REGIONAL" and assoc.props["webAclArn"] == acl.outputs["arn"]
    # the region's API Gateway account setting reuses the primary's logs role (IAM is global: one role)
    [_, dr_account] = sides(plan, "aws:apigateway/account:Account")
    [role] = plan.of_type("aws:iam/role:Role") and [r for r in plan.of_type("aws:iam/role:Role")
                                                    if r.name == "apigateway-cloudwatch-role"]
    assert dr_account[0].props["cloudwatchRoleArn"] == role.outputs["arn"]


@pytest.mark.parametrize("preview", [True, False])
def test_the_dr_api_satisfies_the_pack(preview):
    analysis = stack_analysis("prod", preview=preview)
    assert analysis.mandatory == []
    plan = stack_plan("prod", preview=preview)
    dr_edge = {r.urn for r in under(plan, "ai-platform:dr:Edge")}
    mine = [v for v in analysis.violations if v.urn in dr_edge]
    # like the primary stage: no cache cluster (advisory, billed per hour), nothing else
    assert {v.policy for v in mine} <= {"apigateway-stage-cached"}


# --- the site: origin group on the DR replica ----------------------------------------------------------------------
def test_cloudfront_fails_over_to_the_dr_replica_of_the_site_through_oac():
    plan = stack_plan("prod", preview=False)
    dist = plan.named("site-distribution", DIST)
    oac = plan.named("site-oac")
    primary_origin, dr_origin = dist.props["origins"]
    [replica] = [r for r in dr_side(plan) if r.type == BUCKET and r.props["tags"].get("ReplicaOf") == "site"]
    assert dr_origin["domainName"] == replica.outputs["bucketRegionalDomainName"]
    assert primary_origin["originAccessControlId"] == dr_origin["originAccessControlId"] == oac.id
    [group] = dist.props["originGroups"]
    assert [m["originId"] for m in group["members"]] == [primary_origin["originId"], dr_origin["originId"]]
    assert group["failoverCriteria"]["statusCodes"] == [500, 502, 503, 504]
    assert dist.props["defaultCacheBehavior"]["targetOriginId"] == group["originId"]
    # the replica: SSE-S3 like its source (OAC reads it without a KMS grant), readable by this distribution only
    sse = [r for r in dr_side(plan) if r.type.endswith("BucketServerSideEncryptionConfiguration")
           and r.props["bucket"] == replica.id]
    assert sse[0].props["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    [policy] = [r for r in dr_side(plan) if r.type == "aws:s3/bucketPolicy:BucketPolicy"
                and r.props["bucket"] == replica.id]
    [read] = [s for s in json.loads(policy.props["policy"])["Statement"] if s["Sid"] == "CloudFrontOacRead"]
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == dist.outputs["arn"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    # replicated by the DR tier's recipe, without the KMS settings S3 would reject for SSE-S3 objects
    [site] = [r for r in plan.of_type(BUCKET) if r.props.get("tags", {}).get("Purpose") == "spa"]
    [config] = [r for r in plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
                if r.props["bucket"] == site.outputs["bucket"]]
    [rule] = config.props["rules"]
    assert rule["destination"]["bucket"] == replica.outputs["arn"]
    # (no KMS criterion; replica modification sync only: the site is two-way like the data buckets)
    assert "encryptionConfiguration" not in rule["destination"]
    assert rule["sourceSelectionCriteria"] == {"replicaModifications": {"status": "Enabled"}}


def test_without_a_dr_region_the_site_has_one_origin():
    dist = stack_plan("dev", preview=False).named("site-distribution", DIST)
    assert len(dist.props["origins"]) == 1 and not dist.props.get("originGroups")
    assert dist.props["defaultCacheBehavior"]["targetOriginId"] == dist.props["origins"][0]["originId"]


def test_the_spa_may_call_the_dr_regions_api_and_cognito():
    def csp(stack):
        cfg = stack_plan(stack, preview=False).named("security-headers").props["securityHeadersConfig"]
        return cfg["contentSecurityPolicy"]["contentSecurityPolicy"]
    # prod names its API by its own name (DNS failover moves it between the regions), never `*.execute-api`
    assert "https://api.example.com" in csp("prod") and "*.execute-api" not in csp("prod")
    assert "https://cognito-idp.us-west-2.amazonaws.com" in csp("prod")
    assert "us-west-2" not in csp("dev")
    # without a name for the API, the DR region's execute-api host cannot be known here: a wildcard of that region
    # (prod's DNS settings unset in conftest.PROD_STANDBY_ALTERNATIVES: the same front door in both standing modes)
    cfg = prod_standby_alternatives().named("security-headers").props
    assert "https://*.execute-api.us-west-2.amazonaws.com" in \
        cfg["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"]


# --- DNS -------------------------------------------------------------------------------------------------------------
def test_failover_records_move_the_api_name_between_the_api_custom_domains():
    """prod as configured (Pulumi.prod.yaml: the API's name api.example.com in a zone, a certificate in each region;
    API_CERT and DR_API_CERT are its values)."""
    from functions.dr_failover.manifest import parse
    plan = stack_plan("prod", preview=False)
    edge, dr = (stack_file_config("prod")[1][f"ai-platform:{s}"] for s in ("edge", "dr"))
    assert (edge["apiDomainName"], edge["apiCertificateArn"], dr["apiCertificateArn"]) == (API_NAME, API_CERT,
                                                                                          DR_API_CERT)
    assert dr["hostedZoneId"]
    (primary_domain,), (dr_domain,) = sides(plan, DOMAIN)
    assert primary_domain.props["regionalCertificateArn"] == API_CERT
    assert dr_domain.props["regionalCertificateArn"] == DR_API_CERT
    assert {d.props["securityPolicy"] for d in (primary_domain, dr_domain)} == {"TLS_1_2"}
    records = {r.props["failoverRoutingPolicies"][0]["type"]: r for r in plan.of_type(RECORD)
               if r.props.get("failoverRoutingPolicies")}
    assert {r.props["name"] for r in records.values()} == {API_NAME}
    for role, domain in (("PRIMARY", primary_domain), ("SECONDARY", dr_domain)):
        alias = records[role].props["aliases"][0]
        assert (alias["name"], alias["zoneId"]) == (domain.outputs["regionalDomainName"],
                                                   domain.outputs["regionalZoneId"])
    lbs = {lb.outputs["dnsName"] for lb in plan.of_type(LB)}
    assert not {r.props["aliases"][0]["name"] for r in records.values()} & lbs, "never a load balancer"
    # the primary's health: healthy only while both its API's 5xx alarm and the region's liveness are (CALCULATED)
    [region] = [c for c in plan.of_type(CHECK) if c.props["type"] == "CALCULATED"]
    children = {c.id: c for c in plan.of_type(CHECK) if c.props["type"] == "CLOUDWATCH_METRIC"}
    assert sorted(region.props["childHealthchecks"]) == sorted(children) and len(children) == 2
    assert region.props["childHealthThreshold"] == 2
    primary_alarms, dr_alarms = sides(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
    by_name = {a.props["name"]: a for a in primary_alarms}
    [check] = [c for c in children.values() if by_name[c.props["cloudwatchAlarmName"]].props.get("metricName")]
    [live] = [c for c in children.values() if c is not check]
    alarm = by_name[check.props["cloudwatchAlarmName"]]
    # a region that emits no metrics is unhealthy: the liveness alarm counts the ECS services' CPU samples and
    # treats missing data as breaching (the 5xx alarm alone reads "no data" as "no errors")
    liveness = by_name[live.props["cloudwatchAlarmName"]]
    assert liveness.props["treatMissingData"] == "breaching" and liveness.props["comparisonOperator"] == "LessThanThreshold"
    samples = [q["metric"] for q in liveness.props["metricQueries"] if q.get("metric")]
    assert {(q["namespace"], q["metricName"], q["stat"]) for q in samples} == {("AWS/ECS", "CPUUtilization", "SampleCount")}
    assert {q["dimensions"]["ServiceName"] for q in samples} == {
        s.props["name"] for s in sides(plan, "aws:ecs/service:Service")[0]}
    assert (live.props["cloudwatchAlarmRegion"], live.props["insufficientDataHealthStatus"]) == ("us-east-1", "Unhealthy")
    [primary_api] = sides(plan, "aws:apigateway/restApi:RestApi")[0]
    assert (alarm.props["namespace"], alarm.props["metricName"]) == ("AWS/ApiGateway", "5XXError")
    assert alarm.props["dimensions"]["ApiName"] == primary_api.outputs["name"]
    assert alarm.props["treatMissingData"] == "notBreaching"   # an idle API is healthy
    assert alarm.urn in check.propertyDependencies["cloudwatchAlarmName"]   # created after the alarm exists
    # the DR API has the same alarm in its region (its health once it serves)
    assert [a for a in dr_alarms if a.props["name"] == alarm.props["name"]]
    assert (check.props["type"], check.props["cloudwatchAlarmRegion"], check.props["insufficientDataHealthStatus"]) \
        == ("CLOUDWATCH_METRIC", "us-east-1", "Unhealthy")
    assert records["PRIMARY"].props["healthCheckId"] == region.id and "healthCheckId" not in records["SECONDARY"].props
    m = parse(plan.exports["drManifest"])
    assert m.health_check_ids == (region.id,) and m.records == ({"name": API_NAME, "type": "A"},)
    assert m.api_domain_name == API_NAME
    assert stack_analysis("prod", preview=False).mandatory == []


ZONE = "Z0123456789ABCDEFGHIJ"
# prod's DNS settings unset (prod configures DNS failover by default): conftest.NO_EDGE_DNS, NO_DR_DNS
assert PROD_STANDBY_ALTERNATIVES["ai-platform:edge"] == NO_EDGE_DNS
assert {k: PROD_STANDBY_ALTERNATIVES["ai-platform:dr"][k] for k in NO_DR_DNS} == NO_DR_DNS


@pytest.mark.parametrize("edge, dr, key", [
    ({}, {"hostedZoneId": ZONE}, r"dr\.hostedZoneId"),
    ({"apiDomainName": "api.app.example.com", "apiCertificateArn": API_CERT}, {}, r"dr\.apiCertificateArn"),
    ({"apiDomainName": "api.app.example.com", "apiCertificateArn": DR_API_CERT}, {"apiCertificateArn": DR_API_CERT},
     r"edge\.apiCertificateArn"),
    ({"apiDomainName": "api.app.example.com", "apiCertificateArn": API_CERT}, {"apiCertificateArn": API_CERT},
     r"dr\.apiCertificateArn"),
    ({"apiDomainName": "api.app.example.com"}, {}, r"edge\.apiCertificateArn"),
])
def test_dns_settings_that_cannot_work_are_one_config_error(edge, dr, key):
    with pytest.raises(PlanError, match=key):
        prod_with("pilot-light", extra=json.dumps({"ai-platform:edge": {**NO_EDGE_DNS, **edge},
                                                   "ai-platform:dr": {**NO_DR_DNS, **dr}}))


def test_prod_moves_clients_by_dns_by_default():
    """Issue 26: prod as configured has the failover records and the health check the procedure inverts (its
    zone and names are placeholders like its certificates); without them no client moves in an outage."""
    from functions.dr_failover.manifest import parse
    plan = stack_plan("prod", preview=False)
    records = [r for r in plan.of_type(RECORD) if r.props.get("failoverRoutingPolicies")]
    assert {r.props["failoverRoutingPolicies"][0]["type"] for r in records} == {"PRIMARY", "SECONDARY"}
    m = parse(plan.exports["drManifest"])
    assert m.health_check_ids and m.api_domain_name == "api.example.com"


def test_without_a_zone_the_manifest_says_where_clients_go():
    from functions.dr_failover.manifest import parse
    plan = prod_standby_alternatives()   # conftest.PROD_STANDBY_ALTERNATIVES: no DNS settings (warm-standby)
    assert not plan.of_type(CHECK) and not [r for r in plan.of_type(RECORD) if r.props.get("failoverRoutingPolicies")]
    (primary_stage,), (dr_stage,) = sides(plan, STAGE)
    m = parse(plan.exports["drManifest"])
    assert m.api_endpoints == {"primary": primary_stage.outputs["invokeUrl"], "dr": dr_stage.outputs["invokeUrl"]}
    assert ".us-west-2." in m.api_endpoints["dr"] and m.health_check_ids == () and m.api_domain_name is None


# --- flows -----------------------------------------------------------------------------------------------------------
def flows(plan):
    return build_flows(plan)


def the(table, source, target):
    hits = [f for f in table if f.source == source and f.target.startswith(target)]
    assert len(hits) == 1, [(f.source, f.target) for f in table if target[:12] in f.target]
    return hits[0]


DR_API = "API ai-platform-prod-api stage v1 (DR us-west-2)"
DR_LB = "load balancer ai-platform-prod-app (DR us-west-2)"
DR_SITE = "site bucket ai-platform-prod-dr-site-123456789012-us-west-2"


def test_flows_internet_reaches_the_dr_api_and_only_through_it_the_dr_load_balancer():
    table = flows(stack_plan("prod", preview=False))
    api = the(table, "internet", DR_API)
    assert api.ok and api.verdict.allowed is True and "web ACL" in api.verdict.reason
    direct = the(table, "internet", DR_LB)
    assert direct.expected == "deny" and direct.ok and "internal" in direct.verdict.reason
    proxied = [f for f in table if f.target == DR_LB and f.source.startswith("API ")]
    assert len(proxied) == 6 and all(f.ok and f.verdict.allowed for f in proxied)
    assert the(table, "CloudFront ai-platform-prod SPA", DR_SITE).verdict.allowed is True


def mutated(mutate):
    plan = copy.deepcopy(stack_plan("prod", preview=False))
    mutate(plan, Model(plan))
    return flows(plan)


def test_flows_a_dr_stage_without_its_web_acl_is_not_as_intended():
    def drop(plan, m):
        dr = {r.urn for r in dr_side(plan)}
        plan.resources[:] = [r for r in plan.resources
                             if not (r.type == "aws:wafv2/webAclAssociation:WebAclAssociation" and r.urn in dr)]
    f = the(mutated(drop), "internet", DR_API)
    assert not f.ok and f.verdict.allowed is False and "no web ACL" in f.verdict.reason


def test_flows_a_dr_api_method_without_the_authorizer_is_not_as_intended():
    def open_(plan, m):
        for r in dr_side(plan):
            if r.type == "aws:apigateway/method:Method" and r.props.get("httpMethod") == "ANY":
                r.inputs["authorization"] = "NONE"
                r.outputs["authorization"] = "NONE"
    f = the(mutated(open_), "internet", DR_API)
    assert f.verdict.allowed is False and "without an authorizer" in f.verdict.reason


def test_flows_a_dr_site_replica_that_does_not_admit_the_distribution_is_red():
    def drop(plan, m):
        for r in dr_side(plan):
            if r.type == "aws:s3/bucketPolicy:BucketPolicy" and "CloudFrontOacRead" in r.inputs["policy"]:
                doc = json.loads(r.inputs["policy"])
                doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != "CloudFrontOacRead"]
                r.inputs["policy"] = r.outputs["policy"] = json.dumps(doc)
    f = the(mutated(drop), "CloudFront ai-platform-prod SPA", DR_SITE)
    assert f.verdict.allowed is False and "no statement" in f.verdict.reason


def test_flows_a_failover_record_on_a_load_balancer_is_red():
    base = stack_plan("prod", preview=False)   # prod's failover records (Pulumi.prod.yaml)
    ok = [f for f in flows(base) if f.source.startswith(f"DNS {API_NAME}")]
    assert len(ok) == 2 and all(f.ok for f in ok)
    plan = copy.deepcopy(base)
    _, (dr_lb,) = sides(plan, LB)
    for r in plan.of_type(RECORD):
        if (r.props.get("failoverRoutingPolicies") or [{}])[0].get("type") == "SECONDARY":
            alias = [{**r.inputs["aliases"][0], "name": dr_lb.outputs["dnsName"]}]
            r.inputs["aliases"] = alias
            r.outputs["aliases"] = alias
    [bad] = [f for f in flows(plan) if f.source == f"DNS {API_NAME} (SECONDARY)"]
    assert not bad.ok and "bypasses the API" in bad.verdict.reason


# --- the procedure's DNS step without a zone -------------------------------------------------------------------------
@pytest.mark.xdist_group("moto")   # moto's world: on the worker that runs the moto tests (test_fn_dr_failover)
def test_without_records_the_dns_step_names_the_dr_api(world):  # noqa: F811  (the imported fixture)
    from test_fn_dr_failover import DR, cli, execute
    manifest = {k: v for k, v in world.manifest.items() if k not in ("hostedZoneId", "records")}
    manifest |= {"healthCheckIds": [], "apiEndpoints": {
        "primary": "https://abc.execute-api.us-east-1.amazonaws.com/v1",
        "dr": "https://def.execute-api.us-west-2.amazonaws.com/v1"}}
    world.path.write_text(json.dumps(manifest))
    gateway = world.c("apigateway", DR)   # the DR API, its authorizer accepting the DR pool (preflight checks it)
    gateway.create_rest_api(name="api", tags={"_custom_id_": "def"})
    gateway.create_authorizer(restApiId="def", name="cognito", type="COGNITO_USER_POOLS", providerARNs=[
        f"arn:aws:cognito-idp:{DR}:123456789012:userpool/{manifest['userPoolIds']['dr']}"])
    plan = cli(world, "plan")
    assert plan.code == 0 and "clients must be pointed at the DR API https://def.execute-api.us-west-2" in plan.out
    r = execute(world)
    assert r.code == 0, r.out + r.err
    step = json.loads(world.state.read_text())["operations"]["failover"]["steps"]["move-dns"]
    assert step["status"] == "done" and manifest["drRegion"] == DR
    assert step["detail"]["clientsGoTo"] == "https://def.execute-api.us-west-2.amazonaws.com/v1"
    assert step["detail"]["changed"] == []


def test_a_dr_user_pool_is_accepted_by_the_dr_api_only():
    pool = DR_POOL
    plan = prod_standby_alternatives()   # conftest.PROD_STANDBY_ALTERNATIVES: dr.userPoolArn given
    assert PROD_STANDBY_ALTERNATIVES["ai-platform:dr"]["userPoolArn"] == pool
    (primary,), (dr,) = sides(plan, "aws:apigateway/authorizer:Authorizer")
    (primary_pool,), (standing,) = ([r.outputs["arn"] for r in side]
                                    for side in sides(plan, "aws:cognito/userPool:UserPool"))
    assert dr.props["providerArns"] == [primary_pool, pool, standing] and primary.props["providerArns"] == [primary_pool]
    with pytest.raises(PlanError, match=r"dr\.userPoolArn"):
        prod_with("pilot-light", extra=json.dumps({"ai-platform:dr": {"userPoolArn": pool.replace("us-west-2", "us-east-1", 1)}}))


def test_the_dr_region_has_a_standing_user_pool_built_like_the_primarys_and_its_authorizer_accepts_it():
    """Issue 26 (sign-in): the DR pool is built by the stack by the edge tier's own pool block, so its settings are
    the primary's (MFA, password policy, admin-only sign-up, threat protection, deletion protection in prod); the
    DR API's authorizer names it; its SPA client mirrors the primary's. Break test: an authorizer without a pool in
    its own region (the state before: only the us-east-1 pool) is caught here."""
    plan = stack_plan("prod", preview=False)
    dr_edge = under(plan, "ai-platform:dr:Edge")
    pools = plan.of_type("aws:cognito/userPool:UserPool")
    [dr_pool] = [r for r in pools if r in dr_edge]
    [primary_pool] = [r for r in pools if r not in dr_edge]
    assert dr_pool.provider == dr_provider(plan).urn and dr_pool.outputs["arn"].split(":")[3] == "us-west-2"
    same = ("passwordPolicy", "mfaConfiguration", "adminCreateUserConfig", "userPoolAddOns", "usernameAttributes",
            "accountRecoverySetting", "deletionProtection", "userPoolTier", "softwareTokenMfaConfiguration")
    assert {k: dr_pool.props.get(k) for k in same} == {k: primary_pool.props.get(k) for k in same}
    assert dr_pool.props["deletionProtection"] == "ACTIVE" and dr_pool.options["protect"] is True
    [authorizer] = [r for r in dr_edge if r.type == "aws:apigateway/authorizer:Authorizer"]
    in_region = [a for a in authorizer.props["providerArns"] if ":us-west-2:" in a]
    assert in_region == [dr_pool.outputs["arn"]], "the DR API's authorizer accepts no pool of its own region"
    clients = plan.of_type("aws:cognito/userPoolClient:UserPoolClient")
    [dr_client] = [c for c in clients if c in dr_edge]
    [primary_client] = [c for c in clients if c not in dr_edge]
    keys = ("allowedOauthFlows", "allowedOauthScopes", "explicitAuthFlows", "generateSecret", "callbackUrls")
    assert {k: dr_client.props.get(k) for k in keys} == {k: primary_client.props.get(k) for k in keys}
