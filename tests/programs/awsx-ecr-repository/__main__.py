"""Image repositories the awsx way: awsx.ecr.Repository creates the repository and, unless skipped, a lifecycle
policy (awsx's default: expire untagged images beyond one)."""
import pulumi
import pulumi_awsx as awsx

api = awsx.ecr.Repository("Api-Images", force_delete=True)
worker = awsx.ecr.Repository(
    "worker-images", image_tag_mutability="IMMUTABLE",
    image_scanning_configuration={"scan_on_push": True},
    lifecycle_policy=awsx.ecr.LifecyclePolicyArgs(rules=[
        awsx.ecr.LifecyclePolicyRuleArgs(tag_status=awsx.ecr.LifecycleTagStatus.ANY, maximum_number_of_images=50),
        awsx.ecr.LifecyclePolicyRuleArgs(tag_status=awsx.ecr.LifecycleTagStatus.TAGGED, tag_prefix_list=["pr-"],
                                         maximum_age_limit=14, description="pull-request builds")]))

pulumi.export("apiUrl", api.url)
pulumi.export("workerRepository", worker.repository.name)
