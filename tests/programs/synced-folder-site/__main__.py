"""A static site: a bucket whose objects the synced-folder component keeps in step with ./site."""
import pulumi
import pulumi_aws as aws
import pulumi_synced_folder as synced_folder

bucket = aws.s3.Bucket("site")
aws.s3.BucketServerSideEncryptionConfiguration(
    "site", bucket=bucket.id,
    rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"))])
synced_folder.S3BucketFolder("site-files", path="./site", bucket_name=bucket.bucket, acl="private")

pulumi.export("bucket", bucket.bucket)
