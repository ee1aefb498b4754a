"""The shape of the public `aws-py-apigateway-openapi` examples: the whole API is an OpenAPI `body`,
no `endpointConfiguration` (EDGE, the default) and no authorizer anywhere in the document."""
import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
stage_name = config.get("stageName") or "dev"
region = aws.get_region()
me = aws.get_caller_identity()

assume = aws.iam.get_policy_document(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    actions=["sts:AssumeRole"],
    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="Service", identifiers=["lambda.amazonaws.com"])],
)])
role = aws.iam.Role("handler-role", assume_role_policy=assume.json)
aws.iam.RolePolicyAttachment("handler-logs", role=role.name,
                             policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
handler = aws.lambda_.Function(
    "handler", runtime="python3.12", handler="index.handler", role=role.arn,
    code=pulumi.AssetArchive({"index.py": pulumi.StringAsset(
        "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello'}\n")}))


def openapi(invoke_arn: str) -> str:
    return json.dumps({
        "openapi": "3.0.1",
        "info": {"title": "hello", "version": "1.0"},
        "paths": {"/hello": {"get": {"x-amazon-apigateway-integration": {
            "httpMethod": "POST", "type": "aws_proxy", "uri": invoke_arn}}}},
    })


api = aws.apigateway.RestApi("api", body=handler.invoke_arn.apply(openapi))
deployment = aws.apigateway.Deployment("api", rest_api=api.id,
                                       triggers={"body": api.body.apply(lambda b: str(hash(b)))})
stage = aws.apigateway.Stage("api", rest_api=api.id, deployment=deployment.id, stage_name=stage_name)
aws.lambda_.Permission("api-invoke", action="lambda:InvokeFunction", function=handler.name,
                       principal="apigateway.amazonaws.com",
                       source_arn=pulumi.Output.concat("arn:aws:execute-api:", region.name, ":", me.account_id, ":",
                                                       api.id, "/*/*"))
pulumi.export("url", stage.invoke_url.apply(lambda u: f"{u}/hello"))
