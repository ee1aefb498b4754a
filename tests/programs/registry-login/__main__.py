"""A build box and its registry: the AMI looked up with string booleans (as config hands them over), the ECR
login decoded the way docker does (base64 of `user:password`), the repository's credentials passed on."""
import base64

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
latest = config.get("latest") or "true"          # a string, as config values are

ami = aws.ec2.get_ami(most_recent=latest, owners=["amazon"],
                      filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-x86_64"])])
default_vpc = aws.ec2.get_vpc(default="true")
assert ami.most_recent is True and default_vpc.default is True

repo = aws.ecr.Repository("builds", image_tag_mutability="IMMUTABLE", force_delete=False,
                          image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                              scan_on_push=True),
                          encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                              encryption_type="KMS")])

token = aws.ecr.get_authorization_token()
user, password = base64.b64decode(token.authorization_token).decode().split(":", 1)
assert user == token.user_name and password == token.password

creds = aws.ecr.get_credentials(registry_id=aws.get_caller_identity().account_id)
registry_user, _ = base64.b64decode(creds.authorization_token).decode().split(":", 1)

secret = aws.secretsmanager.Secret("registry-login", description="docker login for the build box")
aws.secretsmanager.SecretVersion("registry-login", secret_id=secret.id,
                                 secret_string=pulumi.Output.secret(f"{registry_user}:{password}"))

pulumi.export("registry", creds.proxy_endpoint)
pulumi.export("loginUser", user)
pulumi.export("ami", ami.id)
pulumi.export("repositoryUrl", repo.repository_url)
