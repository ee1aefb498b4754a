"""Keeps the standing DR user pool in step with the primary's (issue 26, docs/dr.md "Cognito"): a scheduled run
(EventBridge Scheduler, components/dr_region.py `DrUserSync`) that

1. lists the users of both pools (ListUsers, paginated; attributes only: Cognito exports no password and no TOTP
   secret);
2. disables in the DR pool every user the primary pool no longer has, or has disabled (AdminDisableUser): someone
   removed from the platform must not sign in during an outage;
3. imports the users the DR pool lacks with a user import job (Cognito Developer Guide, "Importing users into a
   user pool from a CSV file"): GetCSVHeader of the DR pool, one CSV row per new user (the header's columns filled
   from the user's attributes; `cognito:mfa_enabled` false, the verified flags as the primary has them),
   CreateUserImportJob (its CloudWatch Logs role), an HTTPS PUT of the CSV to the job's pre-signed URL with
   `x-amz-server-side-encryption: aws:kms`, StartUserImportJob. Imported users are RESET_REQUIRED: at their first
   DR sign-in they reset their password through their verified e-mail and enrol MFA again.

A run while an earlier import job is still Pending or InProgress changes nothing (the next run imports whatever is
still missing). Per-user errors do not stop the run: every user is tried, then PartialFailure names the failed
ones (the scheduler retries, then the dead-letter queue keeps the event). Nothing is ever deleted.

Environment: SOURCE_POOL_ID, SOURCE_REGION (the primary pool), TARGET_POOL_ID, TARGET_REGION (the standing DR
pool), IMPORT_LOGS_ROLE_ARN (the role Cognito writes the import job's logs with).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
RUNNING = ("Pending", "InProgress")
PAGE = 60    # ListUsers' largest page


class PartialFailure(RuntimeError):
    def __init__(self, failed: list[dict]):
        self.failed = failed
        super().__init__(f"{len(failed)} user(s) failed: " + "; ".join(f"{f['user']}: {f['error']}" for f in failed))


def put_csv(url: str, body: bytes) -> int:
    """The upload Cognito's import job expects: an HTTPS PUT of the file to the pre-signed URL, SSE-KMS header."""
    if not url.startswith("https://"):
        raise ValueError(f"pre-signed URL {url[:40]!r}... is not https")
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"x-amz-server-side-encryption": "aws:kms",
                                              "Content-Type": "text/csv"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - https only (checked above)
        return int(response.status)


def _users(client, pool: str) -> dict[str, dict]:
    """username -> {"attributes": {name: value}, "enabled": bool} of every user of `pool`."""
    users: dict[str, dict] = {}
    kwargs: dict[str, Any] = {"UserPoolId": pool, "Limit": PAGE}
    while True:
        page = client.list_users(**kwargs)
        for u in page.get("Users", []):
            users[u["Username"]] = {"attributes": {a["Name"]: a.get("Value", "") for a in u.get("Attributes", [])},
                                    "enabled": bool(u.get("Enabled", True))}
        token = page.get("PaginationToken")
        if not token:
            return users
        kwargs["PaginationToken"] = token


def csv_rows(header: list[str], users: dict[str, dict]) -> bytes:
    """The import file: the DR pool's own header, one row per user (attributes it has; blanks otherwise)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for name in sorted(users):
        attrs = users[name]["attributes"]
        row = []
        for column in header:
            if column == "cognito:username":
                row.append(name)
            elif column == "cognito:mfa_enabled":
                row.append("false")     # TOTP secrets cannot be exported: MFA is enrolled again at first sign-in
            elif column in ("email_verified", "phone_number_verified"):
                row.append("true" if str(attrs.get(column, "")).lower() == "true" else "false")
            else:
                row.append(attrs.get(column, ""))
        writer.writerow(row)
    return out.getvalue().encode()


class Sync:
    def __init__(self, source=None, target=None, *, source_pool: str | None = None, target_pool: str | None = None,
                 logs_role_arn: str | None = None, upload: Callable[[str, bytes], int] = put_csv,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        env = os.environ
        self.source = source or boto3.client("cognito-idp", region_name=env.get("SOURCE_REGION"), config=RETRIES)
        self.target = target or boto3.client("cognito-idp", region_name=env.get("TARGET_REGION"), config=RETRIES)
        self.source_pool = source_pool or env["SOURCE_POOL_ID"]
        self.target_pool = target_pool or env["TARGET_POOL_ID"]
        self.logs_role_arn = logs_role_arn or env["IMPORT_LOGS_ROLE_ARN"]
        self.upload, self.now = upload, now

    def running_job(self) -> str | None:
        jobs = self.target.list_user_import_jobs(UserPoolId=self.target_pool, MaxResults=60).get("UserImportJobs", [])
        return next((j["JobId"] for j in jobs if j.get("Status") in RUNNING), None)

    def run(self) -> dict:
        busy = self.running_job()
        if busy:
            LOG.info("import job %s still running: nothing changed", busy)
            return {"skipped": f"import job {busy} is still running", "imported": 0, "disabled": []}
        source = _users(self.source, self.source_pool)
        target = _users(self.target, self.target_pool)
        failed: list[dict] = []
        disabled = []
        for name in sorted(target):
            if target[name]["enabled"] and not source.get(name, {}).get("enabled", False):
                try:
                    self.target.admin_disable_user(UserPoolId=self.target_pool, Username=name)
                    disabled.append(name)
                except ClientError as err:
                    failed.append({"user": name, "error": str(err)})
        new = {name: u for name, u in source.items() if name not in target and u["enabled"]}
        job_id = None
        if new:
            header = self.target.get_csv_header(UserPoolId=self.target_pool)["CSVHeader"]
            job = self.target.create_user_import_job(
                JobName=f"dr-sync-{self.now():%Y%m%dT%H%M%SZ}", UserPoolId=self.target_pool,
                CloudWatchLogsRoleArn=self.logs_role_arn)["UserImportJob"]
            job_id = job["JobId"]
            self.upload(job["PreSignedUrl"], csv_rows(header, new))
            self.target.start_user_import_job(UserPoolId=self.target_pool, JobId=job_id)
        result = {"imported": len(new), "importJobId": job_id, "disabled": disabled,
                  "sourceUsers": len(source), "targetUsers": len(target)}
        LOG.info("user sync: %s", result)
        if failed:
            raise PartialFailure(failed)
        return result


def handler(event: dict, context: Any) -> dict:
    return Sync().run()
