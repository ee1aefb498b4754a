"""A service the way teams write one without a platform: container definitions through json.dumps with the
port straight from config (a number), its own repository (and a lookup of it, answerable: the program creates
it first), and a lookup of the shared base image another team's stack pushes (absent from an empty account).

What a first `pulumi up` of this program fails on, and `python -m plan --program` reports as deploy errors:
- `PORT` reaches the container definition as the number 8080 (ECS's KeyValuePair.value is a string);
- `aws.ecr.get_image` of `shared/base:stable`: neither this program nor the account creates that repository.
"""
import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
port = config.get_int("port") or 8080

repo = aws.ecr.Repository("app", name="team-a/app", image_scanning_configuration={"scan_on_push": True})
# Answerable in an empty account: the repository exists by the time the lookup runs (its name is an output).
images = aws.ecr.get_images_output(repository_name=repo.name)

# Not answerable: another team's repository, created by nothing this program or the account holds.
base = aws.ecr.get_image_output(repository_name="shared/base", image_tag="stable")

cluster = aws.ecs.Cluster("app")
role = aws.iam.Role("task-exec", assume_role_policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}))
task = aws.ecs.TaskDefinition(
    "app", family="team-a-app", cpu="256", memory="512", network_mode="awsvpc",
    requires_compatibilities=["FARGATE"], execution_role_arn=role.arn,
    container_definitions=json.dumps([{
        "name": "app", "image": "public.ecr.aws/nginx/nginx:1.27", "essential": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp"}],
        "environment": [{"name": "PORT", "value": port}, {"name": "MODE", "value": "web"}],
    }]))

pulumi.export("baseImageDigest", base.image_digest)
pulumi.export("imageCount", images.image_ids.apply(len))
