"""Edge tier: the platform's front door.

- The Angular SPA: a private S3 bucket read only by one CloudFront distribution (Origin Access
  Control, SigV4, always signed), SPA fallback, security headers, WAF, standard logging (v2).
- The API: an API Gateway REST API (not an HTTP API: only REST stages take a WAF web ACL, X-Ray
  tracing and per-method authorizers) behind a regional WAF ACL, Cognito-authorized on every method
  except the CORS preflight (browsers send OPTIONS without credentials).
- Cognito: the user pool and the SPA's public app client (code flow; PKCE, since it has no secret).

CloudFront only reads WAF ACLs, ACM certificates and log deliveries from us-east-1, so each of those
is created through an explicit us-east-1 provider whatever the stack's region.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .config.edge import EdgeSettings
from .context import Platform, policy_json, publish, required
from .recipes.alarms import metric_alarm
from .recipes.buckets import private_bucket, tls_only
from .recipes.keys import key_policy, kms_key, logs_grants
from .recipes.log_groups import log_group
from .recipes.roles import MANAGED, service_role

GLOBAL_REGION = "us-east-1"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy Managed-CachingOptimized
MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                       "AWSManagedRulesKnownBadInputsRuleSet")
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId", "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller", "user": "$context.authorizer.claims.sub", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "resourcePath": "$context.resourcePath", "status": "$context.status",
    "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus", "integrationLatency": "$context.integrationLatency",
    "wafStatus": "$context.waf.status", "xrayTraceId": "$context.xrayTraceId"}, separators=(",", ":"))
DEFAULT_TIMEOUT_MS = 29000   # REST integrations' default and buffered maximum without a quota increase
API_COUNT_ONLY = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
# The core rule set's body rules that read prompts and code as attacks (a question containing <script>, ../ or
# 169.254.169.254): on the API they count, and the rule after the group blocks on their labels everywhere except
# the prompts routes (docs/traffic.md, "The WAF"). Labels: "Baseline rule groups", AWS WAF Developer Guide,
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
PROMPT_BODY_RULES = ("CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY")
CRS_LABEL = "awswaf:managed:aws:core-rule-set:"


def body_rule_label(rule: str) -> str:
    return CRS_LABEL + rule.removesuffix("_BODY") + "_Body"


def prompt_path_regex(stage: str, paths: Sequence[str]) -> str:
    """The URI paths of the prompts routes, with the stage (execute-api URL) or without (custom domain)."""
    return f"^(/{stage})?/({'|'.join(sorted(paths))})(/.*)?$"


# WAF's body inspection for API Gateway: 16 KB by default, raisable to 64 KB ("Managing body inspection size
# limits for AWS WAF", https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html).
INSPECTION_LIMITS_KB = (16, 32, 48, 64)
# Gateway responses API Gateway itself sends (authorizer 401/403, WAF 403, throttling 429, timeouts 504...): with
# CORS headers, so the browser shows the SPA the status instead of a CORS error.
CORS_GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")
CORS_HEADERS = "'Authorization,Content-Type,X-Amz-Date,X-Api-Key,X-Amz-Security-Token'"
CORS_METHODS = "'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT'"
# The site's origin group (primary bucket, then the DR region's replica). Only server errors: with OAC and no
# s3:ListBucket a missing object is a 403, and SPA deep links are exactly that (served /index.html by the
# custom error responses), so failing over on 403/404 would send every uncached deep link to the other region
# first for nothing: a replica holds the same objects. A region outage shows as 5xx, timeouts or connection
# failures (CloudFront fails over on the latter two whatever the codes).
FAILOVER_STATUS_CODES = (500, 502, 503, 504)
FAILOVER_ORIGIN_ID = "site-bucket-dr"
ORIGIN_GROUP_ID = "site"


def connect_src(region: str, dr_region: str | None, api_domain: str | None, api_id: str | None = None,
                auth_domain: str | None = None) -> str:
    """The CSP connect-src hosts: this stack's API (its custom domain, and its own execute-api host, never
    `*.execute-api`, which is every account's API) and its own Cognito domain and regional endpoint; with a DR
    region standing, the DR region's Cognito and API hosts (after a failover the SPA calls them). The DR API's
    own id cannot be known here (its CORS names this distribution, which carries this policy): without
    apiDomainName (failover moves its DNS, the host stays) the DR region's execute-api stays a wildcard."""
    hosts = [f"https://{api_domain}"] if api_domain else []
    if api_id:
        hosts.append(f"https://{api_id}.execute-api.{region}.amazonaws.com")
    hosts += [f"https://{auth_domain}.auth.{region}.amazoncognito.com" if auth_domain
              else f"https://*.auth.{region}.amazoncognito.com", f"https://cognito-idp.{region}.amazonaws.com"]
    if dr_region and dr_region != region:
        if not api_domain:
            hosts.append(f"https://*.execute-api.{dr_region}.amazonaws.com")
        hosts += [f"https://*.auth.{dr_region}.amazoncognito.com", f"https://cognito-idp.{dr_region}.amazonaws.com"]
    return " ".join(hosts)


@dataclasses.dataclass(frozen=True)
class EdgeTierArgs:
    platform: Platform
    settings: EdgeSettings
    logs_key_arn: pulumi.Input[str]
    # The application tier's internal load balancer: its ARN (the private integration's target), its backend URL
    # (scheme://name: the Host header, and the name its certificate covers) and where the VPC link's network
    # interfaces live (private subnets, the network tier's VPC-link group). None: a mock integration answers.
    backend_url: pulumi.Input[str] | None = None
    alb_arn: pulumi.Input[str] | None = None
    vpc_link_subnet_ids: pulumi.Input[Sequence[str]] | None = None
    vpc_link_security_group_id: pulumi.Input[str] | None = None
    # The application tier's routes (service -> {path, response, timeoutMs, binaryMediaTypes, prompts, maxBodyKb}):
    # each gets /<path> and /<path>/{proxy+} of its own, streamed or with its timeout; the rest share /{proxy+}.
    routes: Mapping[str, dict] = dataclasses.field(default_factory=dict)
    binary_media_types: Sequence[str] = ()       # the API's binaryMediaTypes (the services' union)
    # Data-tier buckets the SPA uploads into directly (presigned by the service that owns them): CORS for the
    # site's origin only, and their regional hosts in the CSP's connect-src.
    upload_bucket_names: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    # The data tier's SSE-S3 access-log bucket; None: no CloudFront log delivery (policy cloudfront-logging).
    log_bucket_name: pulumi.Input[str] | None = None
    log_bucket_arn: pulumi.Input[str] | None = None
    # The DR region (pilot-light/warm-standby): the SPA may call its API and its Cognito pool (CSP connect-src).
    dr_region: str | None = None
    # The DR tier's replica of the site bucket (its regional domain name): CloudFront's secondary origin.
    site_failover_origin: pulumi.Input[str] | None = None
    # --- api_only: the DR region's instance (components/platform.py::build_dr_region) builds the API part alone
    # (REST API, its regional WAF ACL, access logs, VPC link, custom domain, health alarm) for the primary's site
    # and user pool: Cognito, the site and CloudFront stay global / in the primary region.
    api_only: bool = False
    # Client headers the API must never pass to the load balancer as sent (the blue/green test header: a request
    # from the internet carrying it would reach an unreleased revision): each is overwritten with a constant.
    internal_headers: Sequence[str] = ()
    user_pool_arns: Sequence[pulumi.Input[str]] = ()    # pools the authorizer accepts (api_only)
    standby_user_pool: bool = False   # api_only: build the region's own standing pool (and SPA client), accepted too
    site_url: pulumi.Input[str] | None = None           # https://<SPA origin> the CORS answers admit (api_only)
    apigateway_role_arn: pulumi.Input[str] | None = None  # the primary's API Gateway logs role (IAM is global)
    # critical: the API health alarm pages it (issue 30)
    alerts_topic_arn: pulumi.Input[str] | None = None
    warnings_topic_arn: pulumi.Input[str] | None = None   # informs: the routes' 5xx and latency alarms (issue 25)


@dataclasses.dataclass(frozen=True)
class ApiOutputs:
    """The API part (both regions): what DNS failover and the DR manifest need."""
    api_id: pulumi.Output[str]
    api_endpoint: pulumi.Output[str]                 # the stage's invoke URL
    api_stage_arn: pulumi.Output[str]
    regional_web_acl_arn: pulumi.Output[str]
    # edge.apiDomainName's regional custom domain (alias target of the Route 53 records); None without one.
    api_domain_target: pulumi.Output[str] | None
    api_domain_zone_id: pulumi.Output[str] | None
    health_alarm_name: pulumi.Output[str]            # the API's 5xx alarm (Route 53 health check of the region)
    apigateway_role_arn: pulumi.Output[str] | None
    api_name: pulumi.Output[str] | None = None       # CloudWatch's ApiName dimension (observability's 5xx alarm)
    api_stage_name: pulumi.Output[str] | None = None


@dataclasses.dataclass(frozen=True)
class EdgeOutputs:
    site_bucket_name: pulumi.Output[str] | None      # None: api_only (the DR region's instance)
    site_bucket_arn: pulumi.Output[str] | None
    site_versioning_id: pulumi.Output[str] | None   # replication waits for Enabled versioning (DR tier)
    distribution_id: pulumi.Output[str] | None
    distribution_arn: pulumi.Output[str] | None
    distribution_domain_name: pulumi.Output[str] | None
    site_url: pulumi.Output[str] | None
    api_id: pulumi.Output[str]
    api_endpoint: pulumi.Output[str]
    api_stage_arn: pulumi.Output[str]
    user_pool_id: pulumi.Output[str] | None
    user_pool_arn: pulumi.Output[str] | None
    user_pool_client_id: pulumi.Output[str] | None
    cloudfront_web_acl_arn: pulumi.Output[str] | None
    regional_web_acl_arn: pulumi.Output[str]
    api_domain_target: pulumi.Output[str] | None
    api_domain_zone_id: pulumi.Output[str] | None
    api_health_alarm_name: pulumi.Output[str]
    apigateway_role_arn: pulumi.Output[str] | None
    api_name: pulumi.Output[str] | None = None       # CloudWatch's ApiName / Stage dimensions of the API's metrics
    api_stage_name: pulumi.Output[str] | None = None


class EdgeTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: EdgeTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__(p.tier_type("Edge"), name, None, p.tier_options(opts))
        s = args.settings
        n = p.namer
        self._p, self._settings = p, s
        self._internal_headers = tuple(args.internal_headers)
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id

        if args.api_only:
            # The DR region's front door: the same API, WAF and logs as the primary's, for the primary's SPA.
            api_acl = self._web_acl("api", "REGIONAL", args.logs_key_arn, child, count_only=API_COUNT_ONLY,
                                    routes=args.routes)
            pools = list(args.user_pool_arns)
            pool = client = None
            if args.standby_user_pool:
                # The DR region's standing user pool (same block, same settings as the primary's): its authorizer
                # accepts it from the first `pulumi up`, so sign-in during an outage needs no change to the stack.
                pool = self._user_pool(child)
                spa_origin = required(args.site_url, "EdgeTierArgs.site_url (api_only)")
                callbacks = (list(s.callback_urls) if s.custom_domain
                             else pulumi.Output.from_input(spa_origin).apply(lambda u: [*s.callback_urls, f"{u}/auth/callback"]))
                logouts = (list(s.logout_urls) if s.custom_domain
                           else pulumi.Output.from_input(spa_origin).apply(lambda u: [*s.logout_urls, f"{u}/"]))
                client = self._spa_client(pool, callbacks, logouts, child)
                pools.append(pool.arn)
            api = self._api(args, api_acl, pools,
                            pulumi.Output.concat("'", required(args.site_url, "EdgeTierArgs.site_url (api_only)"), "'"))
            self.outputs = EdgeOutputs(
                site_bucket_name=None, site_bucket_arn=None, site_versioning_id=None, distribution_id=None,
                distribution_arn=None, distribution_domain_name=None, site_url=None, api_id=api.api_id, api_endpoint=api.api_endpoint,
                api_stage_arn=api.api_stage_arn, user_pool_id=pool.id if pool else None,
                user_pool_arn=pool.arn if pool else None, user_pool_client_id=client.id if client else None,
                cloudfront_web_acl_arn=None, regional_web_acl_arn=api.regional_web_acl_arn,
                api_domain_target=api.api_domain_target, api_domain_zone_id=api.api_domain_zone_id,
                api_health_alarm_name=api.health_alarm_name, apigateway_role_arn=api.apigateway_role_arn,
                api_name=api.api_name, api_stage_name=api.api_stage_name)
            publish(self, self.outputs)
            return

        # Every us-east-1-only resource goes through this provider, whatever aws:region says.
        self.global_provider = aws.Provider("us-east-1", region=GLOBAL_REGION, opts=child)
        glob = pulumi.ResourceOptions(parent=self, provider=self.global_provider)

        # CloudWatch Logs can only use a KMS key of its own region: in another region the logs key
        # cannot encrypt the us-east-1 WAF log group, so the edge tier keeps a us-east-1 logs key.
        if p.region == GLOBAL_REGION:
            global_logs_key_arn = args.logs_key_arn
        else:
            global_key = kms_key(
                self, p, "global-logs-key", purpose="logs",
                description=f"{n.base()} logs key for us-east-1 (CloudFront WAF logs)",
                policy=account.apply(lambda a: key_policy(a, *logs_grants(a, GLOBAL_REGION))),
                tags=p.tags(n.base("global-logs"), Purpose="logs"),
                opts=pulumi.ResourceOptions(provider=self.global_provider))
            global_logs_key_arn = global_key.arn

        # --- WAF ------------------------------------------------------------------------------
        cf_acl = self._web_acl("cloudfront", "CLOUDFRONT", global_logs_key_arn, glob)
        # The API takes prompts and documents: the common rule set's 8 KB body limit (SizeRestrictions_BODY) only
        # counts there; API Gateway's own 10 MB payload limit still applies.
        api_acl = self._web_acl("api", "REGIONAL", args.logs_key_arn, child, count_only=API_COUNT_ONLY,
                                routes=args.routes)

        # --- Cognito --------------------------------------------------------------------------
        self.user_pool = self._user_pool(child)
        domain_prefix = self._domain_prefix   # the hosted UI's host, named in the site's CSP
        # --- static site bucket -----------------------------------------------------------------
        # SSE-S3, not the data key: the bucket holds the SPA bundle every visitor downloads, and SSE-KMS
        # would need a data-key grant to cloudfront.amazonaws.com for no confidentiality gain. The default
        # lifecycle keeps overwritten bundles 30 days (rollback), then drops them. The policy is written
        # below, once the distribution it names exists.
        site = private_bucket(self, p, "site", kms_key_arn=None, manage_policy=False,
                              access_log_bucket=args.log_bucket_name, log_prefix="s3/site/",
                              tags=p.tags(n.base("site"), Purpose="spa"))
        bucket, pab = site.bucket, site.public_access_block

        oac = aws.cloudfront.OriginAccessControl(
            "site-oac", name=n.physical("generic", "site-oac"), description="SPA bucket, signed by CloudFront",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=child)
        upload_buckets = dict(sorted(args.upload_bucket_names.items()))
        # The REST API itself depends on nothing here: created first, its id names the one API the CSP admits.
        rest_api = self._rest_api(args)
        headers = aws.cloudfront.ResponseHeadersPolicy(
            "security-headers", name=n.physical("generic", "security-headers"),
            comment="HSTS, nosniff, DENY framing, strict referrer, XSS filter, CSP",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=63072000, include_subdomains=True, preload=True, override=True),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True),
                frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True),
                referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="strict-origin-when-cross-origin", override=True),
                xss_protection=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs(
                    protection=True, mode_block=True, override=True),
                content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                    content_security_policy=pulumi.Output.all(
                        rest_api.id, domain_prefix, *upload_buckets.values()).apply(lambda v: (
                        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                        f"connect-src 'self' {connect_src(p.region, args.dr_region, s.api_domain_name, v[0], v[1])}"
                        f"{''.join(f' https://{b}.s3.{p.region}.amazonaws.com' for b in v[2:])}; "
                        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'")),
                    override=True)),
            opts=child)

        # --- certificate (optional custom domain) ----------------------------------------------
        certificate_arn: pulumi.Input[str] | None = s.certificate_arn
        if s.custom_domain and not s.certificate_arn:
            cert = aws.acm.Certificate(
                "site-certificate", domain_name=s.custom_domain, validation_method="DNS",
                tags=p.tags(s.custom_domain), opts=glob)
            option = cert.domain_validation_options[0]
            validation = aws.route53.Record(
                "site-certificate-validation-record", zone_id=s.hosted_zone_id, name=option.resource_record_name,
                type=option.resource_record_type, records=[option.resource_record_value], ttl=300,
                allow_overwrite=True, opts=child)
            certificate_arn = aws.acm.CertificateValidation(
                "site-certificate-validation", certificate_arn=cert.arn, validation_record_fqdns=[validation.fqdn],
                opts=glob).certificate_arn
        if certificate_arn is not None:
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021")
        else:
            # With the *.cloudfront.net certificate CloudFront fixes the security policy at TLSv1 whatever
            # is asked: say so (policy cloudfront-min-tls reports it) instead of pretending TLSv1.2_2021.
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True, minimum_protocol_version="TLSv1")

        # --- distribution ------------------------------------------------------------------------
        origin_id = "site-bucket"
        origins = [aws.cloudfront.DistributionOriginArgs(
            origin_id=origin_id, domain_name=bucket.bucket_regional_domain_name, origin_access_control_id=oac.id)]
        origin_groups = None
        target = origin_id
        if args.site_failover_origin is not None:
            # The DR region's replica of the bundle behind the same OAC (its bucket policy admits this
            # distribution): CloudFront retries a GET/HEAD there on a connection failure, a timeout or one of
            # FAILOVER_STATUS_CODES from the primary bucket.
            origins.append(aws.cloudfront.DistributionOriginArgs(
                origin_id=FAILOVER_ORIGIN_ID, domain_name=args.site_failover_origin, origin_access_control_id=oac.id))
            origin_groups = [aws.cloudfront.DistributionOriginGroupArgs(
                origin_id=ORIGIN_GROUP_ID,
                failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                    status_codes=list(FAILOVER_STATUS_CODES)),
                members=[aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=o)
                         for o in (origin_id, FAILOVER_ORIGIN_ID)])]
            target = ORIGIN_GROUP_ID
        self.distribution = aws.cloudfront.Distribution(
            "site-distribution", enabled=True, comment=f"{n.base()} SPA",
            aliases=[s.custom_domain] if s.custom_domain else None,
            default_root_object="index.html", http_version="http2and3", is_ipv6_enabled=True,
            price_class=s.price_class, web_acl_id=cf_acl.arn, origins=origins, origin_groups=origin_groups,
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=target, viewer_protocol_policy="redirect-to-https", compress=True,
                allowed_methods=["GET", "HEAD", "OPTIONS"], cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_OPTIMIZED, response_headers_policy_id=headers.id),
            # SPA routing: deep links the bucket doesn't know (403 through OAC, 404) serve the app shell.
            custom_error_responses=[aws.cloudfront.DistributionCustomErrorResponseArgs(
                error_code=code, response_code=200, response_page_path="/index.html", error_caching_min_ttl=10)
                for code in (403, 404)],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=viewer_certificate,
            tags=p.tags(n.base("site")), opts=child)
        dist = self.distribution

        # The SPA signs in from wherever it is served: the configured URLs plus, without a custom domain, the
        # distribution's own https origin (the one the API's CORS admits), else dev's SPA could never sign in.
        def site_urls(configured, path: str):
            if s.custom_domain:
                return list(configured)
            return dist.domain_name.apply(lambda d: list(dict.fromkeys([*configured, f"https://{d}/{path}"])))

        self.user_pool_client = self._spa_client(self.user_pool, site_urls(s.callback_urls, "auth/callback"),
                                                 site_urls(s.logout_urls, ""), child)


        aws.s3.BucketPolicy(
            "site-bucket-policy", bucket=bucket.id,
            policy=policy_json(
                tls_only(site.arn),
                {"Sid": "CloudFrontOacRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                 "Action": "s3:GetObject", "Resource": pulumi.Output.concat(site.arn, "/*"),
                 "Condition": {"StringEquals": {"AWS:SourceArn": dist.arn}}}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pab]))

        if s.custom_domain and s.hosted_zone_id:
            for rtype in ("A", "AAAA"):
                aws.route53.Record(
                    f"site-alias-{rtype.lower()}", zone_id=s.hosted_zone_id, name=s.custom_domain, type=rtype,
                    aliases=[aws.route53.RecordAliasArgs(name=dist.domain_name, zone_id=dist.hosted_zone_id,
                                                         evaluate_target_health=False)],
                    opts=child)

        # Standard logging v2 (CloudWatch vended logs). Legacy logging_config needs ACLs on the target
        # bucket, which BucketOwnerEnforced disables; v2 writes as delivery.logs.amazonaws.com instead.
        if args.log_bucket_arn is not None:
            source = aws.cloudwatch.LogDeliverySource(
                "site-access-log-source", name=n.physical("generic", "cf-access"), log_type="ACCESS_LOGS",
                resource_arn=dist.arn, tags=p.tags(n.base("cf-access")), opts=glob)
            destination = aws.cloudwatch.LogDeliveryDestination(
                "site-access-log-destination", name=n.physical("generic", "cf-access-s3"), output_format="json",
                delivery_destination_configuration=aws.cloudwatch.
                LogDeliveryDestinationDeliveryDestinationConfigurationArgs(destination_resource_arn=args.log_bucket_arn),
                tags=p.tags(n.base("cf-access-s3")), opts=glob)
            aws.cloudwatch.LogDelivery(
                "site-access-log-delivery", delivery_source_name=source.name,
                delivery_destination_arn=destination.arn,
                s3_delivery_configurations=[aws.cloudwatch.LogDeliveryS3DeliveryConfigurationArgs(
                    enable_hive_compatible_path=False, suffix_path="cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}")],
                tags=p.tags(n.base("cf-access")), opts=glob)

        allowed_origin = (pulumi.Output.from_input(f"'https://{s.custom_domain}'") if s.custom_domain
                          else pulumi.Output.concat("'https://", dist.domain_name, "'"))
        site_url = (pulumi.Output.from_input(f"https://{s.custom_domain}") if s.custom_domain
                    else pulumi.Output.concat("https://", dist.domain_name))
        api = self._api(args, api_acl, [self.user_pool.arn], allowed_origin, rest_api)

        # Direct uploads: the browser PUTs the parts the owning service presigned, from the site's origin only;
        # ETag is exposed (the service completes the multipart upload with the parts' ETags).
        for key, bucket_name in upload_buckets.items():
            aws.s3.BucketCorsConfiguration(
                f"{key}-upload-cors", bucket=bucket_name,
                cors_rules=[aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    id="spa-direct-upload", allowed_origins=[site_url], allowed_methods=["PUT"],
                    allowed_headers=["content-type", "content-md5", "x-amz-checksum-*", "x-amz-sdk-checksum-algorithm"],
                    expose_headers=["ETag"], max_age_seconds=3000)],
                opts=child)

        # --- outputs -----------------------------------------------------------------------------
        self.outputs = EdgeOutputs(
            site_bucket_name=bucket.bucket, site_bucket_arn=site.arn, site_versioning_id=site.versioning.id,
            distribution_id=dist.id,
            distribution_arn=dist.arn, distribution_domain_name=dist.domain_name, site_url=site_url,
            api_id=api.api_id, api_endpoint=api.api_endpoint, api_stage_arn=api.api_stage_arn,
            user_pool_id=self.user_pool.id, user_pool_arn=self.user_pool.arn,
            user_pool_client_id=self.user_pool_client.id, cloudfront_web_acl_arn=cf_acl.arn,
            regional_web_acl_arn=api.regional_web_acl_arn, api_domain_target=api.api_domain_target,
            api_domain_zone_id=api.api_domain_zone_id, api_health_alarm_name=api.health_alarm_name,
            apigateway_role_arn=api.apigateway_role_arn, api_name=api.api_name, api_stage_name=api.api_stage_name)
        publish(self, self.outputs)

    def _user_pool(self, child: pulumi.ResourceOptions) -> aws.cognito.UserPool:
        """The user pool and its hosted-UI domain: the primary's, and (api_only with standby_user_pool) the DR
        region's standing pool built by this same block, so the two never drift apart (docs/dr.md, sign-in)."""
        p, s = self._p, self._settings
        n = p.namer
        account = p.account_id
        pool_name = n.physical("cognito", "users")
        mfa_on = s.mfa != "OFF"
        pool = aws.cognito.UserPool(
            "user-pool", name=pool_name,
            username_attributes=["email"], auto_verified_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=s.password_min_length, require_lowercase=True, require_uppercase=True,
                require_numbers=True, require_symbols=True,
                temporary_password_validity_days=s.temporary_password_validity_days),
            mfa_configuration=s.mfa,
            software_token_mfa_configuration=(aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True)
                                              if mfa_on else None),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(recovery_mechanisms=[
                aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)]),
            user_pool_tier=s.user_pool_tier,
            user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode=s.threat_protection),
            deletion_protection="ACTIVE" if s.deletion_protection else "INACTIVE",
            # Invitations, codes and resets through the stack's verified SES identity where one is configured (prod):
            # Cognito's built-in e-mail sends about 50 messages a day from a no-reply address. SES identities are
            # regional: the DR region's standing pool gets dr.emailSourceArn (components/platform.py).
            email_configuration=aws.cognito.UserPoolEmailConfigurationArgs(
                email_sending_account="DEVELOPER", source_arn=s.email_source_arn,
                from_email_address=s.email_from)
            if s.email_source_arn else None,
            tags=p.tags(pool_name), opts=p.stateful(self))
        domain_prefix = (pulumi.Output.from_input(s.auth_domain_prefix) if s.auth_domain_prefix
                         else account.apply(lambda a: n.physical("cognito_domain", a)))
        aws.cognito.UserPoolDomain("user-pool-domain", domain=domain_prefix, user_pool_id=pool.id, opts=child)
        self._domain_prefix = domain_prefix
        return pool

    def _spa_client(self, pool: aws.cognito.UserPool, callback_urls, logout_urls,
                    child: pulumi.ResourceOptions) -> aws.cognito.UserPoolClient:
        s, n = self._settings, self._p.namer
        return aws.cognito.UserPoolClient(
            "spa-client", name=n.physical("cognito", "spa"), user_pool_id=pool.id,
            generate_secret=False,  # a browser app cannot keep a secret: public client, PKCE on the code flow
            allowed_oauth_flows_user_pool_client=True, allowed_oauth_flows=["code"],
            allowed_oauth_scopes=list(s.oauth_scopes), supported_identity_providers=["COGNITO"],
            callback_urls=callback_urls, logout_urls=logout_urls,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED", enable_token_revocation=True,
            access_token_validity=s.access_token_validity_minutes, id_token_validity=s.access_token_validity_minutes,
            refresh_token_validity=s.refresh_token_validity_days,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes", id_token="minutes", refresh_token="days"),
            opts=child)

    def _rest_api(self, args: EdgeTierArgs) -> aws.apigateway.RestApi:
        p, n = self._p, self._p.namer
        return aws.apigateway.RestApi(
            "api", name=n.physical("rest_api", "api"), description="ai-platform public API (Cognito-authorized, WAF-protected)",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            # PDFs and images pass through as bytes (without it API Gateway converts them to UTF-8 text).
            binary_media_types=list(args.binary_media_types) or None,
            tags=p.tags(n.base("api")), opts=pulumi.ResourceOptions(parent=self))

    def _api(self, args: EdgeTierArgs, api_acl, user_pool_arns: list, allowed_origin,
             rest_api: aws.apigateway.RestApi | None = None) -> ApiOutputs:
        """The REST API, in the primary region or (api_only) the DR region: Cognito-authorized proxy methods over a
        VPC link to the region's internal load balancer, CORS for the SPA's origin, access logs, X-Ray, the
        regional WAF ACL, the optional custom domain and the 5xx alarm Route 53's failover health check reads."""
        p, s, n = self._p, self._settings, self._p.namer
        child = pulumi.ResourceOptions(parent=self)
        # --- REST API -------------------------------------------------------------------------
        # API Gateway writes stage logs with the account-level CloudWatch role: one setting per account and
        # region. Where stacks share an account, exactly one of them manages it (edge.manageApiGatewayAccount).
        stage_waits_for: list = []
        role_arn = args.apigateway_role_arn
        if s.manage_api_gateway_account and role_arn is None:
            apigw_role = service_role(
                self, p, "apigateway-cloudwatch-role", service="apigateway.amazonaws.com",
                description="API Gateway account: push access and execution logs",
                tag_name=n.base("apigateway-logs"),
                managed={"apigateway-cloudwatch-managed": MANAGED + "service-role/AmazonAPIGatewayPushToCloudWatchLogs"})
            role_arn = apigw_role.role.arn
        if s.manage_api_gateway_account:
            # The region's account setting (the DR region's instance reuses the primary's role: IAM is global).
            stage_waits_for.append(
                aws.apigateway.Account("apigateway-account", cloudwatch_role_arn=role_arn, opts=child))

        access_logs = log_group(
            self, p, "api-access-logs", n.log_group("apigateway", "access"), kms_key_arn=args.logs_key_arn,
            retention=s.api_log_retention_days, tags=p.tags(n.base("api-access-logs")))
        api = rest_api if rest_api is not None else self._rest_api(args)
        authorizer = aws.apigateway.Authorizer(
            "api-cognito-authorizer", name="cognito", rest_api=api.id, type="COGNITO_USER_POOLS",
            provider_arns=user_pool_arns, identity_source="method.request.header.Authorization", opts=child)
        proxy = aws.apigateway.Resource("api-proxy", rest_api=api.id, parent_id=api.root_resource_id,
                                        path_part="{proxy+}", opts=child)
        deploy_deps: list[pulumi.Resource] = []
        header = "gatewayresponse.header.Access-Control-Allow-"
        for response_type in CORS_GATEWAY_RESPONSES:
            deploy_deps.append(aws.apigateway.Response(
                f"api-{response_type.lower().replace('_', '-')}-cors", rest_api_id=api.id, response_type=response_type,
                response_parameters={f"{header}Origin": allowed_origin, f"{header}Headers": CORS_HEADERS,
                                     f"{header}Methods": CORS_METHODS}, opts=child))
        # The front door: a VPC link (V2) into the private subnets, the only client the internal load balancer's
        # security group admits; every method proxies through it after the authorizer, WAF and throttling.
        self._vpc_link = None
        if args.alb_arn is not None and args.backend_url is not None:
            self._vpc_link = aws.apigatewayv2.VpcLink(
                "api-vpc-link", name=n.physical("generic", "api-vpc-link"),
                subnet_ids=args.vpc_link_subnet_ids,
                security_group_ids=[required(args.vpc_link_security_group_id, "EdgeTierArgs.vpc_link_security_group_id")],
                tags=p.tags(n.base("api-vpc-link")), opts=child)
        resources: list[tuple[str, Any, bool, str, dict | None]] = [
            ("root", api.root_resource_id, False, "", None), ("proxy", proxy.id, True, "", None)]
        # A route of its own for each service that streams, waits longer or takes prompts: /<path> and
        # /<path>/{proxy+} (API Gateway matches the most specific resource; the ALB's rules still pick the service).
        for service, route in sorted(args.routes.items()):
            base = aws.apigateway.Resource(f"api-{service}", rest_api=api.id, parent_id=api.root_resource_id,
                                           path_part=route["path"], opts=child)
            sub = aws.apigateway.Resource(f"api-{service}-proxy", rest_api=api.id, parent_id=base.id,
                                          path_part="{proxy+}", opts=child)
            resources += [(service, base.id, False, f"/{route['path']}", route),
                          (f"{service}-proxy", sub.id, True, f"/{route['path']}", route)]
        for key, resource_id, is_proxy, prefix, route_settings in resources:
            deploy_deps += self._proxy_method(key, api, resource_id, is_proxy, authorizer, args.backend_url,
                                              args.alb_arn, prefix, route_settings)
            deploy_deps += self._cors_preflight(key, api, resource_id, allowed_origin)

        # A deployment is a snapshot: it must be replaced whenever what it serves changes, including
        # the integration target (a replaced ALB has a new DNS name) and the CORS origin. Otherwise the
        # stage keeps proxying to the old load balancer after an `up` that "succeeded".
        # What every route calls is hashed from the integrations themselves (their outputs, so the triggers'
        # property dependencies name each one: the pack's apigateway-deployment-tracks-integrations holds it):
        # a replaced VPC link or load balancer, a new timeout, header or transfer mode redeploys the stage.
        integrations = [r for r in deploy_deps if isinstance(r, aws.apigateway.Integration)]
        calls = pulumi.Output.all(*[pulumi.Output.all(
            i.type, i.connection_type, i.connection_id, i.integration_target, i.uri, i.integration_http_method,
            i.request_parameters, i.request_templates, i.timeout_milliseconds, i.response_transfer_mode,
            i.content_handling) for i in integrations])

        def fingerprint(values) -> str:
            backend, origin, integration_values = values
            return hashlib.sha256(json.dumps(
                {"backend": backend or "mock", "origin": origin, "integrations": integration_values, "gatewayResponses": list(CORS_GATEWAY_RESPONSES),
                 "connection": "VPC_LINK" if self._vpc_link is not None else "INTERNET", "methods": ["ANY", "OPTIONS"],
                 "auth": "COGNITO_USER_POOLS", "corsHeaders": CORS_HEADERS, "corsMethods": CORS_METHODS,
                 "timeoutMs": DEFAULT_TIMEOUT_MS, "routes": dict(args.routes),
                 "binaryMediaTypes": list(args.binary_media_types)}, sort_keys=True).encode()).hexdigest()

        deployment = aws.apigateway.Deployment(
            "api-deployment", rest_api=api.id, description="ai-platform API",
            triggers={"redeployment": pulumi.Output.all(args.backend_url, allowed_origin, calls).apply(fingerprint)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=deploy_deps))
        self.stage = aws.apigateway.Stage(
            "api-stage", rest_api=api.id, deployment=deployment.id, stage_name=s.api_stage_name,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(destination_arn=access_logs.arn,
                                                                          format=ACCESS_LOG_FORMAT),
            tags=p.tags(n.base("api", s.api_stage_name)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_waits_for))
        # Execution logs (logging_level below) go to a group API Gateway names after the API and stage and would
        # create unencrypted and never expiring: declared first, like every group a service writes to.
        execution_logs = log_group(
            self, p, "api-execution-logs",
            pulumi.Output.all(api.id, self.stage.stage_name).apply(
                lambda v: n.fixed("log_group", f"API-Gateway-Execution-Logs_{v[0]}/{v[1]}")),
            kms_key_arn=args.logs_key_arn, retention=s.api_log_retention_days,
            tags=p.tags(n.base("api-execution-logs")))
        aws.apigateway.MethodSettings(
            "api-method-settings", rest_api=api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True, logging_level="ERROR", data_trace_enabled=False,
                throttling_rate_limit=s.api_throttle_rate_limit, throttling_burst_limit=s.api_throttle_burst_limit),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[execution_logs]))
        aws.wafv2.WebAclAssociation("api-waf-association", resource_arn=self.stage.arn, web_acl_arn=api_acl.arn,
                                    opts=child)


        # edge.apiDomainName: a REGIONAL custom domain in each region (the same name: Route 53's failover records
        # choose the region), TLS 1.2, the region's own certificate (the DR instance gets dr.apiCertificateArn).
        domain = None
        if s.api_domain_name:
            domain = aws.apigateway.DomainName(
                "api-domain", domain_name=s.api_domain_name, regional_certificate_arn=s.api_certificate_arn,
                endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
                security_policy="TLS_1_2", tags=p.tags(n.base("api-domain")), opts=child)
            aws.apigateway.BasePathMapping("api-base-path", rest_api=api.id, stage_name=self.stage.stage_name,
                                           domain_name=domain.domain_name, opts=child)
        # The region's front-door health as clients see it: more than half the API's responses 5xx for 3 minutes
        # (WAF, authorizer, VPC link, load balancer and services all count). No traffic: OK (notBreaching). Route
        # 53's failover health check reads this alarm, and with the region's CloudWatch unreachable it turns
        # unhealthy (insufficient data), which is what moves DNS when the whole region fails.
        health_key = "api-5xx-health"
        alarm = metric_alarm(self, p, "api-health-alarm", health_key, namespace="AWS/ApiGateway", metric="5XXError",
                             dimensions={"ApiName": api.name, "Stage": self.stage.stage_name}, op=">",
                             threshold=0.5, statistic="Average", period=60, periods=3, missing="notBreaching",
                             actions=[args.alerts_topic_arn] if args.alerts_topic_arn is not None else [],
                             severity="critical",
                             description="API 5xx ratio > 50% for 3 minutes: Route 53 failover health "
                                         "check of the region; pages (critical)")
        # Each route of its own: its 5xx (504: the container sent nothing in time) and its latency near the
        # timeout, by resource (the stage's detailed metrics are on: MethodSettings metricsEnabled).
        actions = [args.warnings_topic_arn] if args.warnings_topic_arn is not None else []
        for service, route in sorted(args.routes.items()):
            dims: dict[str, Any] = {"ApiName": api.name, "Stage": self.stage.stage_name, "Resource": f"/{route['path']}/{{proxy+}}",
                    "Method": "ANY"}
            metric_alarm(self, p, f"api-{service}-5xx-alarm", f"api-{service}-5xx", namespace="AWS/ApiGateway",
                         metric="5XXError", dimensions=dims, op=">=", threshold=5, statistic="Sum", period=300,
                         missing="notBreaching", actions=actions, severity="warning",
                         description=f"API route /{route['path']}: 5 or more 5xx (504: no answer within "
                                     f"{route['timeoutMs'] // 1000} s) in 5 minutes")
            metric_alarm(self, p, f"api-{service}-latency-alarm", f"api-{service}-latency",
                         namespace="AWS/ApiGateway", metric="IntegrationLatency", dimensions=dims, op=">",
                         threshold=0.9 * route["timeoutMs"], extended_statistic="p99", period=300, periods=2,
                         missing="notBreaching", actions=actions, severity="warning",
                         description=f"API route /{route['path']}: p99 integration latency above 90% of its "
                                     f"{route['timeoutMs'] // 1000} s timeout for 10 minutes")
        return ApiOutputs(
            api_id=api.id, api_endpoint=self.stage.invoke_url, api_stage_arn=self.stage.arn,
            regional_web_acl_arn=api_acl.arn,
            api_domain_target=domain.regional_domain_name if domain else None,
            api_domain_zone_id=domain.regional_zone_id if domain else None,
            # the alarm's output, not its (known) name: Route 53 refuses a health check on an alarm not yet there
            health_alarm_name=alarm.name, apigateway_role_arn=pulumi.Output.from_input(role_arn) if role_arn is not None else None,
            api_name=api.name,
            api_stage_name=self.stage.stage_name)

    # ------------------------------------------------------------------------------------------
    def _web_acl(self, key: str, scope: str, logs_key_arn, opts: pulumi.ResourceOptions,
                 count_only: dict | None = None, routes: Mapping[str, dict] | None = None) -> aws.wafv2.WebAcl:
        """Managed rule groups (IP reputation, common, known bad inputs) plus a per-IP rate limit, logged.

        `routes` (the API's): on the prompts routes the core rule set's body rules count instead of block, and
        two rules compensate there: a body size limit per route and a rate limit per user (Authorization)."""
        p, s, n = self._p, self._settings, self._p.namer
        acl_name = n.physical("waf", key)
        prompts = {svc: r for svc, r in (routes or {}).items() if r.get("prompts")}
        if prompts:
            common = "AWSManagedRulesCommonRuleSet"
            count_only = {**(count_only or {}),
                          common: tuple(dict.fromkeys([*(count_only or {}).get(common, ()), *PROMPT_BODY_RULES]))}

        def visibility(metric: str):
            return aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True,
                metric_name=n.fixed("waf", f"{acl_name}-{metric}"))

        rules = [aws.wafv2.WebAclRuleArgs(
            name="rate-limit-per-ip", priority=0,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=s.waf_rate_limit, aggregate_key_type="IP", evaluation_window_sec=300)),
            visibility_config=visibility("rate-limit"))]
        for i, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(aws.wafv2.WebAclRuleArgs(
                name=group, priority=i,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        vendor_name="AWS", name=group,
                        rule_action_overrides=[
                            aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
                                name=rule, action_to_use=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
                                    count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()))
                            for rule in (count_only or {}).get(group, ())] or None)),
                visibility_config=visibility(group)))
        association_config: Any = None   # the ACL's body inspection limit, above the 16 KB default
        if prompts:
            rules += self._prompt_rules(prompts, len(rules), visibility)
            largest = max(r["maxBodyKb"] for r in prompts.values())
            limit = next(kb for kb in INSPECTION_LIMITS_KB if kb >= largest)
            if limit > INSPECTION_LIMITS_KB[0]:
                association_config = {"request_bodies": [{"api_gateway": {
                    "default_size_inspection_limit": f"KB_{limit}"}}]}
        acl = aws.wafv2.WebAcl(
            f"waf-{key}", name=acl_name, scope=scope, description=f"{n.base()} {key} edge protection",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules, association_config=association_config,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=acl_name),
            tags=p.tags(acl_name), opts=opts)
        # WAF only logs to CloudWatch log groups whose name starts with aws-waf-logs-.
        waf_logs = log_group(self, p, f"waf-{key}-logs", n.service_log_group("aws-waf-logs-", n.base(key)),
                             kms_key_arn=logs_key_arn, retention=s.waf_log_retention_days, opts=opts)
        aws.wafv2.WebAclLoggingConfiguration(
            f"waf-{key}-logging", resource_arn=acl.arn, log_destination_configs=[waf_logs.arn],
            redacted_fields=[aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name="authorization"))],
            opts=opts)
        return acl

    def _prompt_rules(self, prompts: Mapping[str, dict], first: int, visibility) -> list:
        """After the managed groups: the counted body rules block everywhere but on the prompts routes; each
        prompts route admits bodies up to its maxBodyKb; one user (Authorization) sends at most wafUserRateLimit
        requests per 5 minutes to them."""
        s = self._settings
        normalized = [{"priority": 0, "type": "URL_DECODE"}, {"priority": 1, "type": "NORMALIZE_PATH"}]

        def on(paths) -> dict:
            return {"regex_match_statement": {"regex_string": prompt_path_regex(s.api_stage_name, paths),
                                              "field_to_match": {"uri_path": {}}, "text_transformations": normalized}}
        block: dict = {"block": {}}
        rules = [{
            "name": "core-body-rules-outside-prompt-routes", "priority": first, "action": block,
            "statement": {"and_statement": {"statements": [
                {"or_statement": {"statements": [{"label_match_statement": {"scope": "LABEL",
                                                                             "key": body_rule_label(r)}}
                                                  for r in PROMPT_BODY_RULES]}},
                {"not_statement": {"statement": on([r["path"] for r in prompts.values()])}}]}},
            "visibility_config": visibility("body-rules")}]
        for i, (svc, route) in enumerate(sorted(prompts.items()), start=first + 1):
            rules.append({
                "name": f"body-size-{svc}", "priority": i, "action": block,
                "statement": {"and_statement": {"statements": [on([route["path"]]), {"size_constraint_statement": {
                    "comparison_operator": "GT", "size": route["maxBodyKb"] * 1024,
                    "field_to_match": {"body": {"oversize_handling": "MATCH"}},
                    "text_transformations": [{"priority": 0, "type": "NONE"}]}}]}},
                "visibility_config": visibility(f"body-size-{svc}")})
        rules.append({
            "name": "rate-limit-per-user", "priority": first + 1 + len(prompts), "action": block,
            "statement": {"rate_based_statement": {
                "limit": s.waf_user_rate_limit, "evaluation_window_sec": 300, "aggregate_key_type": "CUSTOM_KEYS",
                "custom_keys": [{"header": {"name": "authorization",
                                            "text_transformations": [{"priority": 0, "type": "NONE"}]}}],
                "scope_down_statement": on([r["path"] for r in prompts.values()])}},
            "visibility_config": visibility("rate-limit-user")})
        return rules

    def _proxy_method(self, key, api, resource_id, is_proxy, authorizer, backend_url, alb_arn, prefix="",
                      route=None) -> list:
        """ANY on the resource, Cognito-authorized, proxied to the ALB (or a mock until one exists); a service's
        route streams (`responseTransferMode: STREAM`) and waits as long as its contract says."""
        method = aws.apigateway.Method(
            f"api-{key}-any", rest_api=api.id, resource_id=resource_id, http_method="ANY",
            authorization="COGNITO_USER_POOLS", authorizer_id=authorizer.id,
            request_parameters={"method.request.path.proxy": True} if is_proxy else None,
            opts=pulumi.ResourceOptions(parent=self))
        opts = pulumi.ResourceOptions(parent=self, depends_on=[method])
        if self._vpc_link is not None:
            # Private integration over the VPC link (V2) to the internal ALB: `integration_target` is the load
            # balancer, `uri` sets the Host header (the name the ALB's certificate covers; http:// without one).
            path = f"{prefix}/{{proxy}}" if is_proxy else (prefix or "/")
            integration = aws.apigateway.Integration(
                f"api-{key}-integration", rest_api=api.id, resource_id=resource_id, http_method=method.http_method,
                type="HTTP_PROXY", integration_http_method="ANY", connection_type="VPC_LINK",
                connection_id=self._vpc_link.id, integration_target=alb_arn,
                uri=pulumi.Output.concat(backend_url, path),
                timeout_milliseconds=route["timeoutMs"] if route else DEFAULT_TIMEOUT_MS,
                # explicit BUFFERED too: once set, the provider only goes back to BUFFERED when told so
                response_transfer_mode=route["response"] if route else "BUFFERED",
                request_parameters={
                    **({"integration.request.path.proxy": "method.request.path.proxy"} if is_proxy else {}),
                    # a constant replaces whatever the client sent: the test rule's value never arrives from outside
                    **{f"integration.request.header.{h}": "'none'" for h in self._internal_headers}} or None,
                opts=opts)
            return [method, integration]
        integration = aws.apigateway.Integration(
            f"api-{key}-integration", rest_api=api.id, resource_id=resource_id, http_method=method.http_method,
            type="MOCK", request_templates={"application/json": '{"statusCode": 503}'}, opts=opts)
        response = aws.apigateway.MethodResponse(
            f"api-{key}-any-503", rest_api=api.id, resource_id=resource_id, http_method=method.http_method,
            status_code="503", opts=opts)
        ir = aws.apigateway.IntegrationResponse(
            f"api-{key}-any-503-integration", rest_api=api.id, resource_id=resource_id,
            http_method=method.http_method, status_code="503",
            response_templates={"application/json": '{"message": "backend not wired yet"}'},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration, response]))
        return [method, integration, response, ir]

    def _cors_preflight(self, key, api, resource_id, allowed_origin) -> list:
        """OPTIONS answered by API Gateway itself: the one method without an authorizer (no credentials)."""
        opts = pulumi.ResourceOptions(parent=self)
        method = aws.apigateway.Method(
            f"api-{key}-options", rest_api=api.id, resource_id=resource_id, http_method="OPTIONS",
            authorization="NONE", opts=opts)
        dep = pulumi.ResourceOptions(parent=self, depends_on=[method])
        integration = aws.apigateway.Integration(
            f"api-{key}-options-integration", rest_api=api.id, resource_id=resource_id,
            http_method=method.http_method, type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'}, opts=dep)
        header = "method.response.header.Access-Control-Allow-"
        response = aws.apigateway.MethodResponse(
            f"api-{key}-options-200", rest_api=api.id, resource_id=resource_id, http_method=method.http_method,
            status_code="200", response_parameters={f"{header}{h}": True for h in ("Origin", "Headers", "Methods")},
            opts=dep)
        ir = aws.apigateway.IntegrationResponse(
            f"api-{key}-options-200-integration", rest_api=api.id, resource_id=resource_id,
            http_method=method.http_method, status_code="200",
            response_parameters={f"{header}Origin": allowed_origin, f"{header}Headers": CORS_HEADERS,
                                 f"{header}Methods": CORS_METHODS},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration, response]))
        return [method, integration, response, ir]
