"""Cross-tier configuration checks: the one place where one section's value constrains another's.

Each tier validates its own section (the `setting(...)` specs); a rule that relates two sections lives
here, runs once after every section is parsed, and fails with the same one-line ConfigError.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from functions.db_bootstrap.names import role_name

from .schema import ConfigError

if TYPE_CHECKING:
    from . import Settings

APP = "ai-platform:application"


def check(settings: Settings) -> None:
    n, sec = settings.network, settings.security
    check_models("ai-platform:ml.bedrockModels", settings.ml.bedrock_models, settings.region)
    for svc in settings.application.catalogue():
        # The application security group opens only the app port range to the load balancer.
        if not n.app_port_from <= svc.port <= n.app_port_to:
            raise ConfigError(f"{APP}.services.{svc.name}.port", svc.port,
                              f"a port from ai-platform:network.appPortFrom ({n.app_port_from}) to appPortTo "
                              f"({n.app_port_to}): the application security group opens only those")
        check_contract(settings, svc)
        # The database bootstrap creates the service's own login role: never the master user.
        if svc.settings.uses.database != "none" and role_name(svc.name) == settings.data.db_master_username:
            raise ConfigError(f"{APP}.services.{svc.name}", svc.name,
                              f"a service whose database role ({role_name(svc.name)}) is not "
                              "ai-platform:data.dbMasterUsername")
        # Secrets injected into a service are the security tier's.
        for secret in [*svc.settings.secrets, *svc.settings.uses.secrets]:
            if secret not in sec.secrets:
                raise ConfigError(f"{APP}.services.{svc.name}.secrets", secret,
                                  f"one of the security tier's secrets ({', '.join(sorted(sec.secrets))})")
    # The Batch jobs' contract names what exists, like a service's.
    if settings.application.batch.enabled:
        check_uses(settings, settings.application.batch.uses, f"{APP}.batch.uses")
    # The delivery tier builds for the tasks' architecture, delivers enabled services only, and waits out
    # the longest staged release.
    app = settings.application
    settings.delivery.check_against("ai-platform:delivery", [svc.name for svc in app.catalogue()],
                                    app.cpu_architecture, app.longest_release_minutes())
    if settings.platform.environment == "prod" and not settings.events.alert_emails:
        raise ConfigError("ai-platform:events.alertEmails", [], "at least one e-mail address in prod: every alarm and "
                                                                "budget alert goes to the alerts topic")
    d = settings.dr
    if d.enabled:
        if d.region == settings.region:
            raise ConfigError("ai-platform:dr.region", d.region, f"a region other than aws:region ({settings.region})")
        # RDS replicates automated backups only: without any, the replication fails at `up`.
        if settings.data.db_backup_retention_days < 1:
            raise ConfigError("ai-platform:data.dbBackupRetentionDays", settings.data.db_backup_retention_days,
                              "at least 1 when dr.enabled (the DR region replicates the automated backups)")
    if d.standby:
        import ipaddress
        if ipaddress.ip_network(d.vpc_cidr).overlaps(ipaddress.ip_network(settings.network.cidr)):
            raise ConfigError("ai-platform:dr.vpcCidr", d.vpc_cidr,
                              f"a CIDR not overlapping ai-platform:network.cidr ({settings.network.cidr})")
        if d.alb_certificate_arn and d.alb_certificate_arn.split(":")[3] != d.region:
            raise ConfigError("ai-platform:dr.albCertificateArn", d.alb_certificate_arn,
                              f"an ACM certificate of the DR region {d.region} (a load balancer uses its region's)")
        # The front door in the DR region is its API (the load balancers are internal): the failover records
        # move the API's name between the two regions' API custom domains.
        edge = settings.edge
        if d.hosted_zone_id and not edge.api_domain_name:
            raise ConfigError("ai-platform:dr.hostedZoneId", d.hosted_zone_id,
                              "null unless ai-platform:edge.apiDomainName is set (the failover records move the "
                              "API's name; the load balancers are internal)")
        if edge.api_domain_name and not d.api_certificate_arn:
            raise ConfigError("ai-platform:dr.apiCertificateArn", None,
                              f"an ACM certificate of {d.region} covering ai-platform:edge.apiDomainName "
                              f"({edge.api_domain_name}): the DR API's custom domain")
        for key, arn, region in (("dr.apiCertificateArn", d.api_certificate_arn, d.region),
                                 ("dr.userPoolArn", d.user_pool_arn, d.region),
                                 ("dr.emailSourceArn", d.email_source_arn, d.region)):
            if arn and arn.split(":")[3] != region:
                raise ConfigError(f"ai-platform:{key}", arn, f"an ARN of the DR region {region}")
    if settings.edge.api_certificate_arn and settings.edge.api_certificate_arn.split(":")[3] != settings.region:
        raise ConfigError("ai-platform:edge.apiCertificateArn", settings.edge.api_certificate_arn,
                          f"an ACM certificate of aws:region {settings.region} (a regional API custom domain uses "
                          "its region's)")


def check_contract(settings: Settings, svc) -> None:
    """Everything a service's contract names exists in the tier that owns it."""
    check_uses(settings, svc.settings.uses, f"{APP}.services.{svc.name}.uses")


def check_uses(settings: Settings, u, path: str) -> None:
    """Everything a contract (a service's, the Batch jobs') names exists in the tier that owns it."""
    from .data import BUCKET_KEYS
    known = {
        "queues": set(settings.events.queues),
        "publishes": {t for rule in settings.events.rules.values() for t in rule.detail_types},
        "tables": {"synthetic-data", *settings.data.tables},
        "buckets": set(BUCKET_KEYS),
        "uploads": set(BUCKET_KEYS),
    }
    owners = {"uploads": "the data tier's buckets","queues": "ai-platform:events.queues", "publishes": "the detail-types of ai-platform:events.rules",
              "tables": "the data tier's tables",
              "buckets": "the data tier's buckets"}
    for key, allowed in known.items():
        for value in getattr(u, key):
            if value not in allowed:
                raise ConfigError(f"{path}.{key}", value, f"one of {owners[key]} ({', '.join(sorted(allowed))})")
    check_models(f"{path}.models", u.models, settings.region)


def check_models(path: str, models, region: str) -> None:
    """An inference-profile id is invoked from a Region of its geography (a us. profile from a US Region)."""
    from .. import bedrock
    for i, model in enumerate(models):
        if not bedrock.source_allowed(model, region):
            geo = bedrock.split(model)[0] or ""
            raise ConfigError(f"{path}[{i}]", model, f"a model id, or a profile of aws:region {region}'s geography "
                                                     f"(a {geo}. profile is called from "
                                                     f"{', '.join(bedrock.GEOGRAPHIES.get(geo, ()))})")
