"""ECR repositories' shared settings: the lifecycle policy of the ML tier's repositories and of the DR region's
replication targets (components/dr_region.py `DrImages`)."""
from __future__ import annotations

import json


def lifecycle_policy(keep_tagged: int, untagged_days: int) -> str:
    """Expire untagged images after N days first, then keep only the newest N tagged images."""
    return json.dumps({"rules": [
        {"rulePriority": 1, "description": f"expire untagged images after {untagged_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"keep the last {keep_tagged} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": keep_tagged},
         "action": {"type": "expire"}},
    ]})
