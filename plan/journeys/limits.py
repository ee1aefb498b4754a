"""The documented limits the journeys are decided against, each with where it was read (2026-12-07). Copied from
the sourced collection the platform team keeps; the check reads only this file."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Limit:
    value: object
    text: str
    source: str


_REST_QUOTAS = ("Quotas for configuring and running a REST API in API Gateway, "
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html")
_STREAM = ("Stream the integration response for your proxy integrations in API Gateway, "
           "https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html")
_ALB_ATTRS = ("Edit attributes for your Application Load Balancer, "
              "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html")
_WAF_BODY = ("Managing body inspection size limits for AWS WAF, "
             "https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html")
_S3_MPU = ("Amazon S3 multipart upload limits, https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html")

LIMITS: dict[str, Limit] = {
    "csp": Limit(None, "the browser connects only to connect-src hosts of the page's Content-Security-Policy",
                 "Content Security Policy Level 3, connect-src, https://www.w3.org/TR/CSP3/#directive-connect-src"),
    "waf-rules": Limit(None, "rules in priority order; managed rules overridden to count only label the request",
                       "Baseline rule groups (core rule set labels), "
                       "https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html"),
    "waf-body": Limit(16, "WAF inspects the first 16 KB of an API Gateway body (16-64 KB with the web ACL's "
                          "association config); oversize handling decides beyond", _WAF_BODY),
    "waf-rate": Limit(None, "a rate-based rule blocks a key (IP, header) past its limit per evaluation window",
                      "Using rate-based rule statements in AWS WAF, "
                      "https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html"),
    "apigw-payload": Limit(10 * 1024 * 1024, "10 MB request and buffered response payload, not adjustable",
                           "Amazon API Gateway quotas and important notes (archived awsdocs limits.md), "
                           "https://github.com/awsdocs/amazon-api-gateway-developer-guide; " + _STREAM),
    "apigw-buffered-timeout": Limit(29_000, "integration timeout 50 ms - 29 s buffered (above needs a quota "
                                            "increase that may lower the account throttle)", _REST_QUOTAS),
    "apigw-stream": Limit(900_000, "STREAM (HTTP_PROXY/AWS_PROXY): up to 15 minutes, past 10 MB, idle at most 5 "
                                   "minutes on Regional endpoints, binary without binaryMediaTypes", _STREAM),
    "apigw-stream-idle": Limit(300, "a streamed response idle more than 5 minutes is cut (Regional)", _STREAM),
    "apigw-binary": Limit(None, "a body whose Content-Type (request) or first Accept type (response) matches "
                                "binaryMediaTypes passes as bytes; otherwise it is converted to UTF-8 text",
                          "Content type conversions in API Gateway, https://docs.aws.amazon.com/apigateway/latest/"
                          "developerguide/api-gateway-payload-encodings-workflow.html"),
    "apigw-throttle": Limit(5000, "token bucket: the stage's burst and rate, within the account's 10,000 RPS and "
                                  "burst 5,000 per Region", "Amazon API Gateway quotas, "
                                  "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"),
    "apigw-gateway-responses": Limit(None, "errors API Gateway itself returns (WAF 403, 413, 429, 504) carry only "
                                           "the gateway response's headers",
                                     "Gateway responses in API Gateway, https://docs.aws.amazon.com/apigateway/latest/"
                                     "developerguide/api-gateway-gatewayResponse-definition.html"),
    "vpc-link": Limit(None, "VPC link V2: HTTP_PROXY with connectionType VPC_LINK and integrationTarget = the ALB",
                      "Set up a private integration, https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                      "set-up-private-integration.html"),
    "alb-idle": Limit((1, 4000), "connection idle timeout 1-4000 s (default 60): a wait without a byte longer than "
                                 "it is cut; the target's keep-alive must exceed it, else 502", _ALB_ATTRS),
    "alb-headers": Limit(64 * 1024, "request line 16 K, one header 16 K, all request headers 64 K",
                         "Quotas for your Application Load Balancers, https://docs.aws.amazon.com/"
                         "elasticloadbalancing/latest/application/load-balancer-limits.html"),
    "tg-deregistration": Limit((0, 3600), "deregistration delay 0-3600 s: requests in flight on a target being "
                                          "replaced get this long to finish",
                               "TargetGroupAttribute, https://docs.aws.amazon.com/elasticloadbalancing/latest/"
                               "APIReference/API_TargetGroupAttribute.html"),
    "s3-put": Limit(5 * 1024 ** 3, "one PUT up to 5 GB", "Uploading objects, "
                                                         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html"),
    "s3-multipart": Limit((5 * 1024 ** 2, 10_000), "parts of 5 MiB - 5 GiB, at most 10,000 parts", _S3_MPU),
    "s3-cors": Limit(100, "a browser PUT from another origin needs a CORS rule for that origin and method (at most "
                          "100 rules); multipart needs ETag exposed",
                     "CORSConfiguration, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSConfiguration.html"),
    "s3-presign": Limit(604_800, "a presigned URL acts with its signer's permissions (and expires with its "
                                 "credentials); SSE-KMS multipart also needs kms:Decrypt and kms:GenerateDataKey",
                        "Download and upload objects with presigned URLs, https://docs.aws.amazon.com/AmazonS3/latest/"
                        "userguide/using-presigned-url.html; Uploading and copying objects using multipart upload, "
                        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html"),
}
