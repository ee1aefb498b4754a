"""A notes service: an HTTP API in front of a function, a GraphQL API, a small server. Every value exported or
passed on is computed by AWS after create: the API's execution ARN and endpoint, AppSync's URIs, the server's
public IP and DNS name."""
import json

import pulumi
import pulumi_aws as aws

role = aws.iam.Role("notes", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}))
fn = aws.lambda_.Function(
    "notes", role=role.arn, runtime="python3.12", handler="index.handler",
    code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c):\n    return {'statusCode': 200}\n")}),
    tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"))

http = aws.apigatewayv2.Api("notes", protocol_type="HTTP")
integration = aws.apigatewayv2.Integration("notes", api_id=http.id, integration_type="AWS_PROXY",
                                           integration_uri=fn.invoke_arn, payload_format_version="2.0")
aws.apigatewayv2.Route("notes", api_id=http.id, route_key="GET /notes",
                       target=integration.id.apply(lambda i: f"integrations/{i}"))
aws.apigatewayv2.Stage("notes", api_id=http.id, name="$default", auto_deploy=True)
aws.lambda_.Permission("notes-http", function=fn.name, action="lambda:InvokeFunction",
                       principal="apigateway.amazonaws.com", source_arn=http.execution_arn.apply(lambda arn: arn + "/*/*"))

graph = aws.appsync.GraphQLApi("notes", authentication_type="AWS_IAM", name="notes",
                               schema="type Query { notes: [String] }")

ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                      filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-arm64"])])
server = aws.ec2.Instance("notes", ami=ami.id, instance_type="t4g.nano",
                          metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
                          root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True),
                          monitoring=True)

pulumi.export("httpUrl", pulumi.Output.concat(http.api_endpoint, "/notes"))
pulumi.export("graphqlUrl", graph.uris["GRAPHQL"])
pulumi.export("serverUrl", server.public_ip.apply(lambda ip: f"http://{ip}"))
pulumi.export("serverHost", server.public_dns)
pulumi.export("serverZone", server.availability_zone.apply(lambda z: z[:-1]))
