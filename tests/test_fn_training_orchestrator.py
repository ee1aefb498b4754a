"""functions/training_orchestrator against moto: one job per request, clear rejections that start nothing,
throttling and missing resources."""
from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from conftest import moto_session
from functions.training_orchestrator import handler as orch

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-role-abc1234"
KEY = "arn:aws:kms:us-east-1:123456789012:alias/ai-platform-dev-data"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ai-platform/dev/ocr-training:1.2.0"
DATA = "ai-platform-dev-data-lake-123456789012-us-east-1"
ARTIFACTS = "ai-platform-dev-ml-artifacts-123456789012-us-east-1"
REQUEST = {"image": IMAGE, "inputS3Uri": f"s3://{DATA}/datasets/ocr-set-7/"}


ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": REGION, "SAGEMAKER_ROLE_ARN": ROLE, "OUTPUT_KMS_KEY_ARN": KEY,
       "JOB_NAME_PREFIX": "ai-platform-dev-train", "DEFAULT_INSTANCE_TYPE": "ml.p3.2xlarge",
       "MAX_RUNTIME_SECONDS": "86400", "MAX_WAIT_SECONDS": "172800",
       "ALLOWED_IMAGE_REPOSITORIES": "ai-platform/dev/ocr-training,ai-platform/dev/ocr-inference",
       "ALLOWED_S3_PREFIXES": f"s3://{DATA}/datasets/,s3://{ARTIFACTS}/models/,s3://{ARTIFACTS}/checkpoints/",
       "DEFAULT_OUTPUT_S3_URI": f"s3://{ARTIFACTS}/models/",
       "DEFAULT_CHECKPOINT_S3_URI": f"s3://{ARTIFACTS}/checkpoints/",
       "SUBNET_IDS": "subnet-a,subnet-b", "SECURITY_GROUP_IDS": "sg-1", "STACK": "dev",
       "PLATFORM_TAGS": json.dumps({"Project": "ai-platform", "Environment": "dev"})}


@pytest.fixture(scope="module")
def moto_clients():
    with moto_session(ENV, REGION, "sagemaker", "s3", "cloudwatch") as session:
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


def test_request_starts_one_job_with_defaults_spot_checkpoints_kms_vpc_and_tags(c):
    out = orch.handler(dict(REQUEST), None, **c)
    assert out["status"] == "started" and out["jobName"].startswith("ai-platform-dev-train-")
    assert len(out["jobName"]) <= 63
    job = c["sagemaker"].describe_training_job(TrainingJobName=out["jobName"])
    assert job["HyperParameters"] == {"epochs": "100", "batch_size": "32", "learning_rate": "0.001"}
    assert job["ResourceConfig"]["InstanceType"] == "ml.p3.2xlarge" and job["ResourceConfig"]["InstanceCount"] == 1
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] >= job["StoppingCondition"]["MaxRuntimeInSeconds"]
    assert job["CheckpointConfig"]["S3Uri"] == f"s3://{ARTIFACTS}/checkpoints/{out['jobName']}/"
    assert job["OutputDataConfig"] == {"S3OutputPath": f"s3://{ARTIFACTS}/models/", "KmsKeyId": KEY}
    assert job["VpcConfig"] == {"Subnets": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}
    assert job["RoleArn"] == ROLE and job["EnableNetworkIsolation"] is True
    tags = {t["Key"]: t["Value"] for t in c["sagemaker"].list_tags(ResourceArn=out["jobArn"])["Tags"]}
    assert tags["Environment"] == "dev" and tags["TrainingRequest"] == out["jobName"]


def test_same_request_twice_starts_one_job_and_defaults_do_not_change_identity(c):
    first = orch.handler(dict(REQUEST), None, **c)
    again = orch.handler(dict(REQUEST), None, **c)
    explicit = orch.handler({**REQUEST, "instanceType": "ml.p3.2xlarge", "hyperparameters": {"epochs": 100}}, None, **c)
    assert first["status"] == "started" and again["status"] == explicit["status"] == "exists"
    assert first["jobName"] == again["jobName"] == explicit["jobName"]
    assert len(jobs(c["sagemaker"])) == 1
    other = orch.handler({**REQUEST, "runId": "2"}, None, **c)
    assert other["status"] == "started" and other["jobName"] != first["jobName"]
    assert len(jobs(c["sagemaker"])) == 2


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
    ({**REQUEST, "inputS3Uri": "s3://someone-elses-bucket/x/"}, "outside the locations"),
    ({**REQUEST, "instanceType": "p3.2xlarge"}, "instanceType must look like"),
    ({**REQUEST, "instanceCount": 0}, "instanceCount must be an integer from 1 to 20"),
    ({**REQUEST, "hyperparameters": {"epochs": -1}}, "hyperparameters.epochs must be a positive integer"),
    ({**REQUEST, "hyperparameters": {"learning_rate": 5}}, "learning_rate must be a number between 0 and 1"),
    ({**REQUEST, "hyperparameters": {f"h{i}": i for i in range(98)}}, "at most 100 entries"),
    ({**REQUEST, "hyperparameters": {"notes": "x" * 2501}}, "at most 2500 characters"),
    ({**REQUEST, "maxRuntimeSeconds": 7200, "maxWaitSeconds": 3600}, "must be >= maxRuntimeSeconds"),
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
