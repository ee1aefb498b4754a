"""Issue 26: the regional failover and failback REHEARSED on a moto world materialised from prod's own plan
(tests/dr_world.py), in pilot-light and warm-standby: the primary region goes dark (its alarms read a region that
emits no metrics, and every call the procedure would make there fails), the procedure (functions/dr_failover, its
CLI) fails over, a user signs in in the DR region, data is written there during the outage, the primary comes back,
the procedure fails back, and the data written during the outage is in the primary afterwards.

Consistency both ways: every identifier the exported manifest names exists in the materialised world, and every
DR-region ECS service, RDS instance and primary health check the plan builds is one the procedure moves.
Break tests: no health checks, a DR authorizer without the DR pool, an unscanned newest image without a release, a
failback lag gate at 0 -- each fails the rehearsal at a named step, with nothing moved past it.
The step log of prod's rehearsal goes to /tmp/notes/rehearsal-steps.txt (the closing note's).
"""
from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import io
import json
from pathlib import Path
from unittest import mock

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from dr_world import MaterialiseError, World, issuer_pool_arn, materialise, moto_as_aws, unhandled, verified_claims

from conftest import IdleSource, MotoSnapshot, moto_client, moto_session, throttle_once
from functions.dr_failover import procedure as proc

# One worker materialises the worlds (once per mode) and runs every test on them: the moto group
# (tests/test_fn_dr_failover.py).
pytestmark = pytest.mark.xdist_group("moto")
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
MODES = ("pilot-light", "warm-standby")
FAILOVER = ["preflight", "promote-replica", "point-services", "use-current-images", "scale-services",
            "wait-services-stable", "move-dns"]
FAILBACK = ["preflight", "retire-old-primary", "replicate-to-primary", "fence-dr-services", "wait-replica-caught-up",
            "promote-primary", "restore-primary-settings", "replicate-primary-readers", "point-primary-services",
            "scale-primary-services", "wait-primary-services-stable", "move-dns-back", "retire-dr-db",
            "replicate-to-dr", "standby-dr-services"]
STEP_LOG = Path("/tmp/notes/rehearsal-steps.txt")
GLOBAL = ("route53",)   # Route 53's control plane answers from us-east-1 for every region (see `outage`)


def plan_of(mode: str):
    """prod's plan after its first release (every repository holds an image, no service parked), dr.mode `mode`:
    prod's own config for its mode, the config override of tests/test_dr_tier.py for the other (one shared plan
    per mode in the test run)."""
    from test_dr_tier import prod_with
    return prod_with(mode, preview=False, released=True)


class Clients:
    """boto3 clients per (service, region) onto moto, and an outage switch: while `down` names a region, every call
    there fails as an unreachable endpoint does (Route 53 excepted, see GLOBAL)."""

    def __init__(self):
        self.cache: dict = {}
        self.down: str | None = None

    def __call__(self, service: str, region: str):
        if (service, region) not in self.cache:
            self.cache[(service, region)] = moto_client(service, region)
        client = self.cache[(service, region)]
        if self.down == region and service not in GLOBAL:
            return Unreachable(service, region)
        return client

    def world(self, service: str, region: str):
        """The world itself, outage or not (the rehearsal's own observations and the outage's effects)."""
        down, self.down = self.down, None
        try:
            return self(service, region)
        finally:
            self.down = down


class Unreachable:
    def __init__(self, service, region):
        self.service, self.region = service, region

    def __getattr__(self, name):
        def call(*_a, **_k):
            raise EndpointConnectionError(endpoint_url=f"https://{self.service}.{self.region}.amazonaws.com")
        return call


@pytest.fixture(scope="module")
def session():
    with moto_session(ENV, "us-east-1") as (mock_, _), moto_as_aws():
        yield mock_, Clients()


@pytest.fixture(scope="module")
def worlds(session):
    """Each mode's world, materialised once and snapshotted: prod's plan in moto, plus what the pipeline has done by
    the time of the outage: per service, the configured tag (1.0.0), a release (recorded in the release parameters,
    as the pipeline's RecordRelease does after the scan gate) and a newer push that never passed the scan,
    each replicated to the DR registry by the registry's replication configuration in the world."""
    mock_, c = session
    mock_.reset()
    empty = MotoSnapshot()   # restored between the modes: moto's reset() replaces the backends a snapshot refers to
    built = {}
    for mode in MODES:
        empty.restore()
        w = materialise(plan_of(mode), c)
        releases = pipeline(w)
        built[mode] = (w, releases, MotoSnapshot())
    return built


def pipeline(w: World) -> dict:
    m = w.manifest
    out = {}
    for svc, parameter in m["releaseParameters"].items():
        configured = w.clients("ssm", w.dr_region).get_parameter(Name=parameter)["Parameter"]["Value"]
        repository = configured.split("/", 1)[1].rsplit(":", 1)[0]
        w.push_image(repository, "1.0.0")
        released = w.push_image(repository, "1.1.0")
        unscanned = w.push_image(repository, "1.2.0-unscanned")
        registry = configured.split("/", 1)[0].replace(w.dr_region, w.primary_region)
        for region in (w.primary_region, w.dr_region):
            w.clients("ssm", region).put_parameter(Name=parameter, Value=f"{registry}/{repository}@{released}",
                                                   Type="String", Overwrite=True)
        out[svc] = (repository, released, unscanned)
    return out


class Run:
    """One mode's world, restored, with the procedure's CLI, clock and outage."""

    def __init__(self, session, worlds, mode, tmp_path, monkeypatch):
        mock_, self.c = session
        self.w, self.releases, snapshot = worlds[mode]
        snapshot.restore()
        self.c.down = None
        self.w.clients = self.c
        self.m = copy.deepcopy(self.w.manifest)
        self.dir = tmp_path
        self.idle = IdleSource(lambda: self.c.world("cloudwatch", self.m["primaryRegion"]), self.m["dbPrimaryId"])
        monkeypatch.setattr(proc, "_utcnow", self.idle.clock)
        self.steps: list[tuple[str, str, str]] = []     # (operation, step, outcome)
        self.id_token: str | None = None                 # the last sign-in's (sign_in)

    def cli(self, *argv: str, manifest: dict | None = None) -> tuple[int, str, list]:
        path = self.dir / "dr.json"
        path.write_text(json.dumps({"drManifest": manifest or self.m}))   # as `pulumi stack output --json`
        out, err = io.StringIO(), io.StringIO()
        with mock.patch("sys.stderr", err):
            code = proc.main(["--manifest", str(path), "--state-file", str(self.dir / "state.json"),
                              "--poll-seconds", "0", *argv], clients=self.c, out=out, err=err,
                             sleep=self.idle.sleep)
        logs = [json.loads(line) for line in err.getvalue().splitlines() if line.startswith("{")]
        for line in logs:
            if line.get("message") in ("step done", "step failed"):
                self.steps.append((line.get("operation"), line["step"], line["message"].split()[1]))
        return code, out.getvalue(), logs

    def failover(self, **kw):
        return self.cli("execute", "--target-region", self.m["drRegion"], "--confirm", **kw)

    def start_at(self, point: Point) -> None:
        """This world as a recorded failover left it at `point` (`failovers`), during the outage: moto's world, the
        state record, the idle source's clock, and the primary region unreachable."""
        point.snapshot.restore()
        (self.dir / "state.json").write_text(point.state)
        self.idle.now, self.idle.minute = point.clock
        self.c.down = self.m["primaryRegion"]

    def failback(self, **kw):
        return self.cli("failback", "--target-region", self.m["primaryRegion"], "--confirm", **kw)

    # -- the outage and the recovery --------------------------------------------------------------------------
    def outage(self) -> None:
        """The primary region goes dark: its alarms see no data (each takes the state its treatMissingData gives
        missing data), and every call there fails (Route 53's control plane excepted: the procedure's move-dns
        updates health checks through it; in a real us-east-1 loss the checks' data plane fails over by itself,
        which `answer` shows before move-dns runs)."""
        region = self.m["primaryRegion"]
        cw = self.c.world("cloudwatch", region)
        for alarm in cw.describe_alarms()["MetricAlarms"]:
            state = {"breaching": "ALARM", "notBreaching": "OK"}.get(alarm.get("TreatMissingData"), "INSUFFICIENT_DATA")
            cw.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason="no data: region down")
        self.c.down = region

    def recovery(self) -> None:
        region = self.m["primaryRegion"]
        self.c.down = None
        cw = self.c.world("cloudwatch", region)
        for alarm in cw.describe_alarms()["MetricAlarms"]:
            cw.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="OK", StateReason="region back")

    # -- observations -------------------------------------------------------------------------------------------
    def db(self, region: str, ident: str) -> dict | None:
        try:
            return self.c.world("rds", region).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        except ClientError:
            return None

    def counts(self, region: str, cluster: str, services) -> dict:
        ecs = self.c.world("ecs", region)
        return {s["serviceName"]: s["desiredCount"] for i in range(0, len(services), 10)
                for s in ecs.describe_services(cluster=cluster, services=list(services)[i:i + 10])["services"]}

    def task_definitions(self, region: str, cluster: str, services):
        """(service name, the task definition it runs now), ten services per DescribeServices as ECS allows."""
        ecs = self.c.world("ecs", region)
        for i in range(0, len(services), 10):
            for s in ecs.describe_services(cluster=cluster, services=list(services)[i:i + 10])["services"]:
                yield s["serviceName"], ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]

    def images(self, region: str, cluster: str, services) -> dict:
        return {name: {c["name"]: c["image"] for c in td["containerDefinitions"]}
                for name, td in self.task_definitions(region, cluster, services)}

    def db_hosts(self, region: str, cluster: str, services) -> dict:
        """service -> the DB_HOST its running task definition gives its containers (where it has one)."""
        out = {}
        for name, td in self.task_definitions(region, cluster, services):
            hosts = {e["value"] for c in td["containerDefinitions"] for e in c.get("environment", [])
                     if e["name"] == "DB_HOST"}
            if hosts:
                [out[name]] = hosts
        return out

    def inverted(self) -> list[bool]:
        r53 = self.c.world("route53", "us-east-1")
        return [r53.get_health_check(HealthCheckId=h)["HealthCheck"]["HealthCheckConfig"].get("Inverted", False)
                for h in self.m["healthCheckIds"]]


@dataclasses.dataclass
class Point:
    """What a run leaves at one point (a step's start, before its action; or its end): moto's world, the state
    record, the idle source's clock (its time and minute)."""
    snapshot: MotoSnapshot
    state: str
    clock: tuple


@dataclasses.dataclass
class RecordedFailover:
    steps: dict      # step name -> Point at its start, in the procedure's order
    end: Point
    result: tuple    # Run.cli's (code, out, logs)
    log: list        # Run.steps: (operation, step, outcome) of each step logged


@pytest.fixture(scope="module")
def failovers(session, worlds, tmp_path_factory):
    """mode -> the failover during the outage, run once per mode (on first use) from the mode's world: outage,
    then `execute`, recorded with the Point at each step's start and at its end. The rehearsal reads its output
    and goes on from its end; the tests that need a failed-over world start at its end, and the interrupted-
    failover tests at the failing step's start (each step's action ran once, in this run). docs/performance.md."""
    recorded: dict = {}

    def get(mode: str) -> RecordedFailover:
        if mode not in recorded:
            with pytest.MonkeyPatch.context() as mp:
                r = Run(session, worlds, mode, tmp_path_factory.mktemp(f"failover-{mode}"), mp)
                found: dict = {}
                real = proc.Procedure.failover_steps

                def point() -> Point:
                    return Point(MotoSnapshot(), (r.dir / "state.json").read_text(), (r.idle.now, r.idle.minute))

                def steps(self):
                    out = []
                    for step in real(self):
                        def action(step=step):
                            assert step.name not in found, f"{step.name} ran twice in one fresh run"
                            found[step.name] = point()
                            return step.action()
                        out.append(dataclasses.replace(step, action=action))
                    return out

                mp.setattr(proc.Procedure, "failover_steps", steps)
                r.outage()
                result = r.failover()
                recorded[mode] = RecordedFailover(found, point(), result, list(r.steps))
        return recorded[mode]
    return get


@pytest.fixture(params=MODES)
def run(request, session, worlds, tmp_path, monkeypatch):
    return Run(session, worlds, request.param, tmp_path, monkeypatch)


def _mode(mode):
    return pytest.mark.parametrize("run", [mode], indirect=True)


# --- the rehearsal ---------------------------------------------------------------------------------------------------
SIGN_IN_FLOW = "USER_SRP_AUTH"   # the flow the plan's SPA client allows (ALLOW_USER_SRP_AUTH), as the SPA signs in


def sign_in(r: Run) -> str:
    """A user of the standing DR pool signs in through the plan's SPA client of that pool, in moto's Cognito: the
    user created by an administrator (the pool allows nothing else) with a permanent password, USER_SRP_AUTH (the
    only password flow the client allows; moto answers the PASSWORD_VERIFIER challenge without checking the SRP
    proof), the TOTP set-up the pool's MFA (ON) requires, then the ID token: its signature verified, its issuer the
    DR pool, its audience the client; and the DR API's authorizer (as the plan built it) names that pool's ARN.
    Returns the ARN of the pool that issued the token."""
    import secrets
    import time

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    m = r.m
    region, pool, user, password = m["drRegion"], m["userPoolIds"]["dr"], "rehearsal@example.com", "Rehearsal-2026!x"
    cognito = r.c("cognito-idp", region)
    [client] = [c["ClientId"] for c in cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)[
        "UserPoolClients"]]   # the plan's SPA client of the DR pool, under the plan's id
    flows = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"].get(
        "ExplicitAuthFlows", [])
    assert f"ALLOW_{SIGN_IN_FLOW}" in flows, f"sign-in: the DR pool's client {client} allows {flows}"
    cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": user},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)
    step = cognito.initiate_auth(ClientId=client, AuthFlow=SIGN_IN_FLOW,
                                 AuthParameters={"USERNAME": user, "SRP_A": secrets.token_hex(192)})
    challenges = []
    while "AuthenticationResult" not in step:
        name, session, params = step["ChallengeName"], step.get("Session"), step.get("ChallengeParameters", {})
        challenges.append(name)
        assert len(challenges) <= 3, f"sign-in: challenges {challenges}"
        if name == "PASSWORD_VERIFIER":
            responses = {"USERNAME": params["USERNAME"], "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                         "PASSWORD_CLAIM_SIGNATURE": secrets.token_urlsafe(32),
                         "TIMESTAMP": time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())}
        elif name == "MFA_SETUP":   # an authenticator app: the secret Cognito hands out, a code from it
            secret = cognito.associate_software_token(Session=session)
            key = secret["SecretCode"] + "=" * (-len(secret["SecretCode"]) % 8)
            code = TOTP(base64.b32decode(key, casefold=True), 6, SHA1(), 30,   # moto's secret is < 128 bits
                        enforce_key_length=False).generate(time.time()).decode()
            session = cognito.verify_software_token(Session=secret["Session"], UserCode=code)["Session"]
            responses = {"USERNAME": user}
        else:
            raise AssertionError(f"sign-in: unexpected challenge {name} after {challenges}")
        step = cognito.respond_to_auth_challenge(ClientId=client, ChallengeName=name, Session=session,
                                                 ChallengeResponses=responses)
    r.id_token = step["AuthenticationResult"]["IdToken"]
    claims = verified_claims(r.id_token)
    assert claims["iss"] == f"https://cognito-idp.{region}.amazonaws.com/{pool}", claims
    assert claims["aud"] == client and claims["token_use"] == "id", claims
    api = m["apiEndpoints"]["dr"].removeprefix("https://").split(".", 1)[0]
    accepted = {arn for a in r.c("apigateway", region).get_authorizers(restApiId=api)["items"]
                if a["type"] == "COGNITO_USER_POOLS" for arn in a["providerARNs"]}
    issuer = issuer_pool_arn(claims)
    assert issuer in accepted, f"sign-in: the DR API ({api}) accepts {sorted(accepted)}, not {issuer}"
    return issuer


def replicated_pairs(r: Run) -> list[tuple[str, str]]:
    """(primary bucket, DR bucket) of every replication rule primary -> DR in the world."""
    pairs = []
    for region, bucket in r.w.built["aws:s3/bucket:Bucket"]:
        if region != r.m["primaryRegion"]:
            continue
        try:
            rules = r.c.world("s3", region).get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
        except ClientError:
            continue
        pairs += [(bucket, rule["Destination"]["Bucket"].split(":::")[-1]) for rule in rules]
    return pairs


def dr_written_buckets(r: Run) -> dict:
    """The buckets the DR services write to (their task definitions' BUCKET_*_ARN, as they run after the failover)
    -> the primary bucket whose replication fills each (None: no primary counterpart)."""
    m, dr = r.m, r.m["drRegion"]
    ecs = r.c.world("ecs", dr)
    named = set()
    for i in range(0, len(m["services"]), 10):
        for s in ecs.describe_services(cluster=m["clusterName"], services=m["services"][i:i + 10])["services"]:
            td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
            named |= {e["value"].split(":::")[-1] for c in td["containerDefinitions"] for e in c.get("environment", [])
                      if e["name"].startswith("BUCKET_") and e["name"].endswith("_ARN")}
    sources = {target: source for source, target in replicated_pairs(r)}
    return {bucket: sources.get(bucket) for bucket in sorted(named)}


@pytest.fixture(scope="module", params=MODES)
def rehearsed(request, session, worlds, failovers, tmp_path_factory):
    """The rehearsal, once per mode: outage, failover, sign-in, writes in the DR region, recovery, failback. Returns
    the Run and what was observed at each point (the tests below assert on it)."""
    recorded = failovers(request.param)   # the outage and the failover, as run once for the mode
    with pytest.MonkeyPatch.context() as mp:
        r = Run(session, worlds, request.param, tmp_path_factory.mktemp(request.param), mp)
        m, seen = r.m, {}
        api = m["records"][0]["name"]
        seen["before"] = r.w.answer(api)
        r.outage()
        seen["outage"] = r.w.answer(api)   # the front door, before anyone runs anything
        r.start_at(recorded.end)           # ... then the failover (`failovers`: this outage, then `execute`)
        seen["failover"] = recorded.result
        r.steps += recorded.log
        dr, primary = m["drRegion"], m["primaryRegion"]
        seen["promoted"] = r.db(dr, m["dbReplicaId"])
        seen["dr_parameter"] = r.c.world("ssm", dr).get_parameter(Name=m["dbEndpointParameter"])["Parameter"]["Value"]
        seen["dr_counts"] = r.counts(dr, m["clusterName"], m["services"])
        seen["dr_images"] = r.images(dr, m["clusterName"], m["services"])
        seen["dr_db_hosts"] = r.db_hosts(dr, m["clusterName"], m["services"])
        seen["inverted"], seen["during"] = r.inverted(), r.w.answer(api)
        try:
            seen["sign_in"] = sign_in(r)
        except AssertionError as exc:
            seen["sign_in"] = exc
        # during the outage: an object in each bucket the DR services write to, and a DR database write
        seen["written"] = {}
        for target, source in dr_written_buckets(r).items():
            key = f"outage/{m['mode']}/{target}.json"
            r.c.world("s3", dr).put_object(Bucket=target, Key=key, Body=b'{"written": "during the outage"}')
            seen["written"][(target, key)] = source
        seen["db_write"] = r.idle.clock()
        r.recovery()
        seen["failback"] = r.failback()
        seen["new_primary"] = r.db(primary, m["dbPrimaryId"])
        seen["dr_replica"] = r.db(dr, m["dbReplicaId"])
        seen["primary_counts"] = r.counts(primary, m["primaryClusterName"], m["primaryServices"])
        seen["primary_db_hosts"] = r.db_hosts(primary, m["primaryClusterName"], m["primaryServices"])
        seen["primary_dbs"] = {i: r.db(primary, i) for i in [m["dbPrimaryId"], *m.get("primaryReaderIds", [])]}
        seen["standby_counts"] = r.counts(dr, m["clusterName"], m["services"])
        seen["after_inverted"], seen["after"] = r.inverted(), r.w.answer(api)
        seen["copies"] = r.w.replicate_s3()   # replication as the world's configurations say, region back
        seen["present"] = {(target, key): bool(source) and _exists(r, source, key)
                           for (target, key), source in seen["written"].items()}
        write_step_log(r)
        yield r, seen


def test_the_rehearsal_fails_over_to_the_dr_region_and_serves_with_sign_in(rehearsed):
    r, seen = rehearsed
    m = r.m
    assert seen["before"] == "PRIMARY"
    assert seen["outage"] == "SECONDARY"     # a region that emits no metrics reads unhealthy
    code, out, _ = seen["failover"]
    assert code == 0, out
    assert [s for op, s, _ in r.steps if op == "failover"] == FAILOVER
    promoted = seen["promoted"]
    assert promoted["DBInstanceStatus"] == "available" and not promoted.get("ReadReplicaSourceDBInstanceIdentifier")
    assert seen["dr_parameter"] == promoted["Endpoint"]["Address"]     # the DR services read the DR database
    assert seen["dr_counts"] == m["desiredCounts"]
    registry = f"123456789012.dkr.ecr.{m['drRegion']}.amazonaws.com"
    for svc, containers in seen["dr_images"].items():
        repository, released, _unscanned = r.releases[svc]
        assert containers[svc] == f"{registry}/{repository}@{released}"   # the release, not the newer push
    # the DR services' database is the promoted DR instance: their DB_HOST names it (by identifier, in the DR
    # region; an RDS endpoint is the identifier plus an account/region suffix, kept by promotion)
    assert seen["dr_db_hosts"], "no DR service names a database host"
    assert {h.split(".")[0] for h in seen["dr_db_hosts"].values()} == {m["dbReplicaId"]}, seen["dr_db_hosts"]
    assert all(f".{m['drRegion']}.rds.amazonaws.com" in h for h in seen["dr_db_hosts"].values())
    assert all(seen["inverted"]) and seen["during"] == "SECONDARY"       # and it stays there after move-dns
    assert not isinstance(seen["sign_in"], AssertionError), seen["sign_in"]
    assert seen["sign_in"].endswith("/" + m["userPoolIds"]["dr"])


def test_the_rehearsal_fails_back_with_the_outages_database_writes(rehearsed):
    r, seen = rehearsed
    m = r.m
    code, out, logs = seen["failback"]
    assert code == 0, out
    assert [s for op, s, _ in r.steps if op == "failback"] == FAILBACK
    new_primary = seen["new_primary"]
    assert new_primary["DBInstanceStatus"] == "available" and not new_primary.get("ReadReplicaSourceDBInstanceIdentifier")
    assert new_primary["IAMDatabaseAuthenticationEnabled"] and new_primary["MultiAZ"] == m["primaryMultiAz"]
    assert [g["DBParameterGroupName"] for g in new_primary["DBParameterGroups"]] == [m["primaryDbParameterGroup"]]
    assert seen["dr_replica"]["ReadReplicaSourceDBInstanceIdentifier"] == new_primary["DBInstanceArn"]
    assert [g["DBParameterGroupName"] for g in seen["dr_replica"]["DBParameterGroups"]] == [m["drDbParameterGroup"]]
    # the write made to the DR database during the outage is in the new primary: the gate promoted only once a
    # commit made after the fence (itself after the write) was replayed, and WAL replays in order
    [gate] = [x for x in logs if x.get("step") == "wait-replica-caught-up" and x["message"] == "step done"]
    assert seen["db_write"].isoformat(timespec="seconds") <= gate["detail"]["fence"] <= gate["detail"]["replayedCommitAt"]
    assert seen["primary_counts"] == m["primaryDesiredCounts"] and seen["standby_counts"] == m["standbyCounts"]
    # the primary services' databases (the primary and its same-region readers) are back under their identifiers
    named = {h.split(".")[0] for h in seen["primary_db_hosts"].values()}
    assert named and named <= set(seen["primary_dbs"]), seen["primary_db_hosts"]
    for ident in named:
        assert seen["primary_dbs"][ident]["DBInstanceStatus"] == "available", ident
    reader_sources = {seen["primary_dbs"][i].get("ReadReplicaSourceDBInstanceIdentifier") for i in named
                      if i != m["dbPrimaryId"]}
    assert reader_sources <= {m["dbPrimaryId"], new_primary["DBInstanceArn"]}   # readers follow the new primary
    assert not any(seen["after_inverted"]) and seen["after"] == "PRIMARY"


def test_the_objects_written_in_the_dr_region_during_the_outage_are_in_the_primary_after_failback(rehearsed):
    r, seen = rehearsed
    assert seen["written"], "the DR services write to no bucket (their task definitions name none)"
    missing = [f"s3://{source or '(no primary bucket replicates to ' + target + ')'}/{key}"
               for (target, key), source in seen["written"].items() if not seen["present"][(target, key)]]
    assert not missing, (f"written in {r.m['drRegion']} during the outage, absent from {r.m['primaryRegion']} after "
                         f"failback (no DR -> primary replication in the plan?): {missing}")


def _exists(r: Run, bucket: str, key: str) -> bool:
    try:
        r.c.world("s3", r.m["primaryRegion"]).head_object(Bucket=bucket, Key=key)
        return True
    except ClientError:
        return False


def write_step_log(r: Run) -> None:
    """The procedure's own step log of this rehearsal (each step's outcome and what it does), one block per mode, in
    /tmp/notes/rehearsal-steps.txt for the closing note (rewritten per run; the other mode's block is kept)."""
    import re

    from functions.dr_failover.manifest import parse
    p = proc.Procedure(parse(r.m), r.c)
    summaries = {("failover", s.name): s.summary for s in p.failover_steps()}
    summaries |= {("failback", s.name): s.summary for s in p.failback_steps()}
    mode = r.m["mode"]
    lines = [f"# prod {mode}: the procedure's step log on the world materialised from prod's plan "
             f"(tests/test_dr_rehearsal.py)"]
    for op in ("failover", "failback"):
        for i, (_, step, outcome) in enumerate([x for x in r.steps if x[0] == op], 1):
            lines.append(f"{op} {i:>2}. {step} [{outcome}]: {summaries.get((op, step), '')}")
    with contextlib.suppress(OSError):
        STEP_LOG.parent.mkdir(parents=True, exist_ok=True)
        old = STEP_LOG.read_text() if STEP_LOG.exists() else ""
        blocks = [b.strip() for b in re.split(r"(?m)^(?=# prod )", old) if b.strip()
                  and not b.startswith(f"# prod {mode}:")]
        STEP_LOG.write_text("\n\n".join(sorted([*blocks, "\n".join(lines)])) + "\n")


# --- consistency both ways -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_every_identifier_the_manifest_names_exists_in_the_world(session, worlds, mode):
    w = worlds[mode][0]
    assert consistency(w) == []


@pytest.mark.parametrize("mode", MODES)
def test_every_dr_service_database_and_health_check_the_plan_builds_is_moved(worlds, mode):
    w = worlds[mode][0]
    assert not_moved(w) == []


def consistency(w: World) -> list[str]:
    """Each identifier of the manifest that is not in the world, named."""
    m, p, d = w.manifest, w.primary_region, w.dr_region
    want = [("aws:rds/instance:Instance", p, m["dbPrimaryId"]), ("aws:rds/instance:Instance", d, m["dbReplicaId"]),
            ("aws:ssm/parameter:Parameter", d, m["dbEndpointParameter"]),
            ("aws:ssm/parameter:Parameter", p, m["primaryDbEndpointParameter"]),
            ("aws:ecs/cluster:Cluster", d, m["clusterName"]), ("aws:ecs/cluster:Cluster", p, m["primaryClusterName"]),
            ("aws:rds/subnetGroup:SubnetGroup", p, m["primaryDbSubnetGroup"]),
            ("aws:rds/subnetGroup:SubnetGroup", d, m["drDbSubnetGroup"])]
    want += [("aws:ecs/service:Service", d, f"{m['clusterName']}/{s}") for s in m["services"]]
    want += [("aws:ecs/service:Service", p, f"{m['primaryClusterName']}/{s}") for s in m["primaryServices"]]
    want += [("aws:ssm/parameter:Parameter", d, n) for n in m.get("releaseParameters", {}).values()]
    want += [("aws:route53/healthCheck:HealthCheck", None, h) for h in m["healthCheckIds"]]
    want += [("aws:rds/instance:Instance", p, i) for i in m.get("primaryReaderIds", [])]
    want += [("aws:rds/parameterGroup:ParameterGroup", p, g) for g in [m.get("primaryDbParameterGroup")] if g]
    want += [("aws:rds/parameterGroup:ParameterGroup", d, g) for g in [m.get("drDbParameterGroup")] if g]
    want += [("aws:cognito/userPool:UserPool", {"primary": p, "dr": d}[k], v) for k, v in m.get("userPoolIds", {}).items()]
    want += [("aws:route53/zone:Zone", None, z) for z in [m.get("hostedZoneId")] if z]
    want += [("aws:cloudwatch/metricAlarm:MetricAlarm", d, a) for a in m.get("drReplicaAlarms", {})]
    want += [("aws:route53/record:Record", None, f"{rec['name']} {rec['type']} {role}") for rec in m.get("records", [])
             for role in ("PRIMARY", "SECONDARY")]
    want += [("aws:apigateway/restApi:RestApi", {"primary": p, "dr": d}[k], url.removeprefix("https://").split(".")[0])
             for k, url in m.get("apiEndpoints", {}).items()]
    return [f"{token.split(':')[-1]} {ident} ({region or 'global'})" for token, region, ident in want
            if not w.has(token, region, ident)]


def not_moved(w: World) -> list[str]:
    """Each DR-region ECS service, RDS instance and primary failover health check the plan builds that the manifest
    (the procedure's input) does not move, named."""
    m, d = w.manifest, w.dr_region
    moved_services = {f"{m['clusterName']}/{s}" for s in m["services"]}
    moved_dbs = {m["dbReplicaId"]}
    out = [f"ECS service {s} ({d})" for s in w.ids("aws:ecs/service:Service", d) if s not in moved_services]
    out += [f"RDS instance {i} ({d})" for i in w.ids("aws:rds/instance:Instance", d) if i not in moved_dbs]
    # the health checks of PRIMARY failover records are what move-dns inverts
    r53 = w.clients("route53", "us-east-1")
    for zone in w.ids("aws:route53/zone:Zone"):
        for s in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]:
            if s.get("Failover") == "PRIMARY" and s.get("HealthCheckId") not in m["healthCheckIds"]:
                out.append(f"health check {s.get('HealthCheckId')} of the PRIMARY record {s['Name']}")
    return out


def test_a_manifest_naming_what_the_plan_does_not_build_fails_the_rehearsal(worlds):
    w = worlds["pilot-light"][0]
    saved = w.manifest
    try:
        w.manifest = {**saved, "services": [*saved["services"], "billing"], "dbReplicaId": "ai-platform-prod-pg-dr2",
                      "userPoolIds": {**saved["userPoolIds"], "dr": "us-west-2_nothere"},
                      "drReplicaAlarms": {"ai-platform-prod-no-such-alarm": "breaching"}}
        assert consistency(w) == ["Instance ai-platform-prod-pg-dr2 (us-west-2)",
                                  "Service ai-platform-prod-services/billing (us-west-2)",
                                  "UserPool us-west-2_nothere (us-west-2)",
                                  "MetricAlarm ai-platform-prod-no-such-alarm (us-west-2)"]
    finally:
        w.manifest = saved


def test_a_plan_building_what_the_procedure_does_not_move_fails_the_rehearsal(worlds):
    w = worlds["pilot-light"][0]
    saved = w.manifest
    try:
        w.manifest = {**saved, "services": saved["services"][1:], "healthCheckIds": []}
        assert not_moved(w) == [f"ECS service {saved['clusterName']}/{saved['services'][0]} (us-west-2)",
                                f"health check {saved['healthCheckIds'][0]} of the PRIMARY record "
                                f"{saved['records'][0]['name']}."]
    finally:
        w.manifest = saved


def test_a_type_the_procedure_touches_without_a_materialiser_fails_loudly():
    import dataclasses
    plan = plan_of("pilot-light")
    fake = dataclasses.replace(plan.resources[0], type="aws:rds/globalCluster:GlobalCluster", urn="urn:x")
    bigger = dataclasses.replace(plan, resources=[*plan.resources, fake])
    assert unhandled(bigger) == ["aws:rds/globalCluster:GlobalCluster"]
    with pytest.raises(MaterialiseError, match="aws:rds/globalCluster:GlobalCluster: a type of a service the DR "
                                               "procedure touches with no materialiser"):
        materialise(bigger, lambda *_: None)


# --- break tests: each fails the rehearsal at a named step -----------------------------------------------------------
def failed_step(r: Run, op: str) -> str:
    [(name, _)] = [(s, o) for o2, s, o in r.steps if o2 == op and o == "failed"]
    return name


@_mode("pilot-light")
def test_break_no_health_checks_fails_at_preflight(run):
    """Empty healthCheckIds while the plan has failover records: move-dns would invert nothing and clients stay
    on the dead region (the rehearsal's front door never moves)."""
    r = run
    r.outage()
    code, out, _ = r.failover(manifest={**r.m, "healthCheckIds": []})
    assert code == 1 and failed_step(r, "failover") == "preflight", out
    assert "has no PRIMARY/SECONDARY failover pair" in out or "not in healthCheckIds" in out, out
    assert r.db(r.m["drRegion"], r.m["dbReplicaId"]).get("ReadReplicaSourceDBInstanceIdentifier")  # nothing moved


@_mode("pilot-light")
def test_break_a_dr_authorizer_without_the_dr_pool_fails_at_preflight(run):
    r = run
    region, api = r.m["drRegion"], r.m["apiEndpoints"]["dr"].removeprefix("https://").split(".")[0]
    apigw = r.c.world("apigateway", region)
    for a in apigw.get_authorizers(restApiId=api)["items"]:   # moto cannot patch providerARNs: recreate it
        apigw.delete_authorizer(restApiId=api, authorizerId=a["id"])
        apigw.create_authorizer(restApiId=api, name=a["name"], type=a["type"], identitySource=a["identitySource"],
                                providerARNs=[arn for arn in a["providerARNs"] if f":{region}:" not in arn])
    assert all(f":{region}:" not in arn for a in apigw.get_authorizers(restApiId=api)["items"]
               for arn in a["providerARNs"])
    r.outage()
    code, out, _ = r.failover()
    assert code == 1 and failed_step(r, "failover") == "preflight", out
    assert f"does not accept the DR user pool {r.m['userPoolIds']['dr']}" in out, out
    assert r.db(region, r.m["dbReplicaId"]).get("ReadReplicaSourceDBInstanceIdentifier")


@_mode("pilot-light")
def test_break_an_unscanned_newest_image_without_a_release_fails_at_use_current_images(run):
    """The newest push never passed the scan and no release names an image: nothing is guessed, the DR services
    are not scaled onto anything."""
    r = run
    svc = r.m["services"][0]
    r.c.world("ssm", r.m["drRegion"]).delete_parameter(Name=r.m["releaseParameters"][svc])
    r.outage()
    code, out, _ = r.failover()
    assert code == 1 and failed_step(r, "failover") == "use-current-images", out
    assert f"release parameter {r.m['releaseParameters'][svc]} (us-west-2) of {svc} not found" in out
    assert r.counts(r.m["drRegion"], r.m["clusterName"], r.m["services"]) == r.m["standbyCounts"]
    _repo, _released, unscanned = r.releases[svc]
    assert all(unscanned not in image for c in r.images(r.m["drRegion"], r.m["clusterName"], r.m["services"]).values()
               for image in c.values())


@_mode("pilot-light")
def test_break_a_failback_lag_gate_at_zero_fails_at_wait_replica_caught_up(run, failovers):
    r, recorded = run, failovers("pilot-light")
    assert recorded.result[0] == 0
    r.start_at(recorded.end)   # after the outage and a completed failover
    r.recovery()
    code, out, _ = r.cli("--lag-timeout", "15", "failback", "--target-region", r.m["primaryRegion"], "--confirm",
                         manifest={**r.m, "maxReplicaLagSeconds": 0})
    assert code == 1 and failed_step(r, "failback") == "wait-replica-caught-up", out
    assert r.db(r.m["primaryRegion"], r.m["dbPrimaryId"]).get("ReadReplicaSourceDBInstanceIdentifier")  # not promoted
    assert r.counts(r.m["drRegion"], r.m["clusterName"], r.m["services"]) == {s: 0 for s in r.m["services"]}  # fenced


@_mode("pilot-light")
def test_the_sign_in_is_refused_without_the_flow_the_spa_uses_or_with_a_token_moto_did_not_sign(run):
    """Both sides of `sign_in` on the materialised world: it succeeds as the plan built the DR pool; a DR client
    without ALLOW_USER_SRP_AUTH fails it; a token whose payload was changed fails its signature check."""
    r = run
    region, pool = r.m["drRegion"], r.m["userPoolIds"]["dr"]
    assert sign_in(r) == f"arn:aws:cognito-idp:{region}:123456789012:userpool/{pool}"
    header, body, signature = r.id_token.split(".")
    claims = verified_claims(f"{header}.{body}.{signature}")
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "iss": claims["iss"].replace(pool, "us-west-2_other")})
                                      .encode()).decode().rstrip("=")
    with pytest.raises(Exception, match="signature"):
        verified_claims(f"{header}.{forged}.{signature}")
    cognito = r.c("cognito-idp", region)
    [client] = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
    cognito.update_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"],
                                    ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"])
    with pytest.raises(AssertionError, match="allows \\['ALLOW_REFRESH_TOKEN_AUTH'\\]"):
        sign_in(r)


def test_the_failover_does_not_need_the_lost_region(session, worlds, tmp_path, monkeypatch):
    """Every failover call goes to the DR region (or Route 53): with the primary unreachable the failover
    completes (the rehearsal above), and a call there would have surfaced as an endpoint error."""
    r = Run(session, worlds, "pilot-light", tmp_path, monkeypatch)
    r.outage()
    with pytest.raises(EndpointConnectionError):
        r.c("rds", r.m["primaryRegion"]).describe_db_instances()
    assert r.c("route53", r.m["primaryRegion"]) is not None



# --- the procedure's mechanics on the materialised world (each also on the hand-written world of
# tests/test_fn_dr_failover.py, which keeps the per-step resume tests: two services there, nine here) ----------------
def world_facts(r: Run) -> tuple:
    m = r.m
    return (r.db(m["drRegion"], m["dbReplicaId"]).get("ReadReplicaSourceDBInstanceIdentifier"),
            r.counts(m["drRegion"], m["clusterName"], m["services"]), tuple(r.inverted()),
            r.w.answer(m["records"][0]["name"]))


@_mode("pilot-light")
def test_the_dry_run_lists_both_operations_and_changes_nothing(run):
    r = run
    before = world_facts(r)
    code, out, _ = r.cli("plan")
    assert code == 0 and "Dry run, nothing changed" in out
    assert [line.split("] ")[1].split(":")[0] for line in out.splitlines() if "] " in line] == FAILOVER
    code, out, _ = r.cli("plan", "--operation", "failback", "--json")
    assert code == 0 and [s["name"] for s in json.loads(out)["steps"]] == FAILBACK
    assert world_facts(r) == before and before[0] and before[3] == "PRIMARY"


@_mode("pilot-light")
def test_a_rerun_of_the_failover_changes_nothing(run, failovers):
    r, recorded = run, failovers("pilot-light")
    assert recorded.result[0] == 0
    r.start_at(recorded.end)   # after the outage and a completed failover
    dr = r.m["drRegion"]
    mutating = [(r.c.world("rds", dr), "promote_read_replica"), (r.c.world("ssm", dr), "put_parameter"),
                (r.c.world("ecs", dr), "update_service"), (r.c.world("ecs", dr), "register_task_definition"),
                (r.c.world("application-autoscaling", dr), "register_scalable_target"),
                (r.c.world("route53", "us-east-1"), "update_health_check")]
    with contextlib.ExitStack() as stack:
        spies = [stack.enter_context(mock.patch.object(c, name, wraps=getattr(c, name))) for c, name in mutating]
        again = r.failover()
        (r.dir / "state.json").unlink()    # and without the state record: every step finds nothing to do
        fresh = r.failover()
    assert again[0] == 0 and "already completed" in again[1]
    assert fresh[0] == 0 and fresh[1].count(": done in") == len(FAILOVER), fresh[1]
    assert [spy.call_count for spy in spies] == [0] * len(mutating)


@_mode("warm-standby")
@pytest.mark.parametrize("failing", ["use-current-images", "move-dns"])
def test_an_interrupted_failover_resumes_during_the_outage(run, monkeypatch, failing, failovers):
    """The failover that fails at `failing` starts where the mode's recorded failover stood at that step's start
    (`failovers`: the steps before it done, once, in that run; the outage on): its `execute` skips them, fails at
    the step, and `resume` finishes without running them again."""
    index = FAILOVER.index(failing)
    r, recorded = run, failovers("warm-standby")
    r.start_at(recorded.steps[failing])
    calls = throttle_once(monkeypatch, "failover_steps", failing)
    code, out, _ = r.failover()
    assert code == 1 and failed_step(r, "failover") == failing, out
    assert out.count("already done, skipped") == index
    code, out, _ = r.cli("resume", "--target-region", r.m["drRegion"], "--confirm")
    assert code == 0, out
    assert out.count("already done, skipped") == index
    assert calls == {name: 2 if name == failing else 1 for name in FAILOVER[index:]}
    assert r.counts(r.m["drRegion"], r.m["clusterName"], r.m["services"]) == r.m["desiredCounts"]
    assert all(r.inverted()) and r.w.answer(r.m["records"][0]["name"]) == "SECONDARY"
