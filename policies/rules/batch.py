"""AWS Batch job definitions: no privileged containers, in every shape a job definition takes (the
`containerProperties`, `ecsProperties` and `nodeProperties` JSON strings of pulumi-aws 7, and the
`eksProperties` object)."""
from __future__ import annotations

import json

from pulumi_policy import Severity

from ._lib import as_bool, get, items, plain, rule

JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"


def _json(value):
    """A JSON-string property as plain data (None when absent or not JSON); an object as plain data."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return plain(value)


def _ecs_containers(ecs) -> list[tuple[str, dict]]:
    out = []
    for t, task in enumerate(items((ecs or {}).get("taskProperties")) if isinstance(ecs, dict) else []):
        for c, container in enumerate(items(task.get("containers")) if isinstance(task, dict) else []):
            if isinstance(container, dict):
                out.append((f"ecsProperties.taskProperties[{t}].containers[{container.get('name') or c}]", container))
    return out


def batch_containers(props) -> list[tuple[str, dict]]:
    """(where, container) for every container a job definition runs (reading the JSON: unknowns raise)."""
    found = []
    container = _json(get(props, "containerProperties"))
    if isinstance(container, dict):
        found.append(("containerProperties", container))
    found += _ecs_containers(_json(get(props, "ecsProperties")))
    nodes = _json(get(props, "nodeProperties"))
    for i, node in enumerate(items(nodes.get("nodeRangeProperties")) if isinstance(nodes, dict) else []):
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("container"), dict):
            found.append((f"nodeProperties.nodeRangeProperties[{i}].container", node["container"]))
        found += [(f"nodeProperties.nodeRangeProperties[{i}].{w}", c) for w, c in _ecs_containers(node.get("ecsProperties"))]
    return found


def _privileged(props, report, args):
    for where, container in batch_containers(props):
        if as_bool(container.get("privileged")) is True:
            report(f"{where}: privileged is true (the container is root on the host and sees its devices).")
    eks = get(props, "eksProperties.podProperties")
    if eks is not None:
        if as_bool(get(eks, "hostNetwork")) is True:
            report("eksProperties.podProperties.hostNetwork is true (the pod shares the node's network namespace).")
        for i, c in enumerate(items(get(eks, "containers")) + items(get(eks, "initContainers"))):
            if as_bool(get(c, "securityContext.privileged")) is True:
                report(f"eksProperties container {get(c, 'name') or i}: securityContext.privileged is true.")


rule("batch-job-no-privileged-containers", "AWS Batch job definitions must not run privileged containers (nor EKS "
     "pods on the host network).", types=(JOB_DEFINITION,), severity=Severity.HIGH,
     refs={"checkov": "CKV_AWS_210"},
     steps="Remove privileged: true from the container properties; grant the single Linux capability the job needs "
           "(linuxParameters.capabilities) if any.",
     tags=["batch", "isolation", "least-privilege"])(_privileged)
