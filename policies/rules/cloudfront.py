"""CloudFront: HTTPS only, modern TLS, WAF, access logs, Origin Access Control for S3 origins."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import flag, fsbp, get, items, resource_policy, stack_policy
from ._shared import keys, supplied_by_urn

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"

OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"

WEB_ACL = "aws:wafv2/webAcl:WebAcl"

LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"

LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"

SECURE_VIEWER = ("redirect-to-https", "https-only")

DEFAULT_MIN_TLS = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]


def supplied_by(resource, prop: str, token: str) -> bool:
    """Does `prop` of `resource` take its value from a resource of type `token`?"""
    return any(d.resource_type == token for d in resource.property_dependencies.get(prop, []))


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


POLICIES = [
    resource_policy("cloudfront-https-only", "CloudFront must serve viewers over HTTPS only.", (DISTRIBUTION,),
                    _https_only, severity=Severity.HIGH, framework=fsbp("CloudFront.3"),
                    remediation="Set viewerProtocolPolicy='redirect-to-https' on every cache behavior.",
                    tags=["checkov:CKV_AWS_34",
                          "compliance-policies:aws-cloudfront-distribution-disallow-unencrypted-traffic",
                          "cloudfront", "encryption-in-transit"]),
    resource_policy("cloudfront-min-tls", "CloudFront viewer connections must use TLS 1.2 or later.", (DISTRIBUTION,),
                    _min_tls, severity=Severity.HIGH, framework=fsbp("CloudFront.8"),
                    remediation="Use a custom domain with an ACM certificate from us-east-1 and "
                                "minimumProtocolVersion='TLSv1.2_2021'.",
                    tags=["checkov:CKV_AWS_174", "cdk-nag:AwsSolutions-CFR4",
                          "compliance-policies:aws-cloudfront-distribution-configure-secure-tls",
                          "cloudfront", "encryption-in-transit"],
                    config_schema=PolicyConfigSchema(properties={
                        "allowedProtocolVersions": {"type": "array", "items": {"type": "string"},
                                                    "default": DEFAULT_MIN_TLS}})),
    stack_policy("cloudfront-waf-attached", "CloudFront distributions must be protected by a WAF web ACL.",
                 _waf_attached, severity=Severity.HIGH, framework=fsbp("CloudFront.6"),
                 remediation="Create an aws.wafv2.WebAcl (scope CLOUDFRONT, us-east-1 provider) and set webAclId.",
                 tags=["checkov:CKV_AWS_68", "cdk-nag:AwsSolutions-CFR2",
                       "compliance-policies:aws-cloudfront-distribution-configure-waf",
                       "cloudfront", "waf"],
        types=('aws:cloudfront/distribution:Distribution', 'aws:wafv2/webAcl:WebAcl')),
    stack_policy("cloudfront-logging", "CloudFront distributions must log access requests.", _logging,
                 severity=Severity.MEDIUM, framework=fsbp("CloudFront.5"),
                 remediation="Add standard logging v2: LogDeliverySource(logType='ACCESS_LOGS', resourceArn=dist.arn), "
                             "LogDeliveryDestination and LogDelivery (us-east-1).",
                 tags=["checkov:CKV_AWS_86", "cdk-nag:AwsSolutions-CFR3",
                       "compliance-policies:aws-cloudfront-distribution-enable-access-logging",
                       "compliance-policies:aws-cloudfront-distribution-configure-access-logging",
                       "cloudfront", "logging"],
        types=('aws:cloudwatch/logDeliverySource:LogDeliverySource', 'aws:cloudwatch/logDelivery:LogDelivery',
               'aws:cloudfront/distribution:Distribution')),
    stack_policy("cloudfront-s3-origin-oac", "CloudFront S3 origins must use Origin Access Control.", _s3_origin_oac,
                 severity=Severity.HIGH, framework=fsbp("CloudFront.13"),
                 remediation="Create an aws.cloudfront.OriginAccessControl (s3, sigv4, always) and set "
                             "originAccessControlId on the origin; grant the bucket to that distribution only.",
                 tags=["checkov:CKV2_AWS_46", "cdk-nag:AwsSolutions-CFR7",
                       "cloudfront", "s3", "access"],
        types=('aws:cloudfront/distribution:Distribution', 'aws:cloudfront/originAccessControl:OriginAccessControl')),
]


# --- edges (issue 31): custom origins fetched over plain HTTP or old TLS --------------------------------------
SECURE_ORIGIN_PROTOCOLS = ("TLSv1.2",)


def _origin_https(props, report, args):
    behaviors = [get(props, "defaultCacheBehavior")] + items(get(props, "orderedCacheBehaviors"))
    for i, origin in enumerate(items(get(props, "origins"))):
        custom = get(origin, "customOriginConfig")
        if custom is None:
            continue  # S3 (OAC) and VPC origins
        origin_id = get(origin, "originId") or str(i)
        policy = get(custom, "originProtocolPolicy")
        if policy == "http-only":
            report(f"origin {origin_id}: originProtocolPolicy 'http-only' fetches from the origin in clear; use "
                   f"'https-only'.")
        elif policy == "match-viewer":
            plain_viewers = [b for b in behaviors if b is not None and get(b, "targetOriginId") == origin_id
                             and get(b, "viewerProtocolPolicy") not in SECURE_VIEWER]
            if plain_viewers:
                report(f"origin {origin_id}: originProtocolPolicy 'match-viewer' with a behavior that accepts HTTP "
                       f"viewers fetches from the origin in clear; use 'https-only'.")
        old = [str(p) for p in items(get(custom, "originSslProtocols")) if str(p) not in SECURE_ORIGIN_PROTOCOLS]
        if old and policy != "http-only":
            report(f"origin {origin_id}: originSslProtocols allows {', '.join(old)}; use ['TLSv1.2'] only.")


POLICIES.append(resource_policy(
    "cloudfront-origin-https", "CloudFront must reach custom origins over HTTPS with TLS 1.2 (no http-only, no "
    "SSLv3/TLSv1/TLSv1.1).", (DISTRIBUTION,), _origin_https, severity=Severity.HIGH, framework=fsbp("CloudFront.9"),
    remediation="customOriginConfig: originProtocolPolicy='https-only', originSslProtocols=['TLSv1.2'] (the origin "
                "needs a certificate for the name CloudFront connects to).",
    refs={"checkov": "CKV2_AWS_72", "cdk-nag": "AwsSolutions-CFR5", "fsbp": "CloudFront.10",
          "pulumi": ["aws-cloudfront-distribution-enable-tls-to-origin",
                     "aws-cloudfront-distribution-configure-secure-tls-to-origin"]},
    tags=["cloudfront", "encryption-in-transit"]))


# ------------------------------------------------------------------ deployability (issue 24)
_CF_DOCS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"


def _certificate_region(resources, report, args):
    from ._compliance import is_unknown as unknown
    from ._links import arn_region, linked, provider_region
    for r in (x for x in resources if x.resource_type == DISTRIBUTION):
        cert = get(r.props, "viewerCertificate") or {}
        aliases = [] if unknown(r.props, "aliases") else items(get(r.props, "aliases"))
        if aliases and flag(cert, "cloudfrontDefaultCertificate") is True:
            report(f"distribution {r.name} has aliases {', '.join(map(str, aliases))} with the default CloudFront "
                   "certificate: an alternate domain name needs a certificate that covers it.", r.urn)
        if not unknown(cert, "acmCertificateArn"):
            region = arn_region(get(cert, "acmCertificateArn"))
            if region is not None and region != "us-east-1":
                report(f"distribution {r.name}: viewerCertificate.acmCertificateArn is in {region}; CloudFront uses "
                       "ACM certificates from us-east-1 only.", r.urn)
        else:
            for c in linked(resources, r, "viewerCertificate", ("aws:acm/certificate:Certificate",)):
                if provider_region(c) not in (None, "us-east-1"):
                    report(f"distribution {r.name}: its certificate {c.name} is created in {provider_region(c)}; "
                           "CloudFront uses ACM certificates from us-east-1 only.", r.urn)
        acl = None if unknown(r.props, "webAclId") else get(r.props, "webAclId")
        if isinstance(acl, str) and acl.startswith("arn:aws:wafv2:") and (":regional/" in acl
                                                                          or arn_region(acl) != "us-east-1"):
            report(f"distribution {r.name}: webAclId {acl} is a regional web ACL; CloudFront takes a web ACL of scope "
                   "CLOUDFRONT (created in us-east-1).", r.urn)
        for w in linked(resources, r, "webAclId", (WEB_ACL,)):
            if not unknown(w.props, "scope") and get(w.props, "scope") != "CLOUDFRONT":
                report(f"distribution {r.name}: web ACL {w.name} has scope {get(w.props, 'scope')!r}; CloudFront "
                       "takes scope CLOUDFRONT (us-east-1).", r.urn)


POLICIES.append(stack_policy(
    "cloudfront-certificate-and-acl-us-east-1",
    "A CloudFront distribution's ACM certificate must be in us-east-1 and cover its aliases, and its WAF web ACL "
    f"must have scope CLOUDFRONT (CloudFront Developer Guide, \"Requirements for using SSL/TLS certificates with "
    f"CloudFront\": {_CF_DOCS}cnames-and-https-requirements.html; \"Use AWS WAF protections\": "
    f"{_CF_DOCS}distribution-web-awswaf.html).",
    _certificate_region, types=(DISTRIBUTION, WEB_ACL, "aws:acm/certificate:Certificate"), severity=Severity.HIGH,
    remediation="Request the certificate in us-east-1 (a provider for us-east-1) and create the web ACL with "
                "scope CLOUDFRONT in us-east-1.", tags=["cloudfront", "deployability"]))
