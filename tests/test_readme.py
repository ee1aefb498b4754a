"""The README is short and every offline command in it runs as written.

Commands a newcomer can run without AWS or the Pulumi CLI sit in code blocks marked `<!-- offline -->`; this test
extracts each line of those blocks and runs it from the repository root with bash, as a reader would paste it.
The setup and test commands (`<!-- command:setup -->`, `<!-- command:test -->`) are run by .ci/run itself.
"""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT

README = ROOT / "README.md"


def offline_commands() -> list[str]:
    text = README.read_text()
    blocks = re.findall(r"<!-- offline -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()   # a trailing `# comment` is for the reader
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_readme_is_short_and_marks_its_offline_commands():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200
    assert len(offline_commands()) >= 5
    assert all(c.startswith("venv/bin/python -m ") for c in offline_commands())


def test_readme_keeps_the_markers_ci_relies_on():
    text = README.read_text()
    assert "<!-- command:setup -->" in text and "<!-- command:test -->" in text


@pytest.mark.parametrize("command", offline_commands())
def test_offline_command_runs_as_written(command):
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert result.stdout.strip() or "--diagram" in command
    if "--help" not in command:
        assert max((len(x) for x in result.stdout.splitlines()), default=0) <= 120, "text output fits 120 columns"
