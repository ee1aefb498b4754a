"""Browser-facing flows: the SPA signs in (Cognito callback), calls the API (CORS, also on the gateway's own
error responses), and the API's web ACL lets real request bodies through. These are not IAM decisions but
they are flows the platform intends, and each has failed before (issue 12)."""
from __future__ import annotations

from .iam import Verdict, is_unknown

# Statuses a browser must be able to read (else the SPA sees a CORS error instead of the status):
# the authorizer's 401, WAF's 403, throttling's 429, an integration timeout's 504.
GATEWAY_STATUSES = {
    "401": ("UNAUTHORIZED", "DEFAULT_4XX"),
    "403": ("WAF_FILTERED", "ACCESS_DENIED", "DEFAULT_4XX"),
    "429": ("THROTTLED", "QUOTA_EXCEEDED", "DEFAULT_4XX"),
    "504": ("INTEGRATION_TIMEOUT", "DEFAULT_5XX"),
}
BODY_BYTES = 100 * 1024  # a prompt with context, or a small document


def _unquote(v) -> str:
    return str(v).strip().strip("'") if v is not None else ""


def _origin_ok(value, origin) -> bool:
    v = _unquote(value)
    return v == "*" or v.rstrip("/") == origin


def spa_origins(c) -> list:
    m = c.m
    out = []
    for d in m.of_type("aws:cloudfront/distribution:Distribution"):
        aliases = m.get(d, "aliases") or []
        if aliases and not is_unknown(aliases):
            out += [f"https://{a}" for a in aliases]
        else:
            dom = m.get(d, "domainName")
            out.append("(unknown)" if is_unknown(dom) or not dom else f"https://{dom}")
    return out


def web(c):
    m = c.m
    origins = spa_origins(c)
    if not origins:
        return
    origin = origins[0]
    known = origin != "(unknown)"
    # sign-in: the hosted UI redirects back only to a registered callback URL
    for client in m.of_type("aws:cognito/userPoolClient:UserPoolClient"):
        if "code" not in (m.get(client, "allowedOauthFlows") or []) and "implicit" not in (m.get(client, "allowedOauthFlows") or []):
            continue
        urls = m.get(client, "callbackUrls") or []
        if not known or is_unknown(urls):
            v = Verdict(None, "site origin or callback URLs unknown until apply")
        else:
            hit = [u for u in urls if str(u).rstrip("/") == origin or str(u).startswith(origin + "/")]
            v = Verdict(bool(hit), f"callback {hit[0]}" if hit else f"callbacks {', '.join(map(str, urls))} do not include {origin}")
        c.add(f"SPA {origin}", f"Cognito client {m.get(client, 'name')}", "OAuth code flow callback", "allow",
              [("callback URL", v)], "web")
    # the API's preflight answers the SPA's origin
    opts = [r for r in m.of_type("aws:apigateway/integrationResponse:IntegrationResponse") if m.get(r, "httpMethod") == "OPTIONS"]
    if opts:
        vals = [(m.get(r, "responseParameters") or {}).get("method.response.header.Access-Control-Allow-Origin") for r in opts]
        if not known or any(is_unknown(v) for v in vals):
            v = Verdict(None, "origin unknown until apply")
        else:
            bad = [_unquote(x) for x in vals if not _origin_ok(x, origin)]
            v = Verdict(not bad, f"Access-Control-Allow-Origin {origin}" if not bad else
                        f"Access-Control-Allow-Origin is {bad[0]}, not {origin}")
        c.add(f"SPA {origin}", "API (CORS preflight)", "OPTIONS", "allow", [("preflight", v)], "web")
    # the gateway's own error responses carry CORS headers
    apis = m.of_type("aws:apigateway/restApi:RestApi")
    if apis:
        responses: dict = {}
        for r in m.of_type("aws:apigateway/response:Response"):
            responses[m.get(r, "responseType")] = (m.get(r, "responseParameters") or {}).get(
                "gatewayresponse.header.Access-Control-Allow-Origin")
        checks = []
        for status, types in GATEWAY_STATUSES.items():
            found = next((t for t in types if t in responses and (not known or _origin_ok(responses[t], origin))), None)
            checks.append((f"{status} response", Verdict(True, f"{found} carries Access-Control-Allow-Origin") if found else
                           Verdict(False, f"no gateway response ({'/'.join(types)}) carries Access-Control-Allow-Origin: "
                                          f"the browser sees a CORS error instead of {status}")))
        c.add("API gateway errors (401/403/429/504)", f"SPA {origin}", "readable error response", "allow", checks, "web")
    # request bodies: the API's web ACL must not block a real prompt/document
    stage_acls = [m.get(a, "webAclArn") for a in m.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
                  if "/restapis/" in str(m.get(a, "resourceArn"))]
    for acl_arn in stage_acls:
        acl = m.find(acl_arn, "aws:wafv2/webAcl:WebAcl")
        if acl is None or is_unknown(acl_arn):
            continue
        blocking = []
        for rule in m.get(acl, "rules") or []:
            mg = (rule.get("statement") or {}).get("managedRuleGroupStatement") or {}
            if mg.get("name") != "AWSManagedRulesCommonRuleSet" or "count" in (rule.get("overrideAction") or {}):
                continue
            overridden = {o.get("name") for o in mg.get("ruleActionOverrides") or []
                          if set(o.get("actionToUse") or {}) & {"count", "allow"}}
            overridden |= {e.get("name") for e in mg.get("excludedRules") or []}
            if "SizeRestrictions_BODY" not in overridden:
                blocking.append(rule.get("name"))
        v = Verdict(not blocking, "no rule limits the body to 8 KB" if not blocking else
                    f"{blocking[0]}: SizeRestrictions_BODY blocks bodies over 8 KB (403)")
        dr = "" if m.region_of(acl) == c.primary else f", DR {m.region_of(acl)}"
        c.add("client", f"API (web ACL {m.get(acl, 'name')}{dr})", f"POST with a {BODY_BYTES // 1024} KB body", "allow",
              [("web ACL", v)], "web")
