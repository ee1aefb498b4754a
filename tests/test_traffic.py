"""issue 25: AI traffic end to end. Routes of their own for streamed and long answers, binary media types, the
load balancer's idle timeout above every route's timeout, and the keep-alive the containers are told to keep."""
from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load_settings
from conftest import primary_plan

INTEGRATION = "aws:apigateway/integration:Integration"
BASE = {"platform": {"environment": "dev"}}


def settings(**tiers):
    return load_settings({**BASE, **tiers}, stack="dev", region="us-east-1")


def error(**tiers) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        settings(**tiers)
    return exc.value


def integrations(plan) -> dict:
    return {r.name: r.props for r in plan.resources if r.type == INTEGRATION and r.props.get("type") == "HTTP_PROXY"}


def test_catalogue_streams_the_model_services_and_buffers_the_rest():
    app = settings().application
    routes = {svc.name: svc.settings.route for svc in app.catalogue()}
    assert {n for n, r in routes.items() if r.response == "STREAM"} == {"conversational", "code"}
    assert routes["code"].timeout_seconds == 900 and routes["code"].prompts is True
    assert routes["search"].response == "BUFFERED" and routes["search"].timeout_seconds == 29
    assert "application/pdf" in routes["document-extraction"].binary_media_types
    # a stack entry overrides one key and keeps the catalogue's others
    app = settings(application={"services": {"code": {"route": {"timeoutSeconds": 300}}}}).application
    code = next(s for s in app.catalogue() if s.name == "code").settings.route
    assert (code.response, code.timeout_seconds, code.prompts) == ("STREAM", 300, True)
    assert app.alb_idle_timeout() == 930   # conversational still streams 900 s


@pytest.mark.parametrize("application, path, accepted", [
    ({"services": {"search": {"route": {"timeoutSeconds": 120}}}},
     "ai-platform:application.services.search.route.timeoutSeconds", "response STREAM"),
    ({"services": {"code": {"route": {"timeoutSeconds": 901}}}},
     "ai-platform:application.services.code.route.timeoutSeconds", "<= 900"),
    ({"services": {"code": {"route": {"response": "CHUNKED"}}}},
     "ai-platform:application.services.code.route.response", "'STREAM'"),
    ({"alb": {"idleTimeout": 300}}, "ai-platform:application.alb.idleTimeout", "route timeout of service conversational"),
    ({"services": {"code": {"pathPattern": "/api/*/code"}}}, "ai-platform:application.services.code.pathPattern",
     "literal first path segment"),
    ({"services": {"code": {"route": {"binaryMediaTypes": ["pdf"]}}}},
     "ai-platform:application.services.code.route.binaryMediaTypes[0]", "media type"),
])
def test_bad_routes_are_one_line_naming_the_key(application, path, accepted):
    exc = error(application=application)
    assert exc.path == path and accepted in str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_streamed_routes_reach_the_api_with_their_timeouts(stack):
    plan = primary_plan(stack, False)
    integ = integrations(plan)
    for service in ("conversational", "code"):
        for key in (f"api-{service}-integration", f"api-{service}-proxy-integration"):
            assert integ[key]["responseTransferMode"] == "STREAM" and integ[key]["timeoutMilliseconds"] == 900_000
        assert integ[f"api-{service}-proxy-integration"]["uri"].endswith(f"/{service}/{{proxy}}")
    # everything else: the shared, buffered 29 s routes, explicitly BUFFERED
    for key in ("api-root-integration", "api-proxy-integration"):
        assert integ[key]["responseTransferMode"] == "BUFFERED" and integ[key]["timeoutMilliseconds"] == 29_000
    api = plan.named("api", "aws:apigateway/restApi:RestApi")
    assert {"application/pdf", "image/*"} <= set(api.props["binaryMediaTypes"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_idle_timeouts_cover_the_longest_route(stack):
    plan = primary_plan(stack, False)
    alb = plan.named("alb", "aws:lb/loadBalancer:LoadBalancer")
    longest = max(p["timeoutMilliseconds"] for p in integrations(plan).values()) // 1000
    assert alb.props["idleTimeout"] > longest
    task = plan.named("code-task", "aws:ecs/taskDefinition:TaskDefinition")
    env = {e["name"]: e["value"] for e in json.loads(task.props["containerDefinitions"])[0]["environment"]}
    assert env["RESPONSE_MODE"] == "STREAM" and env["REQUEST_TIMEOUT_SECONDS"] == "900"
    assert int(env["KEEPALIVE_TIMEOUT_SECONDS"]) > alb.props["idleTimeout"]


# --- the WAF: body rules counted on the prompts routes only, compensated -----------------------------------------
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
BODY_RULES = {"CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"}


def aws_shape(value):
    """A recorded (camelCase) WAF input in the WAF API's own spelling (PascalCase), for botocore's validator."""
    rename = {"CloudwatchMetricsEnabled": "CloudWatchMetricsEnabled"}
    if isinstance(value, list):
        return [aws_shape(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = k[:1].upper() + k[1:]
            out[rename.get(key, key)] = aws_shape(v)
        return out
    return value


def counted(rule) -> set:
    group = rule["statement"]["managedRuleGroupStatement"]
    return {o["name"] for o in group.get("ruleActionOverrides") or [] if "count" in o["actionToUse"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_api_acl_counts_body_rules_only_on_prompt_routes_and_compensates(stack):
    import botocore.session
    from botocore.validate import ParamValidator
    plan = primary_plan(stack, False)
    api_acl, cf_acl = plan.named("waf-api", WEB_ACL).props, plan.named("waf-cloudfront", WEB_ACL).props
    rules = {r["name"]: r for r in api_acl["rules"]}
    assert BODY_RULES <= counted(rules["AWSManagedRulesCommonRuleSet"])
    # the CloudFront ACL (the site) keeps every body rule blocking
    assert not BODY_RULES & counted({r["name"]: r for r in cf_acl["rules"]}["AWSManagedRulesCommonRuleSet"])
    block = rules["core-body-rules-outside-prompt-routes"]
    assert block["action"] == {"block": {}} and block["priority"] > rules["AWSManagedRulesCommonRuleSet"]["priority"]
    labels = {s["labelMatchStatement"]["key"] for s in
              block["statement"]["andStatement"]["statements"][0]["orStatement"]["statements"]}
    assert labels == {f"awswaf:managed:aws:core-rule-set:{r[:-5]}_Body" for r in BODY_RULES}
    regex = block["statement"]["andStatement"]["statements"][1]["notStatement"]["statement"]["regexMatchStatement"]
    assert regex["regexString"] == "^(/v1)?/(code|conversational)(/.*)?$"
    size = rules["body-size-code"]["statement"]["andStatement"]["statements"][1]["sizeConstraintStatement"]
    assert size["size"] == 64 * 1024 and size["fieldToMatch"] == {"body": {"oversizeHandling": "MATCH"}}
    assert api_acl["associationConfig"] == {"requestBodies": [{"apiGateway": {"defaultSizeInspectionLimit": "KB_64"}}]}
    per_user = rules["rate-limit-per-user"]["statement"]["rateBasedStatement"]
    assert per_user["customKeys"][0]["header"]["name"] == "authorization" and per_user["limit"] == 300
    # the rules are what the WAF API accepts (botocore's model of CreateWebACL)
    model = botocore.session.get_session().get_service_model("wafv2").operation_model("CreateWebACL")
    params = {"Name": api_acl["name"], "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
              "VisibilityConfig": aws_shape(api_acl["visibilityConfig"]), "Rules": aws_shape(api_acl["rules"]),
              "AssociationConfig": {"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}}}
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


def test_each_own_route_has_its_5xx_and_latency_alarms_to_the_warnings_topic():
    plan = primary_plan("prod", False)
    topic = plan.named("topic-warnings", "aws:sns/topic:Topic")   # a warning: informs, never pages
    for service in ("conversational", "code"):
        five = plan.named(f"api-{service}-5xx-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm").props
        assert five["metricName"] == "5XXError" and five["dimensions"]["Resource"] == f"/{service}/{{proxy+}}"
        latency = plan.named(f"api-{service}-latency-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm").props
        assert latency["threshold"] == 0.9 * 900_000 and latency["extendedStatistic"] == "p99"
        assert five["alarmActions"] == latency["alarmActions"] == [topic.outputs["arn"]]


# --- direct uploads: the owning service presigns, the bucket admits the site only, the CSP lets the browser PUT ---
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_documents_upload_straight_to_s3_from_the_site_only(stack):
    plan = primary_plan(stack, False)
    bucket = plan.named("documents-bucket", "aws:s3/bucket:Bucket").props["bucket"]
    dist = plan.named("site-distribution", "aws:cloudfront/distribution:Distribution")
    origin = f"https://{(dist.props.get('aliases') or [dist.outputs['domainName']])[0]}"
    [cors] = [r for r in plan.resources if r.type == "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"]
    assert cors.props["bucket"] == bucket
    [rule] = cors.props["corsRules"]
    assert rule["allowedOrigins"] == [origin] and rule["allowedMethods"] == ["PUT"] and rule["exposeHeaders"] == ["ETag"]
    csp = plan.named("security-headers").props["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"]
    assert f"https://{bucket}.s3.us-east-1.amazonaws.com" in csp.split("connect-src", 1)[1].split(";")[0]
    # exactly the grants a multipart upload under uploads/ needs, on the issuing service only
    doc = json.loads(plan.named("document-extraction-task-policy").props["policy"])
    [issue] = [st for st in doc["Statement"] if st["Sid"] == "IssueUploads"]
    assert issue["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    assert issue["Resource"] == [f"arn:aws:s3:::{bucket}/uploads/*"]
    key = next(st for st in doc["Statement"] if st["Sid"] == "BucketObjectsKey")
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= set(key["Action"])
    others = [r for r in plan.resources if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name.endswith("-task-policy")
              and r.name != "document-extraction-task-policy"]
    assert others and not any("IssueUploads" in r.props["policy"] for r in others)
    task = plan.named("document-extraction-task", "aws:ecs/taskDefinition:TaskDefinition")
    env = {e["name"]: e["value"] for e in json.loads(task.props["containerDefinitions"])[0]["environment"]}
    assert env["UPLOADS_DOCUMENTS_ARN"] == f"arn:aws:s3:::{bucket}" and env["UPLOAD_PREFIX"] == "uploads/"
    assert 5 <= int(env["UPLOAD_PART_SIZE_MB"]) <= 5 * 1024


def test_an_upload_bucket_must_be_a_data_tier_bucket():
    exc = error(application={"services": {"code": {"uses": {"uploads": ["photos"]}}}})
    assert exc.path == "ai-platform:application.services.code.uses.uploads" and "the data tier's buckets" in str(exc)


# --- Bedrock: model ids and inference-profile ids ------------------------------------------------------------------
PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.mark.parametrize("models, region, path, accepted", [
    (["anthropic"], "us-east-1", "ai-platform:application.services.code.uses.models[1]", "inference-profile id"),
    (["use.anthropic.claude-3-5-haiku-20241022-v1:0"], "us-east-1",
     "ai-platform:application.services.code.uses.models[1]", "prefix us, us-gov"),
    ([PROFILE], "eu-west-1", "ai-platform:application.services.code.uses.models[1]", "geography"),
])
def test_bad_model_ids_are_one_line_naming_the_key(models, region, path, accepted):
    with pytest.raises(ConfigError) as exc:
        load_settings({**BASE, "application": {"services": {"code": {"uses": {"models": models}}}}}, stack="dev",
                      region=region)
    assert exc.value.path == path and accepted in str(exc.value) and "\n" not in str(exc.value)
    # model ids and profile ids of every geography are accepted where they may be called from
    load_settings({**BASE, "application": {"services": {"code": {"uses": {"models": [
        "eu.anthropic.claude-3-5-haiku-20241022-v1:0", "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.titan-embed-text-v2:0"]}}}}}, stack="dev", region="eu-west-1")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_profile_grants_the_profile_and_its_model_in_every_region_it_routes_to(stack):
    plan = primary_plan(stack, False)
    doc = json.loads(plan.named("code-task-policy").props["policy"])
    st = {s["Sid"]: s for s in doc["Statement"]}
    profile = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}"
    assert st["InvokeOwnModelsProfiles"]["Resource"] == [profile]
    through = st["InvokeOwnModelsThroughProfile0"]
    assert through["Resource"] == [f"arn:aws:bedrock:{r}::foundation-model/{PROFILE[3:]}"
                                   for r in ("us-east-1", "us-east-2", "us-west-1", "us-west-2")]
    assert through["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile}}


# --- scaling on work, not CPU ---------------------------------------------------------------------------------------
POLICY = "aws:appautoscaling/policy:Policy"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_services_scale_on_requests_per_target_and_consumers_on_backlog_per_task(stack):
    import botocore.session
    from botocore.validate import ParamValidator
    plan = primary_plan(stack, False)
    alb = plan.named("alb", "aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    policies = {r.name: r.props for r in plan.resources if r.type == POLICY}
    groups = {r.name: r.outputs["arnSuffix"] for r in plan.resources if r.type == "aws:lb/targetGroup:TargetGroup"}
    model = botocore.session.get_session().get_service_model("application-autoscaling").operation_model(
        "PutScalingPolicy")
    staged = 0
    for service in ("format-conversion", "search", "conversational", "code", "document-extraction"):
        config = policies[f"{service}-requests-scaling"]["targetTrackingScalingPolicyConfiguration"]
        spec = config["predefinedMetricSpecification"]
        assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
        [tg] = [g for n, g in groups.items() if n.startswith(f"{service}-tg") and "-alt" not in n
                and spec["resourceLabel"] == f"{alb}/{g}"]
        assert config["targetValue"] == (20 if service in ("conversational", "code") else 1000)
        if f"{service}-requests-alt-scaling" in policies:   # blue/green: the second group scales it too
            staged += 1
        for name in [n for n in policies if n.startswith(f"{service}-") and "scaling" in n]:
            params = {"PolicyName": "p", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
                      "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
                      "TargetTrackingScalingPolicyConfiguration": aws_shape(
                          policies[name]["targetTrackingScalingPolicyConfiguration"])}
            report = ParamValidator().validate(params, model.input_shape)
            assert not report.has_errors(), (name, report.generate_report())
    assert staged > 0 if stack == "prod" else True
    # the consumers of queues: backlog per running task of the queue they consume
    for service, queue in (("conversational", "inference-requests"), ("document-extraction", "document-processing")):
        metrics = policies[f"{service}-queue0-scaling"]["targetTrackingScalingPolicyConfiguration"][
            "customizedMetricSpecification"]["metrics"]
        by_id = {m["id"]: m for m in metrics}
        assert by_id["visible"]["metricStat"]["metric"]["dimensions"] == [
            {"name": "QueueName", "value": f"ai-platform-{stack}-{queue}"}]
        assert by_id["tasks"]["metricStat"]["metric"]["metricName"] == "RunningTaskCount"
        assert [m["id"] for m in metrics if m["returnData"]] == ["backlog_per_task"]
    assert not any(n.startswith("search-queue") for n in policies)


# --- Bedrock model invocation logging --------------------------------------------------------------------------------
def test_invocation_logging_to_kms_encrypted_log_group_and_bucket_with_retention():
    plan = primary_plan("prod", False)
    cfg = plan.named("invocation-logging").props["loggingConfig"]
    key = plan.named("invocation-logs-key", "aws:kms/key:Key")
    group = plan.named("invocation-logs", "aws:cloudwatch/logGroup:LogGroup").props
    bucket = plan.named("invocation-logs-bucket", "aws:s3/bucket:Bucket").props["bucket"]
    assert cfg["cloudwatchConfig"]["logGroupName"] == group["name"] and group["kmsKeyId"] == key.outputs["arn"]
    assert group["retentionInDays"] == 365
    assert cfg["s3Config"] == {"bucketName": bucket, "keyPrefix": "invocations"}
    assert cfg["cloudwatchConfig"]["largeDataDeliveryS3Config"]["bucketName"] == bucket
    assert cfg["textDataDeliveryEnabled"] is True
    sse = plan.named("bedrock-invocations-sse").props["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}
    [rule] = plan.named("bedrock-invocations-lifecycle").props["rules"]
    assert rule["expiration"]["days"] == 365
    # one configuration per account and Region: prod owns it by default, dev only when told (its own account)
    assert not [r for r in primary_plan("dev", False).resources if r.name == "invocation-logging"]
    assert settings().ml.manage_invocation_logging is False
    assert settings(ml={"manageInvocationLogging": True}).ml.manage_invocation_logging is True


@pytest.mark.parametrize("breaks, target", [
    (("bedrock-invocations-policy", "aws:s3/bucketPolicy:BucketPolicy", "BedrockWritesInvocationLogs"), "bucket"),
    (("invocation-logs-key", "aws:kms/key:Key", "BedrockWritesInvocationLogs"), "bucket"),
    (("invocation-logs-write", "aws:iam/rolePolicy:RolePolicy", "WriteInvocationLogs"), "log group"),
])
def test_bedrock_may_write_its_invocation_logs_and_each_grant_is_needed(breaks, target):
    from test_journeys import changed, without_statement

    from plan.flows.catalogue import build_flows
    plan = primary_plan("prod", False)

    def flow(p):
        return next(f for f in build_flows(p) if f.source == "Bedrock invocation logging" and f.target.startswith(target))
    assert flow(plan).ok and flow(plan).verdict.allowed is True
    name, token, sid = breaks
    broken = flow(changed(plan, name, token, without_statement(sid)))
    assert not broken.ok and broken.verdict.allowed is False


def test_a_guardrail_in_a_contract_is_applied_by_that_service_only():
    from components.service_access import ServiceDependencies, environment, task_statements
    app = settings(application={"services": {"code": {"uses": {"guardrail": "abc123def456:3"}}}}).application
    code = next(s for s in app.catalogue() if s.name == "code")
    search = next(s for s in app.catalogue() if s.name == "search")
    deps = ServiceDependencies(region="us-east-1", account_id="123456789012", secret_arns={}, secret_arn_patterns={},
                               bucket_arns={k: f"arn:aws:s3:::{k}" for k in ("documents", "data-lake", "ml-artifacts")},
                               table_arns={}, queue_arns={}, event_bus_arn="bus", event_sources={},
                               db_resource_id=None, db_address=None, db_reader_address=None, db_port=None,
                               db_name=None, redis_endpoint=None, redis_port=None, redis_auth_secret_arn=None,
                               redis_auth_secret_arn_pattern=None)
    assert [s["Sid"] for s in task_statements(code, deps)].count("ApplyOwnGuardrail") == 1
    assert "ApplyOwnGuardrail" not in [s["Sid"] for s in task_statements(search, deps)]
    env = environment(code, deps)
    assert (env["BEDROCK_GUARDRAIL_ID"], env["BEDROCK_GUARDRAIL_VERSION"]) == ("abc123def456", "3")
    exc = error(application={"services": {"code": {"uses": {"guardrail": "my guardrail"}}}})
    assert exc.path == "ai-platform:application.services.code.uses.guardrail"


def test_readme_says_which_services_stream_and_their_limits():
    from pathlib import Path
    streamed = sorted(s.name for s in settings().application.catalogue() if s.settings.route.response == "STREAM")
    line = next(ln for ln in (Path(__file__).parent.parent / "README.md").read_text().splitlines() if "stream" in ln)
    assert all(name in line for name in streamed) and "15 min" in line and "29 s" in line and "10 MB" in line
