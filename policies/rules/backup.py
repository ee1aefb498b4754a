"""AWS Backup: every stateful resource is selected by a backup plan."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._lib import depends_on, fsbp, get, items, plain, stack_policy
from ._shared import (
    DEFAULT_ENVIRONMENTS,
    ENV_SCHEMA,
    RDS_CLUSTER,
    RDS_INSTANCE,
    _in_scope,
)

BACKUP_SELECTION = "aws:backup/selection:Selection"

STATEFUL = (RDS_INSTANCE, RDS_CLUSTER, "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem",
            "aws:docdb/cluster:Cluster")


def _selection_covers(selection, resource) -> bool:
    if depends_on(selection, resource, "resources"):
        return True
    tags = plain(get(resource.props, "tags", {})) or {}
    for cond in items(get(selection.props, "selectionTags")):
        if get(cond, "type", "STRINGEQUALS") == "STRINGEQUALS" and tags.get(get(cond, "key")) == get(cond, "value"):
            return True
    resources = [str(x) for x in items(get(selection.props, "resources"))]
    equals = [c for cond in items(get(selection.props, "conditions"))
              for c in items(get(cond, "stringEquals"))]
    if "*" in resources and equals:
        return all(tags.get(str(get(c, "key", "")).removeprefix("aws:ResourceTag/")) == get(c, "value")
                   for c in equals)
    return False


def _backup_covers(resources, report, args):
    environments = list((args.get_config() or {}).get("environments", DEFAULT_ENVIRONMENTS))
    selections = [r for r in resources if r.resource_type == BACKUP_SELECTION]
    for res in resources:
        if res.resource_type not in STATEFUL or not _in_scope(res, environments):
            continue
        if res.resource_type == RDS_INSTANCE and get(res.props, "replicateSourceDb"):
            continue  # a read replica is restored from its source's backups
        if not any(_selection_covers(s, res) for s in selections):
            report(f"{res.resource_type.split(':')[-1]} {res.name} is not selected by any AWS Backup selection "
                   f"(by ARN in `resources` or by a tag it carries).", res.urn)


POLICIES = [
    stack_policy(
        "backup-plan-covers-stateful",
        "Every RDS instance/cluster, DynamoDB table, EFS file system and DocumentDB cluster must be selected by an "
        "AWS Backup selection.",
        _backup_covers, severity=Severity.HIGH, framework=fsbp("RDS.26"),
        remediation="Pass the resource's ARN to the DR tier (backup selection `resources`) or tag it Backup=true.",
        tags=["checkov:CKV2_AWS_8",
              "dr", "backup"],
        config_schema=PolicyConfigSchema(properties={"environments": ENV_SCHEMA}),
        types=('aws:backup/selection:Selection', 'aws:rds/instance:Instance', 'aws:rds/cluster:Cluster',
               'aws:dynamodb/table:Table', 'aws:efs/fileSystem:FileSystem', 'aws:docdb/cluster:Cluster')),
]
