"""Day two (issue 24): what the stack says reaches what runs, and a `pulumi up` never rolls a release back.

For every ECS service of the plan, two intended flows:

- `stack settings -> running tasks of S` [pulumi up]: the service's `taskDefinition` is the stack's task
  definition and is not in `ignoreChanges` (else an environment variable, secret, role, cpu/memory or log
  setting changed in the stack is registered as a revision nothing runs: the ECS standard deploy action builds
  each release from the service's running revision, CodePipeline User Guide, "Amazon Elastic Container Service
  deploy action reference").
- for a service a pipeline deploys: `pulumi up -> release of S` [keeps the released image]: the task
  definition's image is wired from a parameter the stack does not overwrite (`ignoreChanges` on its value) and
  that a pipeline action running after the ECS deploy action may write (its project's role: `ssm:PutParameter`).
  Otherwise every `up` would roll the service back to the image the stack names.
"""
from __future__ import annotations

from .iam import Unknown, Verdict

PARAMETER = "aws:ssm/parameter:Parameter"
SERVICE = "aws:ecs/service:Service"


def _ignored(r) -> list:
    return list((r.options or {}).get("ignoreChanges") or [])


def _deploys(c):
    """service urn -> [(pipeline, stage index, run order of the deploy action)] for ECS deploy actions."""
    m = c.m
    out: dict = {}
    for pl in m.of_type("aws:codepipeline/pipeline:Pipeline"):
        for si, stage in enumerate(m.get(pl, "stages") or []):
            for act in stage.get("actions") or []:
                cfg = act.get("configuration") or {}
                if act.get("provider") not in ("ECS", "CodeDeployToECS") or not cfg.get("ServiceName"):
                    continue
                named = [s for s in m.of_type(SERVICE) if m.get(s, "name") == cfg.get("ServiceName")]
                svc = next((s for s in named if m.region_of(s) == m.region_of(pl)), next(iter(named), None))
                if svc is not None:
                    out.setdefault(svc.urn, []).append((pl, si, int(act.get("runOrder") or 1)))
    return out


def _writers_after(c, pl, stage_index, run_order, parameter) -> list:
    """Labels of the pipeline's CodeBuild actions after the deploy whose project role may write `parameter`."""
    m = c.m
    parn = m.arn(parameter)
    found = []
    for si, stage in enumerate(m.get(pl, "stages") or []):
        for act in stage.get("actions") or []:
            order = int(act.get("runOrder") or 1)
            later = si > stage_index or (si == stage_index and order > run_order)
            cfg = act.get("configuration") or {}
            if not later or act.get("provider") != "CodeBuild" or not cfg.get("ProjectName"):
                continue
            proj = next((p for p in m.of_type("aws:codebuild/project:Project")
                         if m.get(p, "name") == cfg["ProjectName"]), None)
            if proj is None:
                continue
            role = m.role_by_arn(m.get(proj, "serviceRole"))
            if c.ck.role_can(role, "ssm:PutParameter", parn).allowed is True:
                found.append(f"{stage.get('name')}/{act.get('name')}")
    return found


def day_two(c):
    m = c.m
    deploys = _deploys(c)
    for rec in getattr(c, "_records", []):
        svc, td = rec["service"], rec["td"]
        who = rec["name"] if rec["region"] == c.primary else f"{rec['name']} (DR {rec['region']})"
        ignored = _ignored(svc)
        checks = [("taskDefinition", Verdict(
            "taskDefinition" not in ignored,
            "the service follows the stack's task definition" if "taskDefinition" not in ignored else
            "the service ignores changes to taskDefinition: a setting changed in the stack is registered as a "
            "revision the service never runs (and a pipeline's ECS deploy action builds from the running one)"))]
        checks.append(("stack's revision", Verdict(True, f"task definition {td.name}") if td not in (None, Unknown)
                       else Verdict(None if td is Unknown else False, "the service's task definition is not the "
                                    "stack's")))
        c.add("stack settings", f"running tasks of {who}", "pulumi up", "allow", checks, "delivery")

        pipelines = deploys.get(svc.urn)
        if not pipelines or td in (None, Unknown):
            continue
        if "taskDefinition" in ignored:
            continue   # nothing the stack says reaches the service: the flow above is red already
        params = [m.by_urn[u] for u in td.propertyDependencies.get("containerDefinitions", [])
                  if u in m.by_urn and m.by_urn[u].type == PARAMETER]
        if not params:
            v = Verdict(False, "the task definition's image is the stack's own: every `pulumi up` rolls the service "
                               "back to it, undoing the pipeline's last release")
            c.add("pulumi up", f"release of {who}", "keeps the released image", "allow", [("image", v)], "delivery")
            continue
        param = params[0]
        held = [k for k in _ignored(param) if k in ("value", "insecureValue")]
        checks = [("image source", Verdict(True, f"the image is read from parameter {m.get(param, 'name')}")),
                  ("stack leaves it", Verdict(bool(held), "ignoreChanges on its value" if held else
                                              "the stack overwrites the parameter on every `up`"))]
        writers = [w for pl, si, order in pipelines for w in _writers_after(c, pl, si, order, param)]
        checks.append(("pipeline records the release", Verdict(
            bool(writers), ("after the deploy: " + ", ".join(writers)) if writers else
            "no pipeline action after the ECS deploy may write the parameter")))
        c.add("pulumi up", f"release of {who}", "keeps the released image", "allow", checks, "delivery")
