"""The database bootstrap: a Lambda function in the VPC that the stack invokes (aws.lambda_.Invocation) whenever
the contracts' database part changes. It reads the master credential (its role is the only one that may), connects
to the primary over verified TLS, and converges the service users and grants (grants.py).

Event: {"roles": {<role>: {"mode": "readonly" | "readwrite", "reads": [<schema>, ...]}}} (components/database_users.py)
Environment: DB_HOST, DB_PORT, DB_NAME, MASTER_SECRET_ARN (the master secret: {"username", "password"} as RDS keeps
it), MASTER_USERNAME (refused as a service role), and optionally DB_CA_BUNDLE (a PEM file; default: the region's RDS
bundle, fetched over HTTPS from AWS's trust store and verified against the runtime's CAs, once per container).

Why a Lambda and not an ECS one-off task: the stack can invoke it synchronously in the same `pulumi up`
(aws.lambda_.Invocation fails the update when the function fails), it needs no image in a repository that is
still empty on a first deploy, and it gets the platform's function convention (own log group, alarm, DLQ, role).
"""
from __future__ import annotations

import json
import logging
import os
import ssl
import urllib.request
from pathlib import Path

import boto3

try:
    from .grants import BadInput, Converger, parse
except ImportError:   # in the Lambda package this folder is the archive's root
    from grants import BadInput, Converger, parse  # type: ignore[no-redef]

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
RDS_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"
BUNDLE_CACHE = Path("/tmp/rds-ca-bundle.pem")


def ca_bundle() -> str:
    explicit = os.environ.get("DB_CA_BUNDLE")
    if explicit:
        return explicit
    if not BUNDLE_CACHE.exists():
        region = os.environ["AWS_REGION"]
        with urllib.request.urlopen(RDS_BUNDLE_URL.format(region=region), timeout=10) as resp:   # noqa: S310
            BUNDLE_CACHE.write_bytes(resp.read())
    return str(BUNDLE_CACHE)


def tls_context() -> ssl.SSLContext:
    """verify-full: the server's certificate chains to the bundle and names DB_HOST."""
    context = ssl.create_default_context(cafile=ca_bundle())
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def master_credential(secret_arn: str, client=None) -> tuple[str, str]:
    client = client or boto3.client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return value["username"], value["password"]


def connect(user: str, password: str):
    import pg8000.native
    return pg8000.native.Connection(
        user=user, password=password, host=os.environ["DB_HOST"], port=int(os.environ.get("DB_PORT", "5432")),
        database=os.environ["DB_NAME"], ssl_context=tls_context(), timeout=30,
        application_name="ai-platform-db-bootstrap")


def handler(event, context=None) -> dict:
    try:
        grants = parse(event, master=os.environ.get("MASTER_USERNAME"))
    except BadInput as err:
        LOG.error("bad input, nothing changed: %s", err)
        raise
    LOG.info("desired: %s", ", ".join(f"{g.role} ({g.mode}{', reads ' + ' '.join(g.reads) if g.reads else ''})"
                                      for g in grants) or "no service uses the database")
    user, password = master_credential(os.environ["MASTER_SECRET_ARN"])
    conn = connect(user, password)
    try:
        changes = Converger(conn).run(grants)
    finally:
        conn.close()
    return {"roles": [g.role for g in grants], "changes": changes}
