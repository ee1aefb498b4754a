"""ACM certificates: transparency logging, key size, renewal."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_set
from ._lib import fsbp, get, items, resource_policy

CERTIFICATE = "aws:acm/certificate:Certificate"


def _acm(props, report, args):
    cfg = args.get_config() or {}
    if get(props, "options.certificateTransparencyLoggingPreference") == "DISABLED":
        report("options.certificateTransparencyLoggingPreference DISABLED: browsers reject certificates missing "
               "from CT logs and mis-issuance goes unnoticed.")
    algorithm = str(get(props, "keyAlgorithm", "RSA_2048"))
    if algorithm in ("RSA_1024",):
        report(f"keyAlgorithm {algorithm} is below 2048 bits.")
    # presence decides (an imported key is often another resource's output, e.g. tls.PrivateKey)
    if is_set(props, "privateKey") or is_set(props, "certificateBody") or is_set(props, "privateKeyWo"):
        if not cfg.get("allowImported", False):
            report("imported certificates do not renew automatically; request an ACM certificate instead.")
    if not cfg.get("allowWildcard", True):
        names = [get(props, "domainName")] + items(get(props, "subjectAlternativeNames"))
        wild = [n for n in names if isinstance(n, str) and n.startswith("*.")]
        if wild:
            report(f"wildcard name(s) {', '.join(wild)}: a leaked key impersonates every host of the domain.")


POLICIES = [
    resource_policy(
        "acm-certificate-secure", "ACM certificates keep transparency logging, use 2048+ bit keys and renew "
        "automatically (no imported certificates, optionally no wildcards).", (CERTIFICATE,), _acm,
        severity=Severity.MEDIUM, framework=fsbp("ACM.2"),
        remediation="Request DNS-validated ACM certificates with default options; list exact host names.",
        tags=["tls", "acm", "awsguard:acm-certificate-expiration"],
        config_schema=PolicyConfigSchema(properties={
            "allowImported": {"type": "boolean", "default": False},
            "allowWildcard": {"type": "boolean", "default": True}})),
]
