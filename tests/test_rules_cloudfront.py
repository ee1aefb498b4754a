"""Tests for policies/rules/cloudfront.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

DIST = "aws:cloudfront/distribution:Distribution"

OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"

ACL = "aws:wafv2/webAcl:WebAcl"


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


# --- issue 31: custom origins over HTTPS ---------------------------------------------------------------------
def _custom(name, policy, protocols=("TLSv1.2",), viewer="redirect-to-https"):
    return rec(DIST, name, {
        "origins": [{"originId": "api", "domainName": "api.example.com", "customOriginConfig": {
            "httpPort": 80, "httpsPort": 443, "originProtocolPolicy": policy, "originSslProtocols": list(protocols)}},
            {"originId": "site", "domainName": UNKNOWN, "originAccessControlId": UNKNOWN}],
        "defaultCacheBehavior": {"targetOriginId": "api", "viewerProtocolPolicy": viewer}})


def test_custom_origin_over_http_or_old_tls_is_reported():
    r = check([_custom("http-only", "http-only"), _custom("old-tls", "https-only", ("TLSv1", "TLSv1.2")),
               _custom("match-allow-all", "match-viewer", viewer="allow-all"),
               _custom("match-https", "match-viewer"), _custom("https", "https-only")])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "cloudfront-origin-https")}
    assert set(found) == {"http-only", "old-tls", "match-allow-all"}
    assert "'http-only'" in found["http-only"] and "TLSv1" in found["old-tls"]
    assert not skipped(r, "cloudfront-origin-https")


# ------------------------------------------------------------------ deployability (issue 24)
def test_certificate_in_us_east_1_covering_the_aliases_and_a_cloudfront_scope_acl():
    dist = "aws:cloudfront/distribution:Distribution"
    base = {"aliases": ["app.example.com"], "webAclId": UNKNOWN,
            "viewerCertificate": {"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
                                  "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}}
    acl = rec("aws:wafv2/webAcl:WebAcl", "acl", {"scope": "CLOUDFRONT"})
    good = check([acl, rec(dist, "site", base, prop_deps={"webAclId": ["acl"]})])
    assert violations(good, "cloudfront-certificate-and-acl-us-east-1") == []
    assert skipped(good, "cloudfront-certificate-and-acl-us-east-1") == []
    wrong_region = {**base, "viewerCertificate": {**base["viewerCertificate"],
                                                  "acmCertificateArn": "arn:aws:acm:eu-west-1:1:certificate/c"}}
    default_cert = {**base, "viewerCertificate": {"cloudfrontDefaultCertificate": True}}
    regional_acl = rec("aws:wafv2/webAcl:WebAcl", "regional", {"scope": "REGIONAL"})
    r = check([acl, regional_acl, rec(dist, "eu", wrong_region, prop_deps={"webAclId": ["acl"]}),
               rec(dist, "default", default_cert, prop_deps={"webAclId": ["acl"]}),
               rec(dist, "regional-acl", base, prop_deps={"webAclId": ["regional"]})])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "cloudfront-certificate-and-acl-us-east-1")}
    assert set(found) == {"eu", "default", "regional-acl"}
    assert "us-east-1 only" in found["eu"] and "alternate domain name" in found["default"]
    assert "scope CLOUDFRONT" in found["regional-acl"]
