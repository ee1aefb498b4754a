"""Edge tier settings: the SPA's CloudFront distribution, the REST API, Cognito and the two WAF ACLs."""
from __future__ import annotations

import dataclasses

from .schema import DOMAIN, HOSTED_ZONE_ID, Bool, ConfigError, Enum, EnvDefault, Int, ListOf, Maybe, Spec, Str, setting  # noqa: F401

# Cognito accepts http:// only for localhost; everything else must be https.
REDIRECT_URL = Str(r"(https://[A-Za-z0-9.-]+(:\d+)?(/[^\s#]*)?)|(http://localhost(:\d+)?(/[^\s#]*)?)",
                   "an https:// URL (http:// only for localhost), without a fragment", max_len=1024)
# CloudFront only accepts certificates from ACM in us-east-1.
CERT_ARN = Str(r"arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}",
               "an ACM certificate ARN in us-east-1 (CloudFront reads certificates only from there)", max_len=2048)
# API Gateway regional custom domains read ACM certificates of their own region (any region's ARN here: the
# cross-tier check compares it with aws:region).
REGIONAL_CERT_ARN = Str(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
                        "an ACM certificate ARN of the stack's region (API Gateway regional custom domain)",
                        max_len=2048)
OAUTH_SCOPE = Enum("openid", "email", "profile", "phone", "aws.cognito.signin.user.admin")


@dataclasses.dataclass(frozen=True)
class EdgeSettings:
    price_class: str = setting(Enum("PriceClass_100", "PriceClass_200", "PriceClass_All"),
                               EnvDefault(dev="PriceClass_100", prod="PriceClass_All"),
                               "CloudFront edge locations used (100 = North America and Europe only)")
    custom_domain: str | None = setting(Maybe(DOMAIN), None,
                                           "Alias for the distribution; without it the *.cloudfront.net certificate "
                                           "pins the minimum TLS version at TLSv1 (policy cloudfront-min-tls)")
    certificate_arn: str | None = setting(Maybe(CERT_ARN), None,
                                             "Existing us-east-1 ACM certificate for customDomain")
    hosted_zone_id: str | None = setting(Maybe(HOSTED_ZONE_ID), None,
                                            "Zone of customDomain: a DNS-validated certificate is created (us-east-1) "
                                            "and an alias record added when certificateArn is not given")
    api_domain_name: str | None = setting(
        Maybe(DOMAIN), None,
        "Custom domain of the API (an API Gateway REGIONAL custom domain, per region when the DR region stands): "
        "with dr.hostedZoneId the stack owns its Route 53 failover records; none: clients use the invoke URL")
    api_certificate_arn: str | None = setting(Maybe(REGIONAL_CERT_ARN), None,
                                                 "ACM certificate for apiDomainName in aws:region (regional custom "
                                                 "domains read certificates of their own region)")
    api_stage_name: str = setting(Str(r"[A-Za-z0-9_]{1,64}", "letters, digits and _"), "v1", "REST API stage name")
    api_throttle_rate_limit: int = setting(Int(1, 10000), EnvDefault(dev=50, prod=500),
                                           "Steady-state requests per second across the stage")
    api_throttle_burst_limit: int = setting(Int(1, 5000), EnvDefault(dev=100, prod=1000), "Burst bucket size")
    manage_api_gateway_account: bool = setting(
        Bool(), EnvDefault(False, True),
        "Own this region's API Gateway CloudWatch Logs role (one setting per account and region): the prod stack by "
        "default, so destroying dev never stops prod's API logs. Exactly one stack per account may set it; stage "
        "logging of the others needs it set first.")
    api_log_retention_days: int = setting(Int(1, 3653), EnvDefault(dev=30, prod=365),
                                          "Retention of API access logs")
    waf_rate_limit: int = setting(Int(10, 2_000_000_000), EnvDefault(dev=1000, prod=2000),
                                  "Requests per 5 minutes per client IP before WAF blocks it (both ACLs)")
    waf_user_rate_limit: int = setting(Int(10, 2_000_000_000), 300,
                                       "Requests per 5 minutes per user (Authorization header) to the prompts routes "
                                       "before WAF blocks them (compensates the body rules counted there)")
    waf_log_retention_days: int = setting(Int(1, 3653), EnvDefault(dev=30, prod=365), "Retention of WAF logs")
    email_source_arn: str | None = setting(
        Maybe(Str(r"arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/[^\s]+", "an SES identity ARN")), None,
        "Verified SES identity Cognito sends invitations, codes and resets from (DEVELOPER sending). None: Cognito's "
        "built-in e-mail (about 50 messages a day, no custom sender): acceptable in dev only")
    email_from: str | None = setting(
        Maybe(Str(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|.+ <[^@\s]+@[^@\s]+\.[A-Za-z]{2,}>", "an e-mail address",
                  max_len=254)), None, "The From address of Cognito's e-mail (an address of emailSourceArn's identity)")
    mfa: str = setting(Enum("OFF", "OPTIONAL", "ON"), EnvDefault(dev="OPTIONAL", prod="ON"),
                       "Cognito MFA (software token); policy cognito-mfa-required expects ON")
    password_min_length: int = setting(Int(12, 99), 14, "Cognito password minimum length")
    temporary_password_validity_days: int = setting(Int(1, 365), 3, "Validity of admin-issued temporary passwords")
    user_pool_tier: str = setting(Enum("LITE", "ESSENTIALS", "PLUS"), "PLUS",
                                  "Cognito feature plan; threat protection (advanced security) needs PLUS")
    threat_protection: str = setting(Enum("OFF", "AUDIT", "ENFORCED"), "ENFORCED",
                                     "Cognito threat protection mode (userPoolAddOns.advancedSecurityMode)")
    deletion_protection: bool = setting(Bool(), EnvDefault(dev=False, prod=True), "Cognito user pool deletion protection")
    auth_domain_prefix: str | None = setting(
        Maybe(Str(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", "lowercase letters, digits and -, not starting or ending "
                  "with -")), None,
        "Cognito hosted-UI domain prefix (unique per region); default <project>-<stack>-<account id>")
    callback_urls: tuple = setting(ListOf(REDIRECT_URL, min_items=1, max_items=100),
                                   EnvDefault(dev=["http://localhost:4200/auth/callback"],
                                              prod=["https://app.example.com/auth/callback"]),
                                   "SPA OAuth redirect URLs (code flow)")
    logout_urls: tuple = setting(ListOf(REDIRECT_URL, min_items=1, max_items=100),
                                 EnvDefault(dev=["http://localhost:4200/"], prod=["https://app.example.com/"]),
                                 "SPA sign-out URLs")
    oauth_scopes: tuple = setting(ListOf(OAUTH_SCOPE, min_items=1), ["openid", "email", "profile"],
                                  "OAuth scopes the SPA may request")
    access_token_validity_minutes: int = setting(Int(5, 1440), 60, "Access and ID token lifetime")
    refresh_token_validity_days: int = setting(Int(1, 3650), EnvDefault(dev=30, prod=7), "Refresh token lifetime")

    def validate(self, path: str) -> None:
        if bool(self.api_domain_name) != bool(self.api_certificate_arn):
            raise ConfigError(f"{path}.apiCertificateArn" if self.api_domain_name else f"{path}.apiDomainName",
                              None, "apiDomainName and apiCertificateArn together (a custom domain needs a regional "
                                    "certificate covering it), or neither")
        if bool(self.email_source_arn) != bool(self.email_from):
            raise ConfigError(f"{path}.emailFrom" if self.email_source_arn else f"{path}.emailSourceArn", None,
                              "emailSourceArn and emailFrom together (SES sends as an address of the identity), "
                              "or neither")
        # Cognito refuses prefixes containing these words (InvalidParameterException on CreateUserPoolDomain).
        if self.auth_domain_prefix and any(w in self.auth_domain_prefix for w in ("aws", "amazon", "cognito")):
            raise ConfigError(f"{path}.authDomainPrefix", self.auth_domain_prefix,
                              "a prefix without the reserved words aws, amazon or cognito")
        if self.threat_protection != "OFF" and self.user_pool_tier != "PLUS":
            raise ConfigError(f"{path}.threatProtection", self.threat_protection,
                              "'OFF' unless userPoolTier is 'PLUS' (Cognito rejects threat protection on other "
                              "feature plans: FeatureUnavailableInTierException)")
        if (self.certificate_arn or self.hosted_zone_id) and not self.custom_domain:
            raise ConfigError(f"{path}.customDomain", None, "a domain when certificateArn or hostedZoneId is set")
        if self.custom_domain and not (self.certificate_arn or self.hosted_zone_id):
            raise ConfigError(f"{path}.certificateArn", None,
                              "a us-east-1 ACM certificate ARN, or hostedZoneId to create one, when customDomain is set")
