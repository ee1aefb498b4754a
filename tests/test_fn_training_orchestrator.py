"""functions/training_orchestrator against moto: one job per request, clear rejections that start nothing,
throttling and missing resources; the bounds, the quota rejection and jobs that do not complete (issue 30); and
the path from the ml-submitter policy to a started job with the plan's own environment and IAM policies
evaluated on every call (the end of this file)."""
from __future__ import annotations

import functools
import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from conftest import moto_session
from functions.training_orchestrator import handler as orch

# the moto group (tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-role-abc1234"
KEY = "arn:aws:kms:us-east-1:123456789012:alias/ai-platform-dev-data"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ai-platform/dev/ocr-training:1.2.0"
DATA = "ai-platform-dev-data-lake-123456789012-us-east-1"
ARTIFACTS = "ai-platform-dev-ml-artifacts-123456789012-us-east-1"
REQUEST = {"image": IMAGE, "inputS3Uri": f"s3://{DATA}/datasets/ocr-set-7/"}


ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": REGION, "SAGEMAKER_ROLE_ARN": ROLE, "OUTPUT_KMS_KEY_ARN": KEY,
       "JOB_NAME_PREFIX": "ai-platform-dev-train", "DEFAULT_INSTANCE_TYPE": "ml.m5.xlarge",
       "ALLOWED_INSTANCE_TYPES": "ml.m5.xlarge,ml.m5.2xlarge,ml.g5.xlarge,ml.p3.2xlarge",
       "LOCAL_STORAGE_INSTANCE_TYPES": "ml.g5.xlarge", "MAX_INSTANCE_COUNT": "2", "DEFAULT_SPOT": "false",
       "MAX_RUNTIME_SECONDS": "86400", "MAX_WAIT_SECONDS": "172800",
       "MAX_RUNTIME_LIMIT_SECONDS": "86400", "MAX_WAIT_LIMIT_SECONDS": "172800",
       "ALLOWED_IMAGE_REPOSITORIES": "ai-platform/dev/ocr-training,ai-platform/dev/ocr-inference",
       "ALLOWED_INPUT_S3_PREFIXES": f"s3://{DATA}/datasets/,s3://{ARTIFACTS}/models/,s3://{ARTIFACTS}/checkpoints/",
       "ALLOWED_OUTPUT_S3_PREFIXES": f"s3://{ARTIFACTS}/models/,s3://{ARTIFACTS}/checkpoints/",
       "DEFAULT_OUTPUT_S3_URI": f"s3://{ARTIFACTS}/models/",
       "DEFAULT_CHECKPOINT_S3_URI": f"s3://{ARTIFACTS}/checkpoints/",
       "SUBNET_IDS": "subnet-a,subnet-b", "SECURITY_GROUP_IDS": "sg-1", "STACK": "dev",
       "PLATFORM_TAGS": json.dumps({"Project": "ai-platform", "Environment": "dev"})}


@pytest.fixture(scope="module")
def moto_clients():
    with moto_session(ENV, REGION, "sagemaker", "s3", "cloudwatch", "events") as session:
        yield session


@pytest.fixture
def c(moto_clients):
    m, clients = moto_clients
    m.reset()  # every test starts from an empty account
    return clients


def jobs(sm):
    return sm.list_training_jobs()["TrainingJobSummaries"]


def metric_sum(cw, name):
    data = cw.list_metrics(Namespace="AiPlatform/ML", MetricName=name)["Metrics"]
    return len(data)


def test_request_starts_one_job_with_defaults_kms_vpc_and_tags(c):
    out = orch.handler(dict(REQUEST), None, **c)
    assert out["status"] == "started" and out["jobName"].startswith("ai-platform-dev-train-")
    assert len(out["jobName"]) <= 63
    job = c["sagemaker"].describe_training_job(TrainingJobName=out["jobName"])
    assert job["HyperParameters"] == {"epochs": "100", "batch_size": "32", "learning_rate": "0.001"}
    # The default a new account can run: a general-purpose type, on demand (GPU and Spot quotas start at 0).
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge" and job["ResourceConfig"]["InstanceCount"] == 1
    assert job["EnableManagedSpotTraining"] is False
    # Output and training volume both under the data key (the role's kms:Encrypt and CreateGrant are for these).
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == KEY
    assert job["OutputDataConfig"] == {"S3OutputPath": f"s3://{ARTIFACTS}/models/", "KmsKeyId": KEY}
    assert job["VpcConfig"] == {"Subnets": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}
    assert job["RoleArn"] == ROLE and job["EnableNetworkIsolation"] is True
    tags = {t["Key"]: t["Value"] for t in c["sagemaker"].list_tags(ResourceArn=out["jobArn"])["Tags"]}
    assert tags["Environment"] == "dev" and tags["TrainingRequest"] == out["jobName"]


def test_same_request_twice_starts_one_job_and_defaults_do_not_change_identity(c):
    first = orch.handler(dict(REQUEST), None, **c)
    again = orch.handler(dict(REQUEST), None, **c)
    explicit = orch.handler({**REQUEST, "instanceType": "ml.m5.xlarge", "spot": False, "hyperparameters": {"epochs": 100}},
                            None, **c)
    assert first["status"] == "started" and again["status"] == explicit["status"] == "exists"
    assert first["jobName"] == again["jobName"] == explicit["jobName"]
    assert len(jobs(c["sagemaker"])) == 1
    other = orch.handler({**REQUEST, "runId": "2"}, None, **c)
    assert other["status"] == "started" and other["jobName"] != first["jobName"]
    assert len(jobs(c["sagemaker"])) == 2


def test_spot_request_gets_a_wait_time_and_a_checkpoint_location(c):
    out = orch.handler({**REQUEST, "spot": True}, None, **c)
    job = c["sagemaker"].describe_training_job(TrainingJobName=out["jobName"])
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] >= job["StoppingCondition"]["MaxRuntimeInSeconds"]
    assert job["CheckpointConfig"]["S3Uri"] == f"s3://{ARTIFACTS}/checkpoints/{out['jobName']}/"


def test_instance_storage_types_get_no_volume_key(c):
    """SageMaker refuses VolumeKmsKeyId for types with local NVMe storage (encrypted by the instance)."""
    out = orch.handler({**REQUEST, "instanceType": "ml.g5.xlarge"}, None, **c)
    job = c["sagemaker"].describe_training_job(TrainingJobName=out["jobName"])
    assert "VolumeKmsKeyId" not in job["ResourceConfig"]


def test_concurrent_creator_race_resource_in_use_counts_as_the_same_job(c):
    sm = c["sagemaker"]
    race = ClientError({"Error": {"Code": "ResourceInUse", "Message": "Training job name exists"}},
                       "CreateTrainingJob")
    with mock.patch.object(sm, "create_training_job", side_effect=race) as create:
        out = orch.handler(dict(REQUEST), None, **c)
    assert out["status"] == "exists" and create.call_count == 1


def test_s3_event_reads_the_request_object_and_is_idempotent(c):
    c["s3"].create_bucket(Bucket=DATA)
    c["s3"].put_object(Bucket=DATA, Key="training-requests/ocr 7.json", Body=json.dumps(REQUEST).encode())
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": DATA}, "object": {"key": "training-requests/ocr+7.json"}}}
    assert orch.handler(event, None, **c)["status"] == "started"
    assert orch.handler(event, None, **c)["status"] == "exists"
    assert len(jobs(c["sagemaker"])) == 1


def test_custom_eventbridge_request_event(c):
    out = orch.handler({"source": "ai-platform.ml", "detail-type": "Training Request", "detail": REQUEST}, None, **c)
    assert out["status"] == "started"


@pytest.mark.parametrize("request_, expected", [
    ({"inputS3Uri": REQUEST["inputS3Uri"]}, "image must be an ECR image URI"),
    ({**REQUEST, "image": "docker.io/library/python:3"}, "image must be an ECR image URI"),
    ({**REQUEST, "image": IMAGE.replace("ocr-training", "other")}, "is not one of the platform's ML repositories"),
    ({"image": IMAGE}, "inputS3Uri is required"),
    ({**REQUEST, "inputS3Uri": "s3://someone-elses-bucket/x/"}, "outside the locations the SageMaker role may read"),
    ({**REQUEST, "instanceType": "p3.2xlarge"}, "instanceType must look like"),
    ({**REQUEST, "instanceCount": 0}, "instanceCount must be an integer from 1 to 2"),
    # the bounds (issue 30): ml.p5.48xlarge x 20 for 28 days
    ({**REQUEST, "instanceType": "ml.p5.48xlarge"}, "is not one this platform allows"),
    ({**REQUEST, "instanceCount": 20}, "instanceCount must be an integer from 1 to 2"),
    ({**REQUEST, "maxRuntimeSeconds": 2419200}, "maxRuntimeSeconds must be an integer from 60 to 86400"),
    ({**REQUEST, "spot": True, "maxWaitSeconds": 2419200}, "maxWaitSeconds must be an integer from 60 to 172800"),
    # locations the SageMaker role cannot write fail here, not after the run
    ({**REQUEST, "outputS3Uri": f"s3://{DATA}/datasets/out/"}, "outside the locations the SageMaker role may write"),
    ({**REQUEST, "spot": True, "checkpointS3Uri": f"s3://{ARTIFACTS}/data-capture/x/"},
     "outside the locations the SageMaker role may write"),
    ({**REQUEST, "hyperparameters": {"epochs": -1}}, "hyperparameters.epochs must be a positive integer"),
    ({**REQUEST, "hyperparameters": {"learning_rate": 5}}, "learning_rate must be a number between 0 and 1"),
    ({**REQUEST, "hyperparameters": {f"h{i}": i for i in range(98)}}, "at most 100 entries"),
    ({**REQUEST, "hyperparameters": {"notes": "x" * 2501}}, "at most 2500 characters"),
    ({**REQUEST, "spot": True, "maxRuntimeSeconds": 7200, "maxWaitSeconds": 3600}, "must be >= maxRuntimeSeconds"),
    ({**REQUEST, "role": "arn:aws:iam::123456789012:role/admin"}, "role must be the platform's SageMaker role"),
    ({**REQUEST, "outputKmsKey": "arn:aws:kms:us-east-1:123456789012:key/other"}, "outputKmsKey must be"),
    ({**REQUEST, "tags": {"aws:x": "y"}}, "not starting with 'aws:'"),
    ({**REQUEST, "epochs": 3}, "unknown field 'epochs'"),
    (["not", "an", "object"], "the request must be a JSON object"),
])
def test_bad_requests_are_rejected_clearly_and_start_nothing(c, request_, expected):
    out = orch.handler(request_, None, **c) if isinstance(request_, dict) else orch.handler(
        {"source": "ai-platform.ml", "detail-type": "Training Request", "detail": request_}, None, **c)
    assert out["status"] == "rejected"
    assert any(expected in e for e in out["errors"]), out["errors"]
    assert jobs(c["sagemaker"]) == []
    assert metric_sum(c["cloudwatch"], "TrainingRequestsRejected") == 1


def test_rejection_lists_every_problem_at_once(c):
    out = orch.handler({"image": "x", "instanceCount": 99, "spot": "yes"}, None, **c)
    assert len(out["errors"]) >= 4


def test_missing_or_invalid_request_object_is_rejected_not_retried(c):
    c["s3"].create_bucket(Bucket=DATA)
    c["s3"].put_object(Bucket=DATA, Key="training-requests/bad.json", Body=b"{not json")
    for key, expected in (("training-requests/gone.json", "no longer exists"), ("training-requests/bad.json",
                                                                                 "is not valid JSON")):
        event = {"source": "aws.s3", "detail-type": "Object Created",
                 "detail": {"bucket": {"name": DATA}, "object": {"key": key}}}
        out = orch.handler(event, None, **c)
        assert out["status"] == "rejected" and expected in out["errors"][0]
    assert jobs(c["sagemaker"]) == []


def test_throttling_is_raised_for_lambda_to_retry_and_starts_nothing(c):
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                            "DescribeTrainingJob")
    with mock.patch.object(c["sagemaker"], "describe_training_job", side_effect=throttled), \
            mock.patch.object(c["sagemaker"], "create_training_job") as create:
        with pytest.raises(ClientError, match="ThrottlingException"):
            orch.handler(dict(REQUEST), None, **c)
    create.assert_not_called()
    # The retry (Lambda's next attempt) then starts exactly one job.
    assert orch.handler(dict(REQUEST), None, **c)["status"] == "started"
    assert len(jobs(c["sagemaker"])) == 1


def test_a_quota_that_blocks_a_job_is_a_clear_rejection_naming_it_not_a_retry(c):
    """A new account's GPU/Spot quota is 0: CreateTrainingJob answers ResourceLimitExceeded. Not retried (the DLQ
    would be the only one to hear): rejected, counted, announced as an event naming the quota."""
    limit = ClientError({"Error": {"Code": "ResourceLimitExceeded", "Message": (
        "The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 Instances, with current "
        "utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request "
        "an increase for this quota.")}}, "CreateTrainingJob")
    sent = []
    with mock.patch.object(c["sagemaker"], "create_training_job", side_effect=limit), \
            mock.patch.object(c["events"], "put_events", side_effect=lambda **kw: sent.append(kw) or
                              {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}):
        out = orch.handler({**REQUEST, "instanceType": "ml.p3.2xlarge"}, None, **c)
    assert out["status"] == "rejected" and out["quota"] == "ml.p3.2xlarge for training job usage"
    assert "Service Quotas" in out["errors"][0]
    assert metric_sum(c["cloudwatch"], "TrainingRequestsRejected") == 1
    [entry] = sent[0]["Entries"]
    assert (entry["Source"], entry["DetailType"]) == ("ai-platform.ml", "Training Request Rejected")
    assert json.loads(entry["Detail"])["quota"] == "ml.p3.2xlarge for training job usage"


def test_a_rejection_is_announced_on_the_default_bus(c):
    """Every refused request is an event the ML tier's rule sends to the warnings topic (moto's bus accepts it)."""
    with mock.patch.object(c["events"], "put_events", wraps=c["events"].put_events) as put:
        out = orch.handler({**REQUEST, "instanceType": "ml.p5.48xlarge", "instanceCount": 20}, None, **c)
    assert out["status"] == "rejected" and len(out["errors"]) == 2
    detail = json.loads(put.call_args.kwargs["Entries"][0]["Detail"])
    assert detail["errors"] == out["errors"] and detail["stack"] == "dev"


@pytest.mark.parametrize("status, secondary", [("Failed", "Failed"), ("Stopped", "MaxRuntimeExceeded"),
                                               ("Stopped", "MaxWaitTimeExceeded")])
def test_every_job_that_does_not_complete_is_counted_for_the_alarm(c, status, secondary):
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change",
             "detail": {"TrainingJobName": "ai-platform-dev-train-abc", "TrainingJobStatus": status,
                        "SecondaryStatus": secondary}}
    out = orch.handler(event, None, **c)
    assert (out["status"], out["jobStatus"], out["secondaryStatus"]) == ("recorded-failure", status, secondary)
    assert metric_sum(c["cloudwatch"], "TrainingJobsFailed") == 1


def test_failed_training_job_event_emits_the_alarm_metric_and_starts_nothing(c):
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change",
             "detail": {"TrainingJobName": "ai-platform-dev-train-abc", "TrainingJobStatus": "Failed",
                        "FailureReason": "AlgorithmError"}}
    assert orch.handler(event, None, **c)["status"] == "recorded-failure"
    assert metric_sum(c["cloudwatch"], "TrainingJobsFailed") == 1
    completed = {**event, "detail": {**event["detail"], "TrainingJobStatus": "Completed"}}
    assert orch.handler(completed, None, **c)["status"] == "ignored"
    assert jobs(c["sagemaker"]) == []


def test_on_demand_request_sends_no_spot_wait_time(c):
    # MaxWaitTimeInSeconds is only valid with managed Spot; CreateTrainingJob rejects it otherwise.
    with mock.patch.object(c["sagemaker"], "create_training_job",
                           return_value={"TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/x"}) as create:
        assert orch.handler({**REQUEST, "spot": False}, None, **c)["status"] == "started"
    args = create.call_args.kwargs
    assert args["EnableManagedSpotTraining"] is False and "MaxWaitTimeInSeconds" not in args["StoppingCondition"]
    assert all(isinstance(v, str) for v in args["HyperParameters"].values())


# --- the ml-submitter path: the plan's environment, every call evaluated against the plan's policies -------------
@functools.cache
def planned():
    """The dev stack's orchestrator environment and the IAM the plan builds: the orchestrator's role, the SageMaker
    role, and a principal holding only the ml-submitter policy."""
    from conftest import primary_plan
    from plan.flows import iam
    from plan.flows.model import Checker, Model, Role
    plan = primary_plan("dev", False)
    m = Model(plan)
    [fn] = [r for r in plan.of_type("aws:lambda/function:Function")
            if "SAGEMAKER_ROLE_ARN" in ((r.props.get("environment") or {}).get("variables") or {})]
    env = dict(fn.props["environment"]["variables"])
    [policy] = [r for r in plan.of_type("aws:iam/policy:Policy") if r.props["name"].endswith("-ml-submitter")]
    holder = Role(urn="", name="ml-submitter", arn=f"arn:aws:iam::{m.account}:role/ml-submitter-holder", tags={},
                  trust=None, identity=[("ml-submitter", iam.parse_document(policy.props["policy"]))], unmodelled=[])
    return m, Checker(m), env, m.role_by_arn(fn.props["role"]), m.role_by_arn(env["SAGEMAKER_ROLE_ARN"]), holder


def iam_checked(sm_client):
    """create_training_job as AWS would decide it: the orchestrator's identity policy on the request's condition
    keys, then what the SageMaker role must be able to do for the job (read the input, write the output, encrypt)."""
    m, ck, env, orch_role, sm_role, _ = planned()
    real = sm_client.create_training_job

    def create(**args):
        arn = f"arn:aws:sagemaker:{REGION}:{m.account}:training-job/{args['TrainingJobName'].lower()}"
        rc, out = args["ResourceConfig"], args["OutputDataConfig"]
        ctx = {"sagemaker:InstanceTypes": [rc["InstanceType"]],
               "sagemaker:MaxRuntimeInSeconds": args["StoppingCondition"]["MaxRuntimeInSeconds"],
               "sagemaker:OutputKmsKey": out["KmsKeyId"]}
        if "VolumeKmsKeyId" in rc:
            ctx["sagemaker:VolumeKmsKey"] = rc["VolumeKmsKeyId"]
        input_uri = args["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        checks = {
            "orchestrator sagemaker:CreateTrainingJob": ck.role_can(orch_role, "sagemaker:CreateTrainingJob", arn, ctx),
            "SageMaker role reads the input": ck.role_can(sm_role, "s3:GetObject",
                                                          "arn:aws:s3:::" + input_uri[5:] + "part-0"),
            "SageMaker role writes the output": ck.role_can(sm_role, "s3:PutObject", "arn:aws:s3:::" + out[
                "S3OutputPath"][5:] + args["TrainingJobName"] + "/output/model.tar.gz"),
            "SageMaker role encrypts with the output key": ck.kms_use(
                sm_role.principal(), out["KmsKeyId"], ["kms:Encrypt", "kms:GenerateDataKey"],
                {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}, role=sm_role),
        }
        denied = {k: v.reason for k, v in checks.items() if v.allowed is not True}
        if denied:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": json.dumps(denied)}},
                              "CreateTrainingJob")
        return real(**args)
    return create


def test_a_request_from_the_ml_submitter_path_starts_a_job_with_the_plans_grants(c, monkeypatch):
    m, ck, env, orch_role, _, holder = planned()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    data_bucket = env["ALLOWED_INPUT_S3_PREFIXES"].split(",")[0][5:].split("/")[0]
    request_key = "training-requests/ocr-7.json"
    image = f"{m.account}.dkr.ecr.{REGION}.amazonaws.com/{env['ALLOWED_IMAGE_REPOSITORIES'].split(',')[0]}:1.0.0"
    request = {"image": image, "inputS3Uri": f"s3://{data_bucket}/datasets/ocr-set-7/"}
    # the submitter may put the request (and encrypt it with the bucket's key through S3), and nothing else there
    assert ck.role_can(holder, "s3:PutObject", f"arn:aws:s3:::{data_bucket}/{request_key}").allowed is True
    assert ck.role_can(holder, "s3:PutObject", f"arn:aws:s3:::{data_bucket}/datasets/x").allowed is False
    assert ck.role_can(holder, "sagemaker:CreateTrainingJob", "*").allowed is False
    c["s3"].create_bucket(Bucket=data_bucket)
    c["s3"].put_object(Bucket=data_bucket, Key=request_key, Body=json.dumps(request).encode())
    # the orchestrator may read it
    assert ck.role_can(orch_role, "s3:GetObject", f"arn:aws:s3:::{data_bucket}/{request_key}").allowed is True
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": data_bucket}, "object": {"key": request_key}}}
    with mock.patch.object(c["sagemaker"], "create_training_job", side_effect=iam_checked(c["sagemaker"])):
        out = orch.handler(event, None, **c)
    assert out["status"] == "started", out
    job = c["sagemaker"].describe_training_job(TrainingJobName=out["jobName"])
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == env["OUTPUT_KMS_KEY_ARN"]


def test_iam_refuses_an_unbounded_job_even_past_the_handler(c, monkeypatch):
    """The second line of the bounds: a job the handler would refuse is refused by the orchestrator's policy too."""
    _, _, env, _, _, _ = planned()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    data_bucket = env["ALLOWED_INPUT_S3_PREFIXES"].split(",")[0][5:].split("/")[0]
    image = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{env['ALLOWED_IMAGE_REPOSITORIES'].split(',')[0]}:1.0.0"
    request = orch.normalise({"image": image, "inputS3Uri": f"s3://{data_bucket}/datasets/x/"})
    create = iam_checked(c["sagemaker"])
    for change in ({"instanceType": "ml.p5.48xlarge"}, {"maxRuntimeSeconds": 2419200}):
        with mock.patch.object(c["sagemaker"], "create_training_job", side_effect=create):
            with pytest.raises(ClientError, match="orchestrator sagemaker:CreateTrainingJob"):
                orch.start({**request, **change}, c["sagemaker"])
    assert jobs(c["sagemaker"]) == []
