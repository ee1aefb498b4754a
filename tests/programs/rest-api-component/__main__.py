"""The aws-apigateway component's RestAPI: it builds the REST API from routes (an OpenAPI body), a deployment,
a stage and the Lambda permissions; static routes get a bucket, objects and a role that reads it."""
import json

import pulumi
import pulumi_aws as aws
import pulumi_aws_apigateway as apigateway

role = aws.iam.Role("status", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}))
status = aws.lambda_.Function(
    "status", role=role.arn, runtime="python3.12", handler="index.handler",
    code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c):\n    return {'statusCode': 200}\n")}),
    tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"))

api = apigateway.RestAPI(
    "status-api",
    routes=[apigateway.RouteArgs(path="/status", method=apigateway.Method.GET, event_handler=status),
            apigateway.RouteArgs(path="admin", method=apigateway.Method.POST, event_handler=status,
                                 iam_auth_enabled=True),
            apigateway.RouteArgs(path="/", local_path="www")])

pulumi.export("url", api.url)
pulumi.export("apiId", api.api.id)
