"""functions/user_sync: the standing DR user pool kept in step with the primary's (issue 26). moto's Cognito has no
user import jobs (CreateUserImportJob, StartUserImportJob), so the two pools are an in-memory stand-in whose every
request is first validated against botocore's own model of the cognito-idp API (ParamValidator): the handler's
calls are real API calls in shape; the stand-in gives them behaviour (users, import jobs, the CSV Cognito reads)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from functions.user_sync import handler as sync

MODEL = botocore.session.get_session().get_service_model("cognito-idp")
HEADER = ["name", "given_name", "family_name", "email", "email_verified", "phone_number", "phone_number_verified",
          "cognito:mfa_enabled", "cognito:username"]
POOL_P, POOL_D = "us-east-1_Primary1", "us-west-2_Standby1"
ROLE = "arn:aws:iam::123456789012:role/ai-platform-prod-cognito-import-logs"


class Pool:
    """One region's cognito-idp client over one pool: the operations the handler uses, each request validated."""

    def __init__(self, pool_id: str, users: dict):
        self.pool_id, self.users, self.jobs, self.calls = pool_id, users, {}, []
        self.ids = itertools.count(1)

    def __getattr__(self, name):
        op = MODEL.operation_model("".join(p.capitalize() for p in name.split("_"))
                                   .replace("Csv", "CSV"))
        impl = getattr(self, "_" + name)

        def call(**kwargs):
            report = ParamValidator().validate(kwargs, op.input_shape)
            assert not report.has_errors(), report.generate_report()
            assert kwargs["UserPoolId"] == self.pool_id
            self.calls.append(name)
            return impl(**kwargs)
        return call

    def _list_users(self, UserPoolId, Limit, PaginationToken=None):
        names = sorted(self.users)
        start = int(PaginationToken or 0)
        page = names[start:start + Limit]
        out = {"Users": [{"Username": n, "Enabled": u.get("enabled", True),
                          "Attributes": [{"Name": k, "Value": v} for k, v in u["attrs"].items()]}
                         for n, u in ((n, self.users[n]) for n in page)]}
        if start + Limit < len(names):
            out["PaginationToken"] = str(start + Limit)
        return out

    def _admin_disable_user(self, UserPoolId, Username):
        if Username not in self.users:
            raise ClientError({"Error": {"Code": "UserNotFoundException", "Message": "no such user"}}, "AdminDisableUser")
        self.users[Username]["enabled"] = False
        return {}

    def _get_csv_header(self, UserPoolId):
        return {"UserPoolId": UserPoolId, "CSVHeader": HEADER}

    def _list_user_import_jobs(self, UserPoolId, MaxResults):
        return {"UserImportJobs": [{"JobId": j, "Status": s["status"]} for j, s in self.jobs.items()]}

    def _create_user_import_job(self, JobName, UserPoolId, CloudWatchLogsRoleArn):
        job = f"import-{next(self.ids)}"
        self.jobs[job] = {"status": "Created", "name": JobName, "role": CloudWatchLogsRoleArn, "csv": None}
        return {"UserImportJob": {"JobId": job, "JobName": JobName, "Status": "Created",
                                  "PreSignedUrl": f"https://cognito-idp-import.s3.amazonaws.com/{job}?sig=x"}}

    def _start_user_import_job(self, UserPoolId, JobId):
        job = self.jobs[JobId]
        assert job["csv"] is not None, "started before the file was uploaded"
        # what Cognito does with the file: each row a user, RESET_REQUIRED
        for row in csv.DictReader(io.StringIO(job["csv"].decode())):
            attrs = {k: v for k, v in row.items() if not k.startswith("cognito:") and v}
            self.users[row["cognito:username"]] = {"attrs": attrs, "status": "RESET_REQUIRED",
                                                   "mfa": row["cognito:mfa_enabled"]}
        job["status"] = "Succeeded"
        return {"UserImportJob": {"JobId": JobId, "Status": "Pending"}}


def user(email, verified="true", enabled=True):
    return {"attrs": {"email": email, "email_verified": verified, "sub": "0000"}, "enabled": enabled}


@pytest.fixture
def pools():
    primary = Pool(POOL_P, {f"user{i:03d}": user(f"user{i:03d}@example.com") for i in range(130)})
    standby = Pool(POOL_D, {"user000": user("user000@example.com"), "left": user("left@example.com"),
                            "user001": user("user001@example.com")})
    primary.users["user001"]["enabled"] = False       # disabled in the primary since the last run
    return primary, standby


def run(pools, **kw):
    primary, standby = pools

    def upload(url, body):
        job = url.split("/")[-1].split("?")[0]
        standby.jobs[job]["csv"] = body
        return 200
    s = sync.Sync(primary, standby, source_pool=POOL_P, target_pool=POOL_D, logs_role_arn=ROLE, upload=upload,
                  now=lambda: dt.datetime(2026, 12, 7, 21, 0, tzinfo=dt.UTC), **kw)
    return s.run()


def test_new_users_are_imported_and_removed_or_disabled_ones_disabled(pools):
    primary, standby = pools
    result = run(pools)
    # 130 users over three ListUsers pages; user000 already there, user001 disabled in the primary
    assert result["imported"] == 128 and result["disabled"] == ["left", "user001"]
    assert primary.calls.count("list_users") == 3 and "admin_disable_user" not in primary.calls
    assert {n for n, u in standby.users.items() if u.get("enabled", True)} == {f"user{i:03d}" for i in range(130)} - {"user001"}
    job = standby.jobs[result["importJobId"]]
    assert job["role"] == ROLE and job["name"] == "dr-sync-20261207T210000Z" and job["status"] == "Succeeded"
    imported = standby.users["user129"]
    assert imported["status"] == "RESET_REQUIRED" and imported["mfa"] == "false"
    assert imported["attrs"] == {"email": "user129@example.com", "email_verified": "true",   # no sub (not importable)
                                 "phone_number_verified": "false"}
    rows = list(csv.reader(io.StringIO(job["csv"].decode())))
    assert rows[0] == HEADER and len(rows) == 129


def test_a_second_run_changes_nothing(pools):
    run(pools)
    primary, standby = pools
    standby.calls.clear()
    again = run(pools)
    assert again["imported"] == 0 and again["disabled"] == [] and again["importJobId"] is None
    assert "create_user_import_job" not in standby.calls and "admin_disable_user" not in standby.calls


def test_a_run_while_an_import_job_runs_changes_nothing(pools):
    primary, standby = pools
    standby.jobs["import-0"] = {"status": "InProgress"}
    result = run(pools)
    assert result["imported"] == 0 and "still running" in result["skipped"]
    assert standby.calls == ["list_user_import_jobs"]


def test_a_user_failing_to_disable_is_named_after_every_other_was_tried(pools):
    primary, standby = pools
    real = standby._admin_disable_user

    def flaky(UserPoolId, Username):
        if Username == "left":
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}},
                              "AdminDisableUser")
        return real(UserPoolId=UserPoolId, Username=Username)
    standby._admin_disable_user = flaky
    with pytest.raises(sync.PartialFailure, match="left: .*TooManyRequests") as err:
        run(pools)
    assert [f["user"] for f in err.value.failed] == ["left"]
    assert standby.users["user001"]["enabled"] is False and "user129" in standby.users   # the rest was done


def test_the_upload_is_an_https_put_with_the_kms_header(monkeypatch):
    seen = {}

    class Response:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def urlopen(request, timeout):
        seen.update(method=request.get_method(), url=request.full_url, headers=dict(request.header_items()),
                    body=request.data, timeout=timeout)
        return Response()
    monkeypatch.setattr(sync.urllib.request, "urlopen", urlopen)
    assert sync.put_csv("https://import.example/x?sig=1", b"a,b\n") == 200
    assert seen["method"] == "PUT" and seen["headers"]["X-amz-server-side-encryption"] == "aws:kms"
    with pytest.raises(ValueError, match="not https"):
        sync.put_csv("http://import.example/x", b"")


def test_the_stack_runs_it_hourly_in_the_dr_region_with_exactly_its_grants():
    import json

    from conftest import stack_plan
    from plan import dr
    plan = stack_plan("prod", preview=False)
    view = dr._View(plan)
    [fn] = [f for f in plan.of_type("aws:lambda/function:Function") if f.name == "user-sync"]
    assert view.region(fn) == "us-west-2" and fn.props["reservedConcurrentExecutions"] == 1
    pools = {view.region(u): u for u in plan.of_type("aws:cognito/userPool:UserPool")}
    env = fn.props["environment"]["variables"]
    assert (env["SOURCE_POOL_ID"], env["SOURCE_REGION"]) == (pools["us-east-1"].id, "us-east-1")
    assert (env["TARGET_POOL_ID"], env["TARGET_REGION"]) == (pools["us-west-2"].id, "us-west-2")
    [policy] = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "user-sync-policy"]
    doc = {s["Sid"]: s for s in json.loads(policy.props["policy"])["Statement"]}
    assert doc["ReadPrimaryUsers"]["Action"] == ["cognito-idp:ListUsers"]
    assert doc["ReadPrimaryUsers"]["Resource"] == pools["us-east-1"].outputs["arn"]
    assert doc["ImportIntoStandbyPool"]["Resource"] == pools["us-west-2"].outputs["arn"]
    granted = {a for s in doc.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in granted if "Delete" in a or a.endswith("*")}      # nothing is ever deleted
    assert doc["PassImportLogsRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "cognito-idp.amazonaws.com"}}
    [role] = [r for r in plan.of_type("aws:iam/role:Role") if r.name == "cognito-import-logs-role"]
    assert doc["PassImportLogsRole"]["Resource"] == env["IMPORT_LOGS_ROLE_ARN"] == role.outputs["arn"]
    assert "cognito-idp.amazonaws.com" in role.props["assumeRolePolicy"]
    [schedule] = [s for s in plan.of_type("aws:scheduler/schedule:Schedule") if s.name == "user-sync"]
    assert schedule.props["scheduleExpression"] == "rate(1 hour)" and schedule.props["target"]["arn"] == fn.outputs["arn"]
    [alarm] = [a for a in plan.of_type(dr.ALARM) if a.name == "user-sync-errors-alarm"]
    assert alarm.props["dimensions"] == {"FunctionName": fn.props["name"]}
    assert all(":us-west-2:" in t and t.endswith("alerts") for t in alarm.props["alarmActions"])
