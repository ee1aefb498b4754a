"""One recipe per building block: defaults plus a builder, used at every site that needs the block.

- buckets:    the private, versioned, encrypted, TLS-only S3 bucket
- log_groups: the KMS-encrypted CloudWatch log group with a retention
- keys:       the rotating KMS key, its key policy (one builder, grants by statement) and its alias
- roles:      the service role (trust scoped to the account) with its managed and inline policies
- alarms:     the CloudWatch metric alarm that notifies on ALARM and OK
"""
