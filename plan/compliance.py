"""`python -m plan --stack NAME --compliance [--json]`: the compliance table generated from the plan and the pack's
verdicts on it (issue 32).

Controls: every recommendation of the CIS AWS Foundations Benchmark v3.0.0 (numbering and titles as the benchmark
and AWS Security Hub's CIS v3.0.0 standard give them; titles shortened), and every AWS Foundational Security Best
Practices (FSBP) control the pack cites (a rule's framework reference or its `fsbp`/`cis` refs). For each control:
the rules that check it, the resources that satisfy it, and its status:

- **met**: a rule checks it, the plan has resources it judges, and none of them is reported;
- **not met**: a rule reports a resource (an explanation, when the stack accepts it, says why: EXPLAINED);
- **not applicable**: the rules that check it judge no resource this stack builds (no Redshift, no OpenSearch ...);
- **needs the account**: nothing a stack builds can satisfy it (root user, contacts, IAM users, account-wide
  services) or another stack of the account owns it (`observability.accountBaseline`); checked in the account
  (Security Hub's CIS v3.0.0 standard);
- **undecided (preview)**: a rule could not run because a value is unknown until `pulumi up` (use --mode update).

A control the pack claims (a rule cites it) that the stack does not meet and that no explanation covers is what
tests/test_compliance.py refuses.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

MET, NOT_MET, NA, ACCOUNT, UNDECIDED = "met", "not met", "not applicable", "needs the account", "undecided (preview)"
STATUSES = (MET, NOT_MET, NA, ACCOUNT, UNDECIDED)
CIS = "CIS AWS Foundations Benchmark"
FSBP = "AWS Foundational Security Best Practices"

# CIS AWS Foundations Benchmark v3.0.0: every recommendation (titles shortened).
CIS_V3: dict[str, str] = {
    "1.1": "Maintain current contact details", "1.2": "Security contact information is registered",
    "1.3": "Security questions are registered", "1.4": "No root user access key exists",
    "1.5": "MFA is enabled for the root user", "1.6": "Hardware MFA is enabled for the root user",
    "1.7": "Eliminate use of the root user for daily tasks", "1.8": "Password policy: minimum length 14 or greater",
    "1.9": "Password policy prevents password reuse", "1.10": "MFA for every IAM user with a console password",
    "1.11": "No access keys at initial setup of console users", "1.12": "Credentials unused for 45 days are disabled",
    "1.13": "Only one active access key per IAM user", "1.14": "Access keys are rotated every 90 days or less",
    "1.15": "IAM users receive permissions only through groups", "1.16": "No policy allows full '*:*' administration",
    "1.17": "A support role manages incidents with AWS Support", "1.18": "IAM instance roles for access from instances",
    "1.19": "Expired SSL/TLS certificates in IAM are removed", "1.20": "IAM Access Analyzer is enabled in all regions",
    "1.21": "IAM users are managed centrally (federation / Organizations)",
    "1.22": "Access to AWSCloudShellFullAccess is restricted",
    "2.1.1": "S3 bucket policies deny HTTP requests", "2.1.2": "S3 MFA Delete is enabled",
    "2.1.3": "S3 data is discovered, classified and secured (Macie)", "2.1.4": "S3 Block Public Access is enabled",
    "2.2.1": "EBS volume encryption is enabled in all regions", "2.3.1": "RDS storage is encrypted",
    "2.3.2": "RDS auto minor version upgrade is enabled", "2.3.3": "RDS instances are not publicly accessible",
    "2.4.1": "EFS is encrypted",
    "3.1": "CloudTrail is enabled in all regions", "3.2": "CloudTrail log file validation is enabled",
    "3.3": "AWS Config is enabled in all regions", "3.4": "Access logging on the CloudTrail S3 bucket",
    "3.5": "CloudTrail logs are encrypted with KMS CMKs", "3.6": "Rotation of customer-created symmetric CMKs",
    "3.7": "VPC flow logging is enabled in all VPCs", "3.8": "Object-level logging of S3 write events",
    "3.9": "Object-level logging of S3 read events",
    "4.1": "Alarm: unauthorized API calls", "4.2": "Alarm: console sign-in without MFA",
    "4.3": "Alarm: root user usage", "4.4": "Alarm: IAM policy changes", "4.5": "Alarm: CloudTrail configuration changes",
    "4.6": "Alarm: console authentication failures", "4.7": "Alarm: disabling or scheduled deletion of CMKs",
    "4.8": "Alarm: S3 bucket policy changes", "4.9": "Alarm: AWS Config configuration changes",
    "4.10": "Alarm: security group changes", "4.11": "Alarm: NACL changes", "4.12": "Alarm: network gateway changes",
    "4.13": "Alarm: route table changes", "4.14": "Alarm: VPC changes", "4.15": "Alarm: AWS Organizations changes",
    "4.16": "AWS Security Hub is enabled",
    "5.1": "No NACL allows ingress from 0.0.0.0/0 to admin ports", "5.2": "No SG allows 0.0.0.0/0 to admin ports",
    "5.3": "No SG allows ::/0 to admin ports", "5.4": "The default security group restricts all traffic",
    "5.5": "Routing tables for VPC peering are least access", "5.6": "EC2 metadata service requires IMDSv2",
}

# Recommendations about the account itself (root user, contacts, IAM users, account-wide services): no stack
# resource satisfies them; the account's own checks (Security Hub's CIS v3.0.0 standard) decide.
ACCOUNT_ONLY = {"1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.9", "1.11", "1.12", "1.13", "1.17", "1.19",
                "1.20", "1.21", "1.22", "2.1.2", "2.1.3", "4.16"}
ACCOUNT_NOTES = {
    "1.9": "the password policy the baseline stack sets (passwordReusePrevention 24) is checked with 1.8's rule",
    "2.1.2": "MFA Delete can only be enabled by the root user with its MFA device (not through the API a stack uses)",
    "4.16": "Security Hub (and its CIS v3.0.0 standard) is enabled for the organisation or account, not per stack",
}
# What the stack owning `observability.accountBaseline` builds; another stack of the account relies on it.
BASELINE_CONTROLS = {"1.8", "3.1", "3.2", "3.3", "3.4", "3.5", "3.8", "3.9", *(f"4.{i}" for i in range(1, 16)),
                     "2.2.1", "Config.1", "GuardDuty.1", "CloudTrail.1", "CloudTrail.2", "CloudTrail.4",
                     "CloudTrail.5", "IAM.7"}
# CIS recommendations the pack checks through a rule citing the equivalent FSBP control (Security Hub maps them).
CIS_VIA = {"2.3.1": "RDS.3", "2.3.3": "RDS.2", "3.2": "CloudTrail.4", "3.4": "S3.9", "3.5": "CloudTrail.2",
           "5.2": "EC2.18", "5.3": "EC2.18", "5.6": "EC2.8"}
# Recommendations no rule checks because the stacks build nothing they concern (-> not applicable), with why.
NOT_BUILT = {"5.5": "the stacks build no VPC peering connection",
             "1.18": "no rule: the only instances (Batch's) run with an instance profile (components/batch.py)"}

# Controls a stack does not meet on purpose: (stack or "*", control) -> why. The closing docs carry them.
EXPLAINED: dict[tuple[str, str], str] = {
    ("*", "SecretsManager.1"): "no rotation schedule yet (advisory): rotating the database master and the Redis AUTH "
                               "token needs a rotation function that also updates their consumers, the application "
                               "keys are set out of band by their owners; open work, docs/compliance.md",
    ("*", "3.8"): "S3 object-level (data) events are billed per event; observability.trailDataEvents turns them on",
    ("*", "3.9"): "S3 object-level (data) events are billed per event; observability.trailDataEvents turns them on",
    ("dev", "*"): "dev trades availability, retention and certificates for cost by configuration (single-AZ database "
                  "and cache, no deletion protection, short backups, mutable tags, no certificate on the internal "
                  "load balancer or the *.cloudfront.net site); the same code builds prod, where it is met",
}


# Recommendations no rule checks that the stack leaves unmet by choice (EXPLAINED says why).
EXPLAINED_UNCHECKED = {"3.8", "3.9"}


@dataclasses.dataclass
class Control:
    framework: str
    id: str
    title: str
    status: str
    rules: list[str]
    resources: list[str]
    note: str = ""

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def claims(specs: Iterable) -> dict[tuple[str, str], list[str]]:
    """(framework, control id) -> the rules that cite it (framework reference, or `cis`/`fsbp` refs)."""
    out: dict[tuple[str, str], list[str]] = {}
    for s in specs:
        f = s.framework
        if f is not None and getattr(f, "reference", None) and f.name in (CIS, FSBP):
            out.setdefault((f.name, f.reference), []).append(s.id)
        for kind, name in (("cis", CIS), ("fsbp", FSBP)):
            for ref in s.refs.get(kind, ()):
                out.setdefault((name, ref), []).append(s.id)
    return {k: sorted(set(v)) for k, v in out.items()}


def _applies(spec, resource) -> bool:
    if spec.types == ("aws:*",):
        return resource.type.startswith("aws:")
    return resource.type in spec.types


def _short(urn: str, names: dict) -> str:
    return names.get(urn, urn.split("::")[-1])


def _explanation(stack: str, control: str) -> str:
    return EXPLAINED.get((stack, control)) or EXPLAINED.get(("*", control)) or EXPLAINED.get((stack, "*"), "")


def table(plan, analysis, specs: list | None = None) -> list[Control]:
    """Every CIS v3.0.0 recommendation and every FSBP control the pack cites, decided on `plan` with `analysis`."""
    if specs is None:
        from policies.rules import load
        specs = load()
    by_id = {s.id: s for s in specs}
    claimed = claims(specs)
    names = {r.urn: r.name for r in plan.resources}
    custom = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:")]
    baseline = any(r.type == "aws:cloudtrail/trail:Trail" for r in plan.resources)
    reported: dict[str, set] = {}
    undecided: set = set()
    for v in analysis.violations:
        if v in analysis.skipped:
            undecided.add(v.policy)
        else:
            reported.setdefault(v.policy, set()).add(v.urn)

    def decide(framework: str, cid: str, title: str) -> Control:
        rules = list(claimed.get((framework, cid), []))
        if framework == CIS and cid in CIS_VIA:
            rules += [r for r in claimed.get((FSBP, CIS_VIA[cid]), []) if r not in rules]
        if not rules:
            if cid in EXPLAINED_UNCHECKED and baseline:
                return Control(framework, cid, title, NOT_MET, [], [], _explanation(plan.stack, cid))
            if cid in NOT_BUILT:
                return Control(framework, cid, title, NA, [], [], NOT_BUILT[cid])
            if framework == CIS and cid in ACCOUNT_ONLY:
                return Control(framework, cid, title, ACCOUNT, [], [], ACCOUNT_NOTES.get(cid, "an account setting: "
                               "no stack resource satisfies it"))
            return Control(framework, cid, title, ACCOUNT, [], [], "no rule of the pack checks it: the account's "
                           "own checks (Security Hub) decide")
        judged = [r for r in custom if any(_applies(by_id[x], r) for x in rules if x in by_id)]
        bad = sorted({u for x in rules for u in reported.get(x, ())})
        if bad:
            return Control(framework, cid, title, NOT_MET, rules, [_short(u, names) for u in bad],
                           _explanation(plan.stack, cid))
        if any(x in undecided for x in rules):
            return Control(framework, cid, title, UNDECIDED, rules, [], "a value is unknown until `pulumi up`")
        if cid in BASELINE_CONTROLS and not baseline:
            return Control(framework, cid, title, ACCOUNT, rules, [],
                           "built by the stack that owns the account baseline (observability.accountBaseline)")
        if not judged:
            if framework == CIS and cid in ACCOUNT_ONLY:
                return Control(framework, cid, title, ACCOUNT, rules, [], ACCOUNT_NOTES.get(cid, ""))
            return Control(framework, cid, title, NA, rules, [], "the stack builds nothing these rules judge")
        wanted = {t for x in rules if x in by_id for t in by_id[x].types}
        shown = [r for r in judged if "aws:*" not in wanted or r.type in _EVIDENCE]
        return Control(framework, cid, title, MET, rules, sorted({r.name for r in shown})[:12] or ["(the whole stack)"])

    out = [decide(CIS, cid, title) for cid, title in CIS_V3.items()]
    fsbp = sorted({cid for (fw, cid) in claimed if fw == FSBP}, key=_order)
    out += [decide(FSBP, cid, "") for cid in fsbp]
    return out


# For rules reading every type (account baseline in every region): the resources that are the evidence.
_EVIDENCE = {"aws:cfg/recorder:Recorder", "aws:guardduty/detector:Detector",
             "aws:ebs/encryptionByDefault:EncryptionByDefault"}


def _order(cid: str) -> tuple:
    svc, _, num = cid.partition(".")
    return (svc, int(num) if num.isdigit() else 0)


def counts(controls: list[Control]) -> dict[str, int]:
    return {s: sum(1 for c in controls if c.status == s) for s in STATUSES}


def unexplained(controls: list[Control]) -> list[Control]:
    """Claimed controls (a rule cites them) the stack does not meet, with no explanation: what a test refuses."""
    return [c for c in controls if c.status == NOT_MET and c.rules and not c.note]


def text(stack: str, mode: str, controls: list[Control]) -> str:
    c = counts(controls)
    lines = [f"compliance of stack {stack} ({mode} mode): CIS AWS Foundations Benchmark v3.0.0 and the FSBP controls "
             "the pack cites",
             "  " + ", ".join(f"{n} {s}" for s, n in c.items()), ""]
    for fw, label in ((CIS, "CIS v3.0.0"), (FSBP, "FSBP")):
        lines.append(label)
        for ctl in (x for x in controls if x.framework == fw):
            head = f"  {ctl.id:<18} {ctl.status:<20} {ctl.title}"
            lines.append(head.rstrip())
            if ctl.rules:
                lines.append(f"  {'':<18} rules: {', '.join(ctl.rules)}")
            if ctl.resources:
                lines.append(f"  {'':<18} resources: {', '.join(ctl.resources)}")
            if ctl.note:
                lines.append(f"  {'':<18} note: {ctl.note}")
    return "\n".join(lines)


def markdown(stack: str, mode: str, controls: list[Control]) -> str:
    """The table docs/compliance.md carries (prod's, generated). The resources each control is satisfied by (or
    that a rule reports) are the CLI's (`--compliance`): here only what changes with a decision, not with every
    resource a tier adds."""
    c = counts(controls)
    out = [f"Stack `{stack}`, {mode} mode: " + ", ".join(f"**{n}** {s}" for s, n in c.items()) + ".", "",
           "| framework | control | status | checked by | note |", "|---|---|---|---|---|"]
    for ctl in controls:
        fw = "CIS v3.0.0" if ctl.framework == CIS else "FSBP"
        title = f"{ctl.id} {ctl.title}".strip()
        note = ctl.note or (f"reported: {', '.join(ctl.resources)}" if ctl.status == NOT_MET else "")
        out.append(f"| {fw} | {title} | {ctl.status} | {', '.join(ctl.rules)} | {note} |")
    return "\n".join(out)


def to_json(stack: str, mode: str, controls: list[Control]) -> dict:
    return {"stack": stack, "mode": mode, "counts": counts(controls), "controls": [c.to_json() for c in controls]}


def dumps(stack: str, mode: str, controls: list[Control]) -> str:
    return json.dumps(to_json(stack, mode, controls), indent=1)


DOC = "docs/compliance.md"
BEGIN = "<!-- compliance-table:begin (generated by `python -m plan.compliance --write-docs`) -->"
END = "<!-- compliance-table:end -->"


def prod_markdown() -> str:
    """prod's table in update mode (as after `pulumi up`), with prod's policy config."""
    from .analyze import analyze, default_policy_config, load_policy_config
    from .engine import main_program, run_program
    from .stackfile import load_stack_config, stack_file_path
    stack, path = stack_file_path("prod", None)
    config, secrets = load_stack_config(stack, path)
    plan = run_program(main_program(), config=config, stack=stack, preview=False, secret_keys=secrets)
    analysis = analyze(plan, policy_config=load_policy_config(default_policy_config(stack)))
    return markdown(stack, "update", table(plan, analysis))


def block(text_: str) -> str | None:
    if BEGIN not in text_ or END not in text_:
        return None
    return text_.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main(argv=None) -> int:
    import sys
    from pathlib import Path
    args = list(sys.argv[1:] if argv is None else argv)
    md = prod_markdown()
    if "--write-docs" not in args:
        print(md)
        return 0
    path = Path(__file__).resolve().parents[1] / DOC
    old = path.read_text()
    new = old.split(BEGIN, 1)[0] + BEGIN + "\n" + md + "\n" + END + old.split(END, 1)[1]
    path.write_text(new)
    print(f"{DOC} " + ("updated" if new != old else "already up to date"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
