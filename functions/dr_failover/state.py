"""Where the procedure records its progress, so a rerun skips completed steps (resume).

Default: an SSM parameter in the DR region (`stateParameter` of the manifest). Why there: the DR region is the one
region that is up in both directions (failover from a lost primary, failback to a recovered one); the record is
shared by every operator and runner (a second person can resume what the first started, from another machine); it
is IAM-controlled and its history (GetParameterHistory) is an audit trail of the run. A standard parameter holds
4 KB; the record stays well below (step names, statuses, durations, a few identifiers).
`--state-file PATH`: a local JSON file instead, for rehearsals in a sandbox and for tests.
"""
from __future__ import annotations

import json
from pathlib import Path


class StateError(RuntimeError):
    pass


class SsmState:
    def __init__(self, ssm, name: str):
        self.ssm, self.name = ssm, name

    def where(self) -> str:
        return f"ssm:{self.name}"

    def load(self) -> dict:
        try:
            return json.loads(self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"])
        except self.ssm.exceptions.ParameterNotFound:
            return {}

    def save(self, record: dict) -> None:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        if len(text) > 4096:
            raise StateError(f"state record for {self.name} exceeds 4 KB ({len(text)} bytes)")
        self.ssm.put_parameter(Name=self.name, Value=text, Type="String", Overwrite=True,
                               Description="ai-platform DR failover progress (functions/dr_failover)")


class FileState:
    def __init__(self, path: str):
        self.path = Path(path)

    def where(self) -> str:
        return str(self.path)

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            raise StateError(f"--state-file {self.path}: not JSON (delete it to start over)") from None

    def save(self, record: dict) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
        tmp.replace(self.path)  # atomic: an interrupted write never leaves half a record


def store(ssm, name: str, state_file: str | None):
    return FileState(state_file) if state_file else SsmState(ssm, name)
