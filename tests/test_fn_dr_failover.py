"""functions/dr_failover on moto (RDS cross-region replica and promotion, ECS, Application Auto Scaling, SSM,
Secrets Manager, Route 53, CloudWatch, Cognito): dry run, execute, idempotency, resume after a failure injected at
each step of both operations, failback, and the refusals."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import sys
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from conftest import IdleSource, MotoSnapshot, moto_client, moto_session, throttle_once
from functions.dr_failover import procedure as proc
from functions.dr_failover.manifest import ManifestError, load, parse

# One pytest-xdist worker runs every moto and PostgreSQL test (tests/test_fn_*.py, the rehearsal, the bootstrap):
# moto's import and each service's models are loaded once (~3 s of CPU a process), not on both workers.
pytestmark = pytest.mark.xdist_group("moto")

PRIMARY, DR = "us-east-1", "us-west-2"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": PRIMARY, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}  # no AMI catalogue: fast resets
DB, REPLICA = "ai-platform-prod-postgres", "ai-platform-prod-postgres-dr"
PARAM = "/ai-platform/prod/db-endpoint"
SERVICES = ["search", "workflow"]
FAILOVER = [s for s in proc.TYPICAL if s in ("preflight", "promote-replica", "point-services", "use-current-images",
                                             "scale-services", "wait-services-stable", "move-dns")]
REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
REPO = "ai-platform/prod/app"
STALE_IMAGE = f"{REGISTRY}/{REPO}:1.0.0"    # what the DR task definitions name (application.imageTag)
RELEASED, UNSCANNED = "9c1e2f7", "e0ffbad"   # the last release (RecordRelease) and a newer push that never passed
READER, PARAMS = "ai-platform-prod-postgres-replica", "ai-platform-prod-postgres16"
LAG_ALARM = "ai-platform-prod-postgres-dr-replica-lag"
RELEASES = {svc: f"/ai-platform/prod/release/{svc}" for svc in SERVICES}
FAILBACK = ["preflight", "retire-old-primary", "replicate-to-primary", "fence-dr-services", "wait-replica-caught-up",
            "promote-primary", "restore-primary-settings", "replicate-primary-readers", "point-primary-services", "scale-primary-services", "wait-primary-services-stable",
            "move-dns-back", "retire-dr-db", "replicate-to-dr", "standby-dr-services"]


@pytest.fixture(scope="module")
def aws():
    """One moto account for the module; promotion modelled as AWS does it (moto keeps the replica's source)."""
    from moto.rds.models import RDSBackend
    real = RDSBackend.promote_read_replica

    def promote(self, db_kwargs):
        database = real(self, db_kwargs)
        database.source_db_instance_identifier = None  # AWS: a promoted instance no longer names a source
        return database

    with moto_session(ENV, PRIMARY) as (mock_, _), mock.patch.object(RDSBackend, "promote_read_replica", promote):
        cache: dict = {}

        def clients(service, region):   # every service moto's, Cognito and API Gateway included
            if (service, region) not in cache:
                cache[(service, region)] = moto_client(service, region)
            return cache[(service, region)]
        yield mock_, clients


World = dataclasses.make_dataclass("World", ["c", "manifest", "path", "state", "hc", "secret", "images"])


def _world_in(built, tmp_path) -> World:
    (c, manifest, hc, secret, images), _ = built
    path = tmp_path / "dr.json"
    path.write_text(json.dumps(manifest))
    return World(c, copy.deepcopy(manifest), path, tmp_path / "state.json", hc, secret, images)


@pytest.fixture
def unrestored(built, tmp_path):
    """A World with the manifest in this test's own directory, on moto as the last test left it: `failed_over` or
    the test itself restores what it starts from (one restore a test, ~5 ms each)."""
    return _world_in(built, tmp_path)


@pytest.fixture
def world(built, tmp_path):
    """The world as built once for the module (`built`), restored; the manifest in this test's own directory."""
    built[1].restore()
    return _world_in(built, tmp_path)


@dataclasses.dataclass
class Boundary:
    """What a run leaves at one point (a step's start, before its action; or its end): moto's world, the state
    record, the idle source's clock (its time and minute)."""
    snapshot: MotoSnapshot
    state: str
    clock: tuple


@dataclasses.dataclass
class Recorded:
    """One whole fresh run of an operation: its Boundary at each step's start (step name -> Boundary, in the
    procedure's order), at its end, and its Result."""
    steps: dict
    end: Boundary
    result: Result
    used: frozenset = frozenset()   # (service, region) of every client the procedure asked for


def record(w: World, steps_method: str, command, clients=None) -> Recorded:
    """Run `command` (execute / failback) on `w` once, fresh, on an idle source's clock as every test's run, keeping
    the Boundary at each step's start and at the end. The run must complete, each step's action called once.
    `clients`: the idle source's (default `w.c`, which the procedure gets)."""
    found: dict = {}
    idle = IdleSource(lambda: (clients or w.c)("cloudwatch", PRIMARY), DB)
    real = getattr(proc.Procedure, steps_method)

    def steps(self):
        out = []
        for step in real(self):
            def action(step=step):
                assert step.name not in found, f"{step.name} ran twice in one fresh run"
                found[step.name] = Boundary(MotoSnapshot(), w.state.read_text(), (idle.now, idle.minute))
                return step.action()
            out.append(dataclasses.replace(step, action=action))
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(proc.Procedure, steps_method, steps)
        mp.setattr(proc, "_utcnow", idle.clock)
        mp.setattr(sys.modules[__name__], "IDLE", idle)
        r = command(w)
    assert r.code == 0, r.out + r.err
    return Recorded(found, Boundary(MotoSnapshot(), w.state.read_text(), (idle.now, idle.minute)), r)


def start_at(w: World, boundary: Boundary) -> None:
    """`w` as the recorded run left it at `boundary`: the world, the state record (at a step's start: the steps
    before it done, the operation in progress) and the idle source's clock, as if that run had stopped there."""
    boundary.snapshot.restore()
    w.state.write_text(boundary.state)
    assert IDLE is not None
    IDLE.now, IDLE.minute = boundary.clock


@pytest.fixture(scope="module")
def failover_run(built, tmp_path_factory) -> Recorded:
    """A fresh failover from the built world, recorded (`record`): the failover resume tests start at its steps,
    and its end is every failback test's starting point (`after_failover`)."""
    (c, manifest, hc, secret, images), snapshot = built
    snapshot.restore()
    directory = tmp_path_factory.mktemp("failover-run")
    (directory / "dr.json").write_text(json.dumps(manifest))
    used: set = set()

    def recording(service, region):   # the clients the procedure asks for (test_failover_needs_nothing_...)
        used.add((service, region))
        return c(service, region)

    w = World(recording, manifest, directory / "dr.json", directory / "state.json", hc, secret, images)
    run = dataclasses.replace(record(w, "failover_steps", execute, clients=c), used=frozenset(used))
    assert list(run.steps) == FAILOVER
    assert_failed_over(dataclasses.replace(w, c=c))
    return run


@pytest.fixture(scope="module")
def after_failover(failover_run):
    """The world after a completed failover, and the procedure's state file then: the recorded failover's end,
    as the failback tests' starting point (each used to run the failover first)."""
    return failover_run.end.snapshot, failover_run.end.state


@pytest.fixture(scope="module")
def failback_run(after_failover, built, tmp_path_factory) -> Recorded:
    """A fresh failback from the completed failover, recorded: the failback resume tests start at its steps; the
    tests of a completed failback start at its end and read its output."""
    (c, manifest, hc, secret, images), _ = built
    snapshot, state_text = after_failover
    snapshot.restore()
    directory = tmp_path_factory.mktemp("failback-run")
    (directory / "dr.json").write_text(json.dumps(manifest))
    (directory / "state.json").write_text(state_text)
    w = World(c, manifest, directory / "dr.json", directory / "state.json", hc, secret, images)
    run = record(w, "failback_steps", failback)
    assert list(run.steps) == FAILBACK
    assert_failed_back(w)
    return run


@pytest.fixture
def failed_over(unrestored, after_failover):
    """The world after the completed failover, with its state file (`after_failover`)."""
    snapshot, state_text = after_failover
    snapshot.restore()
    unrestored.state.write_text(state_text)
    return unrestored


@pytest.fixture(scope="module")
def built(aws):
    """Both regions as the stack leaves them, built once through the API and snapshotted (conftest.MotoSnapshot):
    the primary database and its DR replica, both clusters with their services and scaling targets, the DR-region
    ECR replica's images, the endpoint parameters, the DR connection secret, the failover records and the primary's
    health check."""
    mock_, c = aws
    mock_.reset()
    ids = {}
    for region, cluster in ((PRIMARY, "ai-platform-prod"), (DR, "ai-platform-prod-dr")):
        ec2 = c("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")
                   ["Subnet"]["SubnetId"] for i, az in enumerate("ab")]
        c("rds", region).create_db_subnet_group(DBSubnetGroupName="ai-platform-prod-db", SubnetIds=subnets,
                                                DBSubnetGroupDescription="db")
        ids[region] = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
        ecs = c("ecs", region)
        ecs.create_cluster(clusterName=cluster)
        # the DR services run from the DR-region ECR replica, at the configured tag; a sidecar from elsewhere
        image = STALE_IMAGE if region == DR else "app:1"
        ecs.register_task_definition(family="app", containerDefinitions=[
            {"name": "app", "image": image, "memory": 512},
            {"name": "sidecar", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", "memory": 128}],
            tags=[{"key": "Service", "value": "app"}])
        for svc in SERVICES:
            ecs.create_service(cluster=cluster, serviceName=svc, taskDefinition="app",
                               desiredCount=2 if region == PRIMARY else 0)
            c("application-autoscaling", region).register_scalable_target(
                ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{svc}",
                ScalableDimension="ecs:service:DesiredCount", MinCapacity=2 if region == PRIMARY else 0,
                MaxCapacity=6)
    images = push_images(c, ["1.0.0", RELEASED, UNSCANNED])
    for name in RELEASES.values():   # what the pipeline's RecordRelease wrote (the primary registry's reference)
        c("ssm", DR).put_parameter(Name=name, Type="String",
                                   Value=f"{REGISTRY.replace(DR, PRIMARY)}/{REPO}@{images[RELEASED]}")
    for region in (PRIMARY, DR):
        c("rds", region).create_db_parameter_group(DBParameterGroupName=PARAMS, DBParameterGroupFamily="postgres16",
                                                   Description="the stack's")
    primary = c("rds", PRIMARY).create_db_instance(
        DBInstanceIdentifier=DB, Engine="postgres", DBInstanceClass="db.t4g.medium", MasterUsername="platform",
        MasterUserPassword="not-a-real-password", AllocatedStorage=20, BackupRetentionPeriod=7,
        DBSubnetGroupName="ai-platform-prod-db", DBParameterGroupName=PARAMS, MultiAZ=True,
        EnableIAMDatabaseAuthentication=True)["DBInstance"]
    c("rds", PRIMARY).create_db_instance_read_replica(DBInstanceIdentifier=READER, SourceDBInstanceIdentifier=DB,
                                                      EnableIAMDatabaseAuthentication=True)
    pools = {region: c("cognito-idp", region).create_user_pool(PoolName="ai-platform-prod-users")["UserPool"]["Id"]
             for region in (PRIMARY, DR)}   # moto's cognito-idp
    replica = c("rds", DR).create_db_instance_read_replica(
        DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        DBSubnetGroupName="ai-platform-prod-db", KmsKeyId="arn:aws:kms:us-west-2:123456789012:key/dr")["DBInstance"]
    c("ssm", PRIMARY).put_parameter(Name=PARAM, Value=primary["Endpoint"]["Address"], Type="String")
    c("ssm", DR).put_parameter(Name=PARAM, Value=replica["Endpoint"]["Address"], Type="String")
    secret = c("secretsmanager", DR).create_secret(
        Name="ai-platform/prod/db-connection",
        SecretString=json.dumps({"host": replica["Endpoint"]["Address"], "port": 5432, "dbname": "platform"}))["ARN"]
    r53 = c("route53", PRIMARY)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="zone")["HostedZone"]["Id"].split("/")[-1]
    hc = r53.create_health_check(CallerReference="hc", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "primary-alb.example.com", "Port": 443,
        "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "api.example.com", "Type": "A", "SetIdentifier": role,
                                                   "Failover": role, "TTL": 60, "ResourceRecords": [{"Value": ip}],
                                                   **({"HealthCheckId": hc} if role == "PRIMARY" else {})}}
        for role, ip in (("PRIMARY", "192.0.2.10"), ("SECONDARY", "198.51.100.10"))]})
    # the DR replica's lag alarm, as components/dr_region.py builds it (no lag reported = breaching)
    c("cloudwatch", DR).put_metric_alarm(
        AlarmName=LAG_ALARM, Namespace="AWS/RDS", MetricName="ReplicaLag", Statistic="Maximum", Period=60,
        EvaluationPeriods=5, Threshold=900, ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": REPLICA}],
        AlarmActions=["arn:aws:sns:us-west-2:123456789012:ai-platform-prod-alerts"])
    c("cloudwatch", PRIMARY).put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "ReplicaLag", "Value": 0, "Timestamp": dt.datetime.now(dt.UTC),
        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": DB}]}])
    manifest = {
        "version": 1, "stack": "prod", "mode": "pilot-light", "primaryRegion": PRIMARY, "drRegion": DR,
        "dbPrimaryId": DB, "dbReplicaId": REPLICA, "dbEndpointParameter": PARAM, "dbSecretArn": secret,
        "clusterName": "ai-platform-prod-dr", "services": SERVICES, "desiredCounts": {"search": 3, "workflow": 2},
        "standbyCounts": {"search": 0, "workflow": 0}, "hostedZoneId": zone,
        "records": [{"name": "api.example.com", "type": "A"}], "healthCheckIds": [hc],
        "primaryClusterName": "ai-platform-prod", "primaryDesiredCounts": {"search": 3, "workflow": 2},
        "primaryKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/primary", "primaryDbSubnetGroup": "ai-platform-prod-db",
        "primarySecurityGroupIds": [ids[PRIMARY]], "drKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/dr",
        "drDbSubnetGroup": "ai-platform-prod-db", "drSecurityGroupIds": [ids[DR]], "releaseParameters": RELEASES,
        "primaryDbParameterGroup": PARAMS, "primaryMultiAz": True, "primaryReaderIds": [READER],
        "drDbParameterGroup": PARAMS, "userPoolIds": {"primary": pools[PRIMARY], "dr": pools[DR]},
        "drReplicaAlarms": {LAG_ALARM: "breaching"}}
    return (c, manifest, hc, secret, images), MotoSnapshot()


def push_images(c, tags, repository=REPO, region=DR) -> dict:
    """Images in the DR-region ECR replica, pushed one after another (oldest first): tag -> digest."""
    from moto.ecr.models import ecr_backends
    ecr = c("ecr", region)
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    out = {}
    for tag in tags:
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"digest": "sha256:" + tag.encode().hex().ljust(64, "0")[:64], "size": 1,
                                          "mediaType": "application/vnd.docker.container.image.v1+json"},
                               "layers": [{"digest": "sha256:" + tag.encode().hex().rjust(64, "0")[-64:], "size": 1,
                                           "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}]})
        out[tag] = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]["imageId"][
            "imageDigest"]
    # moto stamps whole seconds: make the push order explicit
    base = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
    for i, image in enumerate(ecr_backends["123456789012"][region].repositories[repository].images):
        image.image_pushed_at = base + 60 * i
    return out


def dr_images(w) -> dict:
    ecs = w.c("ecs", DR)
    out = {}
    for s in ecs.describe_services(cluster="ai-platform-prod-dr", services=SERVICES)["services"]:
        td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"], include=["TAGS"])
        out[s["serviceName"]] = ({c["name"]: c["image"] for c in td["taskDefinition"]["containerDefinitions"]},
                                 td.get("tags"))
    return out


@pytest.fixture(autouse=True)
def idle_source(monkeypatch, request):
    """Every test's procedure runs on the idle source's clock (the failback's lag gate reads it)."""
    if "aws" not in request.fixturenames:
        return None
    _, c = request.getfixturevalue("aws")
    source = IdleSource(lambda: c("cloudwatch", PRIMARY), DB)
    monkeypatch.setattr(proc, "_utcnow", source.clock)
    monkeypatch.setattr(sys.modules[__name__], "IDLE", source, raising=False)
    return source


IDLE: IdleSource | None = None


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def logs(self) -> list[dict]:
        return [json.loads(line) for line in self.err.splitlines() if line.startswith("{")]


def cli(w, *argv, state=True, capsys=None):
    out, err = io.StringIO(), io.StringIO()
    extra = ["--state-file", str(w.state)] if state else []
    with mock.patch("sys.stderr", err):  # the structured log goes to the current stderr
        try:
            code = proc.main(["--manifest", str(w.path), *extra, "--poll-seconds", "0", *argv], clients=w.c,
                             out=out, err=err, sleep=IDLE.sleep if IDLE else lambda _s: None)
        except SystemExit as exc:  # argparse's refusals
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def execute(w, **kw):
    return cli(w, "execute", "--target-region", DR, "--confirm", **kw)


def failback(w, **kw):
    return cli(w, "failback", "--target-region", PRIMARY, "--confirm", **kw)


def db(w, region, ident):
    try:
        return w.c("rds", region).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    except ClientError:
        return None


def counts(w, region, cluster):
    return {s["serviceName"]: s["desiredCount"]
            for s in w.c("ecs", region).describe_services(cluster=cluster, services=SERVICES)["services"]}


def inverted(w):
    """The primary check forced unhealthy (disabled AND inverted: Route 53 then reads it unhealthy whatever the
    region reports; inverted alone would flip a check that already reads a dead region back to healthy), or
    neither: never one without the other."""
    config = w.c("route53", PRIMARY).get_health_check(HealthCheckId=w.hc)["HealthCheck"]["HealthCheckConfig"]
    assert bool(config.get("Disabled")) == config["Inverted"], config
    return config["Inverted"]


def state(w):
    return json.loads(w.state.read_text())


def assert_failed_over(w):
    rep = db(w, DR, REPLICA)
    assert rep["DBInstanceStatus"] == "available" and not rep.get("ReadReplicaSourceDBInstanceIdentifier")
    address = rep["Endpoint"]["Address"]
    assert w.c("ssm", DR).get_parameter(Name=PARAM)["Parameter"]["Value"] == address
    assert json.loads(w.c("secretsmanager", DR).get_secret_value(SecretId=w.secret)["SecretString"])["host"] == address
    assert counts(w, DR, "ai-platform-prod-dr") == {"search": 3, "workflow": 2}
    floors = {t["ResourceId"].split("/")[-1]: t["MinCapacity"] for t in w.c("application-autoscaling", DR)
              .describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]}
    assert floors == {"search": 3, "workflow": 2}  # else target tracking would scale straight back to 0
    assert inverted(w) is True
    # the DR services run the RELEASED image, pinned by digest: not the configured tag, not the newer unscanned push
    newest = f"{REGISTRY}/{REPO}@{w.images[RELEASED]}"
    for containers, tags in dr_images(w).values():
        assert containers == {"app": newest, "sidecar": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"}
        assert tags == [{"key": "Service", "value": "app"}]


# --- the world each test starts from ---------------------------------------------------------------------------------
def test_each_test_starts_from_the_built_world_whatever_the_last_one_changed(world, built, failover_run):
    """conftest.MotoSnapshot: a whole failover (database promoted, parameter, services and DNS moved), a parameter
    written in a region the world never touched and a deleted secret are all undone by a restore; a second restore
    undoes a second round of changes (the snapshot itself is never handed out)."""
    def facts():
        return (db(world, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier"),
                world.c("ssm", DR).get_parameter(Name=PARAM)["Parameter"]["Value"],
                counts(world, DR, "ai-platform-prod-dr"),
                inverted(world), world.c("secretsmanager", DR).describe_secret(SecretId=world.secret)["ARN"],
                world.c("ssm", "eu-west-1").get_parameters(Names=[PARAM])["InvalidParameters"])
    original = facts()
    assert original[0].endswith(DB) and original[2] == {"search": 0, "workflow": 0} and original[5] == [PARAM]
    start_at(world, failover_run.end)   # after a whole failover (the recorded `execute` from this world)
    assert failover_run.result.code == 0 and facts()[0] is None   # the replica was promoted
    for _ in range(2):
        world.c("ssm", "eu-west-1").put_parameter(Name=PARAM, Value="elsewhere", Type="String", Overwrite=True)
        world.c("ecs", DR).update_service(cluster="ai-platform-prod-dr", service="search", desiredCount=5)
        changed = facts()
        world.c("secretsmanager", DR).delete_secret(SecretId=world.secret, ForceDeleteWithoutRecovery=True)
        assert changed[2]["search"] == 5 and changed[5] == [] and changed != original
        built[1].restore()
        assert facts() == original


# --- dry run -------------------------------------------------------------------------------------------------------
def test_plan_lists_the_steps_in_order_and_changes_nothing(world):
    r = cli(world, "plan")
    assert r.code == 0, r.err
    names = [line.split("] ")[1].split(":")[0] for line in r.out.splitlines() if "] " in line]
    assert names == FAILOVER
    assert "Dry run, nothing changed" in r.out and "typical: 5-15 min" in r.out
    assert db(world, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")
    assert counts(world, DR, "ai-platform-prod-dr") == {"search": 0, "workflow": 0} and inverted(world) is False
    assert not world.state.exists()
    plan = json.loads(cli(world, "plan", "--operation", "failback", "--json").out)
    assert [s["name"] for s in plan["steps"]] == FAILBACK and plan["status"] == "not started"


# --- execute ------------------------------------------------------------------------------------------------------
def test_execute_promotes_points_scales_and_moves_dns(world, failover_run):
    """The recorded failover (`failover_run`: a fresh `execute` from this world): its output, and its end."""
    before = {s["serviceName"]: s["deployments"][0]["id"] for s in world.c("ecs", DR).describe_services(
        cluster="ai-platform-prod-dr", services=SERVICES)["services"]}
    r = failover_run.result
    start_at(world, failover_run.end)
    assert r.code == 0, r.out + r.err
    assert_failed_over(world)
    after = {s["serviceName"]: s["deployments"][0]["id"] for s in world.c("ecs", DR).describe_services(
        cluster="ai-platform-prod-dr", services=SERVICES)["services"]}
    assert all(before[s] != after[s] for s in SERVICES)  # new deployment: tasks read the new endpoint
    assert db(world, DR, REPLICA)["BackupRetentionPeriod"] == 7
    record = state(world)["operations"]["failover"]
    assert record["status"] == "completed" and sorted(record["steps"]) == sorted(FAILOVER)
    assert all(s["status"] == "done" and isinstance(s["seconds"], float) for s in record["steps"].values())
    done = [log for log in r.logs if log["message"] == "step done"]
    assert [log["step"] for log in done] == FAILOVER
    assert all(log["service"] == "dr-failover" and log["operation"] == "failover" and "seconds" in log
               for log in done)


def test_failover_needs_nothing_from_the_primary_region(failover_run):
    """The primary region may be gone: a failover calls only DR-region APIs and Route 53 (global). The clients the
    recorded failover (a fresh `execute` of the built world) asked for."""
    r, used = failover_run.result, failover_run.used
    assert r.code == 0, r.out
    assert {(svc, region) for svc, region in used if region == PRIMARY} == {("route53", PRIMARY)}
    assert ("rds", DR) in used and ("ecs", DR) in used   # the recording saw the run's clients


def test_execute_twice_changes_nothing_the_second_time(failed_over):
    world = failed_over   # a completed execute (the recorded failover: exit 0, failed over)
    c = world.c
    mutating = [(c("rds", DR), "promote_read_replica"), (c("ssm", DR), "put_parameter"),
                (c("ecs", DR), "update_service"), (c("application-autoscaling", DR), "register_scalable_target"),
                (c("secretsmanager", DR), "put_secret_value"), (c("route53", PRIMARY), "update_health_check")]
    patches = [mock.patch.object(client, name, wraps=getattr(client, name)) for client, name in mutating]
    spies = [p.start() for p in patches]
    try:
        again = execute(world)
        # Without the state record too: every step inspects the world and finds nothing to do.
        world.state.unlink()
        fresh = execute(world)
    finally:
        for p in patches:
            p.stop()
    assert again.code == 0 and "already completed" in again.out
    assert fresh.code == 0 and fresh.out.count(": done in") == len(FAILOVER), fresh.out
    assert [spy.call_count for spy in spies] == [0] * len(mutating)
    assert_failed_over(world)


def test_the_state_lives_in_ssm_in_the_dr_region_by_default(world):
    r = execute(world, state=False)
    assert r.code == 0, r.out
    record = json.loads(world.c("ssm", DR).get_parameter(Name="/ai-platform/prod/dr-failover/state")
                        ["Parameter"]["Value"])
    assert record["operations"]["failover"]["status"] == "completed"
    assert "already completed" in execute(world, state=False).out


# --- resume after a failure at each step ----------------------------------------------------------------------------
@pytest.mark.parametrize("failing", FAILOVER)
def test_resume_after_a_failure_at_each_failover_step(unrestored, built, monkeypatch, failing, failover_run):
    """A failover interrupted at each step resumes there. The run that fails at step k starts where a fresh run
    stands at k's start (`record`: one recorded fresh run whose every step ran once; its world, state record and
    clock restored), so the steps before k are not run again per parameter: that run's `execute` skips them
    (recorded done), fails at k, and the resume finishes; the first step's case is a fresh `execute` from the
    built world. docs/performance.md (suite, the moto tests)."""
    world, index = unrestored, FAILOVER.index(failing)
    if index:
        start_at(world, failover_run.steps[failing])
    else:
        built[1].restore()
    calls = throttle_once(monkeypatch, "failover_steps", failing)
    first = execute(world)
    assert first.code == 1 and f"{failing}: FAILED" in first.out and "resume --target-region us-west-2" in first.out
    assert first.out.count("already done, skipped") == index
    record = state(world)["operations"]["failover"]
    assert record["status"] == "failed" and record["steps"][failing]["status"] == "failed"
    assert sorted(k for k, v in record["steps"].items() if v["status"] == "done") == sorted(FAILOVER[:index])
    assert inverted(world) is False  # DNS never moves before the last step
    second = cli(world, "resume", "--target-region", DR, "--confirm")
    assert second.code == 0, second.out + second.err
    # done steps were skipped: the ones before the failure never ran again (they ran once, in the recorded run)
    assert calls == {name: 2 if name == failing else 1 for name in FAILOVER[index:]}
    assert second.out.count("already done, skipped") == index
    assert_failed_over(world)


def test_a_failure_inside_a_step_resumes_without_repeating_its_done_part(world):
    ecs = world.c("ecs", DR)
    real = ecs.update_service
    seen = []

    def flaky(**kw):
        if "desiredCount" not in kw:   # use-current-images' update (a new revision): not this test's
            return real(**kw)
        seen.append(kw["service"])
        if kw["service"] == "workflow" and seen.count("workflow") == 1:
            raise ClientError({"Error": {"Code": "ServerException", "Message": "try again"}}, "UpdateService")
        return real(**kw)

    with mock.patch.object(ecs, "update_service", side_effect=flaky):
        assert execute(world).code == 1
        assert cli(world, "resume", "--target-region", DR, "--confirm").code == 0
    assert seen == ["search", "workflow", "workflow"]  # search was already scaled and deployed: not again
    assert_failed_over(world)


# --- images at failover --------------------------------------------------------------------------------------------
def test_use_current_images_registers_a_revision_once_and_then_changes_nothing(world):
    p = proc.Procedure(parse(world.manifest), world.c, poll_seconds=0, sleep=lambda _s: None)
    first = p.current_images(DR, "ai-platform-prod-dr", SERVICES)
    assert first == {"changed": SERVICES, "current": []}
    ecs = world.c("ecs", DR)
    revisions = ecs.list_task_definitions(familyPrefix="app")["taskDefinitionArns"]
    assert len(revisions) == 2   # one new revision of the family (here the services share one), both moved to it
    assert p.current_images(DR, "ai-platform-prod-dr", SERVICES) == {"changed": [], "current": SERVICES}
    assert ecs.list_task_definitions(familyPrefix="app")["taskDefinitionArns"] == revisions
    # a newer push replicated later is NOT taken (registry replication copies unscanned pushes too)...
    newer = push_images(world.c, ["77aa001"])["77aa001"]
    assert p.current_images(DR, "ai-platform-prod-dr", ["search"])["changed"] == []
    # ...until a release records it: the next run moves to it
    world.c("ssm", DR).put_parameter(Name=RELEASES["search"], Value=f"{REGISTRY}/{REPO}:77aa001", Type="String",
                                     Overwrite=True)
    assert p.current_images(DR, "ai-platform-prod-dr", ["search"])["changed"] == ["search"]
    assert dr_images(world)["search"][0]["app"] == f"{REGISTRY}/{REPO}@{newer}"


def test_failover_never_ships_the_newest_unscanned_push_nor_an_unreleased_service(failed_over):
    """Break test (issue 26): the newest image in the DR replica is an unscanned push; the failover ships the
    released one. A service without a release parameter, or whose release never replicated, fails the step by name.
    `failed_over`: after a completed execute (the recorded failover: exit 0)."""
    world = failed_over
    assert {c["app"] for c, _ in dr_images(world).values()} == {f"{REGISTRY}/{REPO}@{world.images[RELEASED]}"}
    assert world.images[UNSCANNED] not in json.dumps(dr_images(world))
    p = proc.Procedure(parse({**world.manifest, "releaseParameters": {}}), world.c, poll_seconds=0,
                       sleep=lambda _s: None)
    with pytest.raises(proc.StepError, match="search has no release parameter"):
        p.current_images(DR, "ai-platform-prod-dr", SERVICES)
    world.c("ssm", DR).put_parameter(Name=RELEASES["search"], Value=f"{REGISTRY}/{REPO}@sha256:{'f' * 64}",
                                     Type="String", Overwrite=True)
    with pytest.raises(proc.StepError, match="is not in the us-west-2 ECR replica"):
        proc.Procedure(parse(world.manifest), world.c, poll_seconds=0).current_images(DR, "ai-platform-prod-dr",
                                                                                      SERVICES)


def test_use_current_images_records_the_image_in_each_release_parameter(world):
    """Day two (issue 24): the stack's DR task definitions take their image from the service's release parameter,
    which the stack never overwrites; the step records the image it moves each service onto, so a later `pulumi up`
    keeps it instead of rolling the service back to application.imageTag."""
    names = {svc: f"/ai-platform/prod/release/{svc}" for svc in SERVICES}
    p = proc.Procedure(parse({**world.manifest, "releaseParameters": names}), world.c, poll_seconds=0,
                       sleep=lambda _s: None)
    p.current_images(DR, "ai-platform-prod-dr", SERVICES)
    ssm = world.c("ssm", DR)
    recorded = {svc: ssm.get_parameter(Name=n)["Parameter"]["Value"] for svc, n in names.items()}
    assert recorded == {svc: dr_images(world)[svc][0]["app"] for svc in SERVICES}
    with pytest.raises(ManifestError, match="releaseParameters.nope"):
        parse({**world.manifest, "releaseParameters": {"nope": "/a/b"}})


def test_an_empty_ecr_replica_fails_the_step_and_resume_finishes_once_images_arrive(world):
    world.c("ecr", DR).batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": t} for t in ("1.0.0", "9c1e2f7",
                                                                                                    UNSCANNED)])
    r = execute(world)
    assert r.code == 1
    assert "use-current-images: FAILED" in r.out and "is not in the us-west-2 ECR replica ai-platform/prod/app" in r.out
    assert state(world)["operations"]["failover"]["steps"]["use-current-images"]["status"] == "failed"
    assert counts(world, DR, "ai-platform-prod-dr") == {"search": 0, "workflow": 0}   # not scaled onto a missing image
    world.images.update(push_images(world.c, ["1.0.0", "9c1e2f7"]))
    r = cli(world, "resume", "--target-region", DR, "--confirm")
    assert r.code == 0, r.out
    assert "[3/7] point-services: already done, skipped" in r.out
    assert_failed_over(world)
    logged = [line for line in r.logs if line.get("message") == "service image"]
    assert {line["service"] for line in logged} == set(SERVICES)
    first = next(line for line in logged if line["changes"])   # the second service reuses the revision (same family)
    assert first["changes"][0]["from"] == STALE_IMAGE and first["changes"][0]["tags"] == ["9c1e2f7"]


def test_the_base_is_the_familys_latest_revision_what_the_stack_last_registered(world):
    """The DR services are pipeline-owned (the stack does not move them onto its new revisions): the step starts
    from the family's latest revision, so a changed environment reaches the DR services at failover."""
    ecs = world.c("ecs", DR)
    ecs.register_task_definition(family="app", containerDefinitions=[
        {"name": "app", "image": STALE_IMAGE, "memory": 512, "environment": [{"name": "NEW_SETTING", "value": "1"}]}])
    p = proc.Procedure(parse(world.manifest), world.c, poll_seconds=0, sleep=lambda _s: None)
    assert p.current_images(DR, "ai-platform-prod-dr", SERVICES)["changed"] == SERVICES
    for name in SERVICES:
        arn = ecs.describe_services(cluster="ai-platform-prod-dr", services=[name])["services"][0]["taskDefinition"]
        [app] = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"]
        assert app["environment"] == [{"name": "NEW_SETTING", "value": "1"}]
        assert app["image"] == f"{REGISTRY}/{REPO}@{world.images['9c1e2f7']}"


def test_sync_images_follows_a_release_in_warm_standby_without_a_failover(world):
    assert cli(world, "sync-images", "--target-region", PRIMARY, "--confirm").code == 2
    r = cli(world, "sync-images", "--target-region", DR)
    assert r.code == 2 and "--confirm" in r.err
    assert dr_images(world)["search"][0]["app"] == STALE_IMAGE
    r = cli(world, "sync-images", "--target-region", DR, "--confirm")
    assert r.code == 0 and "2 DR services moved to the released image" in r.out, r.out + r.err
    assert dr_images(world)["search"][0]["app"] == f"{REGISTRY}/{REPO}@{world.images['9c1e2f7']}"
    assert not world.state.exists()   # not a failover: no state record, nothing to resume
    assert db(world, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")   # nothing else moved
    assert "0 DR services moved" in cli(world, "sync-images", "--target-region", DR, "--confirm").out


def test_only_the_dr_regions_ecr_images_are_resolved():
    assert proc._ecr_image(STALE_IMAGE, DR) == (REGISTRY, REPO)
    assert proc._ecr_image(f"{REGISTRY}/{REPO}@sha256:{'a' * 64}", DR) == (REGISTRY, REPO)
    assert proc._ecr_image(STALE_IMAGE.replace(DR, PRIMARY), DR) is None     # the primary's registry: not here
    assert proc._ecr_image("public.ecr.aws/nginx/nginx:1", DR) is None
    assert proc._ecr_image("app:1", DR) is None


# --- failback -------------------------------------------------------------------------------------------------------
def dbs(w, region) -> dict:
    """Every RDS instance of the region by identifier, in one DescribeDBInstances (what `db` reads one by one)."""
    return {d["DBInstanceIdentifier"]: d for d in w.c("rds", region).describe_db_instances()["DBInstances"]}


def assert_failed_back(w):
    primary_dbs, dr_dbs = dbs(w, PRIMARY), dbs(w, DR)
    new_primary, dr_replica = primary_dbs[DB], dr_dbs[REPLICA]
    assert new_primary["DBInstanceStatus"] == "available" and not new_primary.get("ReadReplicaSourceDBInstanceIdentifier")
    assert DB + "-pre-failback" in primary_dbs and REPLICA + "-pre-failback" in dr_dbs
    assert dr_replica["ReadReplicaSourceDBInstanceIdentifier"] == new_primary["DBInstanceArn"]
    assert w.c("ssm", PRIMARY).get_parameter(Name=PARAM)["Parameter"]["Value"] == new_primary["Endpoint"]["Address"]
    assert w.c("ssm", DR).get_parameter(Name=PARAM)["Parameter"]["Value"] == dr_replica["Endpoint"]["Address"]
    assert counts(w, PRIMARY, "ai-platform-prod") == {"search": 3, "workflow": 2}
    assert counts(w, DR, "ai-platform-prod-dr") == {"search": 0, "workflow": 0}
    assert inverted(w) is False
    # what a promoted replica does not carry, back on the new primary (and the DR replica's parameter group)
    assert new_primary["IAMDatabaseAuthenticationEnabled"] is True and new_primary["MultiAZ"] is True
    assert [g["DBParameterGroupName"] for g in new_primary["DBParameterGroups"]] == [PARAMS]
    assert [g["DBParameterGroupName"] for g in dr_replica["DBParameterGroups"]] == [PARAMS]
    # the same-region replica follows the new primary, not the renamed old one
    reader = primary_dbs[READER]
    assert reader["ReadReplicaSourceDBInstanceIdentifier"] in (DB, new_primary["DBInstanceArn"])
    assert reader["IAMDatabaseAuthenticationEnabled"] is True
    assert READER + "-pre-failback" in primary_dbs


def test_failback_recreates_replication_and_moves_back(failed_over, failback_run):
    """The recorded failback (a fresh `failback` from the completed failover): its output, and its end."""
    world = failed_over
    r = failback_run.result
    start_at(world, failback_run.end)
    assert r.code == 0, r.out + r.err
    assert_failed_back(world)
    doc = state(world)
    assert doc["operations"]["failback"]["status"] == "completed" and "failover" not in doc["operations"]
    assert [log["step"] for log in r.logs if log["message"] == "step done"] == FAILBACK
    # The platform is back where it started: the next failover is a new run, and it works.
    again = execute(world)
    assert again.code == 0 and "already" not in again.out
    assert_failed_over(world)


def test_failback_twice_changes_nothing_the_second_time(failed_over, failback_run):
    world = failed_over
    assert failback_run.result.code == 0
    start_at(world, failback_run.end)   # after the recorded failback
    with mock.patch.object(world.c("rds", PRIMARY), "create_db_instance_read_replica") as create:
        r = failback(world)
    assert r.code == 0 and "already completed" in r.out and not create.called
    assert_failed_back(world)


@pytest.mark.parametrize("failing", FAILBACK)
def test_resume_after_a_failure_at_each_failback_step(unrestored, after_failover, monkeypatch, failing,
                                                      failback_run):
    """As the failover's resume test: the failing run starts at step k's recorded start (`record`), the first
    step's case from the completed failover."""
    world, index = unrestored, FAILBACK.index(failing)
    if index:
        start_at(world, failback_run.steps[failing])
    else:   # the completed failover (`failed_over`)
        after_failover[0].restore()
        world.state.write_text(after_failover[1])
    calls = throttle_once(monkeypatch, "failback_steps", failing)
    first = failback(world)
    assert first.code == 1 and f"{failing}: FAILED" in first.out
    assert first.out.count("already done, skipped") == index
    # While a failback is unfinished, a failover is refused (one line), and resume knows what to finish.
    refused = execute(world)
    assert refused.code == 2 and "a failback is in progress" in refused.err
    second = cli(world, "resume", "--target-region", PRIMARY, "--confirm")
    assert second.code == 0, second.out + second.err
    assert calls == {name: 2 if name == failing else 1 for name in FAILBACK[index:]}
    assert second.out.count("already done, skipped") == index
    assert_failed_back(world)


def test_failback_waits_for_the_replica_to_catch_up(failed_over):
    """No ReplicaLag sample since the fence (the lag timeout reached before RDS's next heartbeat is replayed):
    not promoted, and the DR writers stay fenced."""
    world = failed_over
    r = cli(world, "--lag-timeout", "0", "failback", "--target-region", PRIMARY, "--confirm")
    assert r.code == 1 and "wait-replica-caught-up: FAILED" in r.out and "no commit after the fence" in r.out
    assert db(world, PRIMARY, DB).get("ReadReplicaSourceDBInstanceIdentifier")  # not promoted: no writes lost
    assert counts(world, DR, "ai-platform-prod-dr") == {"search": 0, "workflow": 0}  # fenced


def test_an_idle_source_passes_the_lag_gate_and_a_gate_at_zero_never_does(failed_over):
    """Issue 26: an idle PostgreSQL source reports up to ~5 min of lag (never 0): the gate passes once a commit
    made after the fence (RDS's heartbeat) is replayed, within 5 polls. Break test: the old `lag <= 0` gate
    (maxReplicaLagSeconds 0) fails the failback at wait-replica-caught-up, nothing promoted.

    The refused gate polls a minute apart, as the idle source's clock moves (`IdleSource.sleep`: a minute per
    poll), so 900 s are 15 polls, three heartbeats; at `cli`'s --poll-seconds 0 the procedure counted 901 polls
    (one a second) against that clock: 15 hours of samples, 31 s of moto for the same verdict."""
    world = failed_over
    world.path.write_text(json.dumps({**world.manifest, "maxReplicaLagSeconds": 0}))
    r = cli(world, "--lag-timeout", "900", "--poll-seconds", "60", "failback", "--target-region", PRIMARY,
            "--confirm")
    assert r.code == 1 and "wait-replica-caught-up: FAILED" in r.out and "after 900 s" in r.out, r.out
    assert IDLE is not None and IDLE.minute == 15  # 16 samples read, a minute apart
    assert db(world, PRIMARY, DB).get("ReadReplicaSourceDBInstanceIdentifier")
    world.path.write_text(json.dumps(world.manifest))
    r = cli(world, "resume", "--target-region", PRIMARY, "--confirm")
    assert r.code == 0, r.out + r.err
    [gate] = [log for log in r.logs if log.get("step") == "wait-replica-caught-up" and log["message"] == "step done"]
    assert 0 < gate["detail"]["replicaLagSeconds"] <= 360 and gate["detail"]["replayedCommitAt"] >= gate["detail"]["fence"]
    assert_failed_back(world)


def test_the_lag_gate_refuses_while_a_dr_writer_runs(failed_over):
    world = failed_over
    p = proc.Procedure(parse(world.manifest), world.c, poll_seconds=0, sleep=IDLE.sleep, lag_timeout_seconds=600)
    assert counts(world, DR, "ai-platform-prod-dr") == {"search": 3, "workflow": 2}
    with pytest.raises(proc.StepError, match="DR writer search still runs"):
        p.wait_caught_up()


# --- refusals and bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, expected", [
    (["execute", "--confirm"], "execute needs --target-region us-west-2"),
    (["execute", "--target-region", DR], "add --confirm"),
    (["execute", "--target-region", "us-east-1", "--confirm"], "moves traffic to us-west-2"),
    (["failback", "--target-region", PRIMARY, "--confirm"], "nothing to fail back"),
    (["resume", "--target-region", DR, "--confirm"], "nothing to resume"),
    (["rollback"], "invalid choice: 'rollback'"),
])
def test_refuses_without_target_and_confirmation(world, argv, expected):
    with mock.patch.object(world.c("rds", DR), "promote_read_replica") as promote:
        r = cli(world, *argv)
    assert r.code == 2 and expected in r.err and r.err.count("\n") == 1, r.err
    assert not promote.called and inverted(world) is False


@pytest.mark.parametrize("change, expected", [
    ({"drRegion": "us-east-1"}, "drRegion = 'us-east-1' must differ from primaryRegion"),
    ({"drRegion": "mars"}, "drRegion = 'mars' is not an AWS region code"),
    ({"dbReplicaId": None}, "dbReplicaId missing"),
    ({"desiredCounts": {"search": 3}}, "desiredCounts.workflow = None is not a task count"),
    ({"desiredCounts": {"search": 3, "workflow": 2, "billing": 1}}, "desiredCounts.billing is not one of services"),
    ({"mode": "hot"}, "mode = 'hot' is not one of pilot-light, warm-standby"),
    ({"records": [{"name": "api.example.com", "type": "MX"}]}, "records[0]"),
])
def test_bad_manifest_is_one_line_exit_2(world, change, expected):
    world.path.write_text(json.dumps({**world.manifest, **change}))
    r = execute(world)
    assert r.code == 2 and expected in r.err and r.err.count("\n") == 1 and r.out == ""
    world.path.write_text("{not json")
    r = cli(world, "plan")
    assert r.code == 2 and "not JSON" in r.err


def test_preflight_stops_before_anything_changes(world):
    world.path.write_text(json.dumps({**world.manifest, "services": ["search", "billing"],
                                      "desiredCounts": {"search": 1, "billing": 1},
                                      "standbyCounts": {"search": 0, "billing": 0}, "primaryServices": SERVICES,
                                      "releaseParameters": {"search": RELEASES["search"]}}))
    r = execute(world)
    assert r.code == 1 and "ECS service billing not found in cluster ai-platform-prod-dr (us-west-2)" in r.out
    assert db(world, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")  # still a replica


@pytest.mark.parametrize("pools, expected", [
    ({"primary": "us-east-1_000000001"}, "no DR user pool in the manifest"),
    ({"primary": "us-east-1_000000001", "dr": "us-west-2_000000099"},
     "DR user pool us-west-2_000000099 (us-west-2): ResourceNotFoundException: nobody could sign in"),
])
def test_failover_without_a_dr_user_pool_stops_at_preflight(world, pools, expected):
    """Break test (issue 26): a DR API whose authorizer has no standing DR pool behind it: nobody could sign in
    after the move, so the failover stops at its first step, before anything changes."""
    world.path.write_text(json.dumps({**world.manifest, "userPoolIds": pools}))
    r = execute(world)
    assert r.code == 1 and "preflight: FAILED" in r.out and expected in r.out, r.out
    assert db(world, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")  # still a replica


def test_manifest_from_stack_outputs_and_defaults(tmp_path):
    raw = {"stack": "prod", "primaryRegion": PRIMARY, "drRegion": DR, "dbPrimaryId": DB, "dbReplicaId": REPLICA,
               "dbEndpointParameter": PARAM, "clusterName": "c", "services": ["a"], "desiredCounts": {"a": 2},
               "healthCheckIds": ["h"], "primaryClusterName": "p", "primaryKmsKeyId": "k",
               "primaryDbSubnetGroup": "s", "primarySecurityGroupIds": ["sg"], "drKmsKeyId": "k2",
               "drDbSubnetGroup": "s2", "drSecurityGroupIds": ["sg2"]}
    outputs = tmp_path / "outputs.json"  # `pulumi stack output --json`: the manifest is its drManifest output
    outputs.write_text(json.dumps({"albDnsName": "x", "drManifest": raw}))
    m = load(str(outputs))
    assert m.mode == "pilot-light" and m.standby_counts == {"a": 0} and m.primary_desired_counts == {"a": 2}
    assert m.state_parameter == "/ai-platform/prod/dr-failover/state" and m.primary_db_endpoint_parameter == PARAM
    with pytest.raises(ManifestError, match="services is empty"):
        parse({**raw, "services": []})


def lag_alarm(w) -> dict:
    [alarm] = w.c("cloudwatch", DR).describe_alarms(AlarmNames=[LAG_ALARM])["MetricAlarms"]
    return alarm


def test_the_dr_replica_lag_alarm_can_return_to_ok_through_failover_and_failback(failed_over, failback_run):
    """Issue 26: a promoted replica reports no ReplicaLag, so the lag alarm (missing = breaching) would hold ALARM
    for the whole DR period: promote-replica sets it notBreaching (its definition otherwise unchanged), and
    replicate-to-dr restores the stack's breaching once the DR replica replicates again (plan/dr.py
    alarm_recovery models exactly this)."""
    w = failed_over
    alarm = lag_alarm(w)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["Threshold"] == 900 and alarm["EvaluationPeriods"] == 5 and alarm["AlarmActions"]
    assert alarm["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": REPLICA}]
    r = failback_run.result   # the recorded failback from this world
    start_at(w, failback_run.end)
    assert r.code == 0, r.out + r.err
    assert lag_alarm(w)["TreatMissingData"] == "breaching"
    # a manifest naming an alarm the region does not have stops the step by name
    with pytest.raises(proc.StepError, match="no-such-alarm"):
        proc.Procedure(parse(w.manifest), w.c).alarms_missing(DR, {"no-such-alarm": "notBreaching"})
