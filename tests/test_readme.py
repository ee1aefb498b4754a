"""The README is short and every offline command in it runs as written.

Commands a newcomer can run without AWS or the Pulumi CLI sit in code blocks marked `<!-- offline -->`; this test
extracts each line of those blocks and runs it from the repository root with bash, as a reader would paste it.
The setup and test commands (`<!-- command:setup -->`, `<!-- command:test -->`) are run by .ci/run itself.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT, cli

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


# The process boundary (bash, the venv's interpreter, `-m plan`, exit status) is exercised by one command run
# exactly as pasted; the others run the same argv through the CLI's main() in this process (conftest.cli: same
# exit code, stdout and stderr; the stacks' own plans come from the session's cache instead of 7 more whole
# programs in fresh interpreters).
AS_PASTED = "venv/bin/python -m plan --help"
PREFIX = ["venv/bin/python", "-m", "plan"]


def run_as_written(command: str) -> subprocess.CompletedProcess:
    """As pasted, but with the interpreter running the tests: a reader's virtualenv is `venv` (the README's
    spelling, checked above), a test run's may be any other (`.venv`, tox, a CI's own)."""
    argv = shlex.split(command)
    if command == AS_PASTED or argv[:3] != PREFIX or any(c in command for c in "|;&><$`"):
        here = command.replace("venv/bin/python", shlex.quote(sys.executable)) if command.startswith(PREFIX[0]) \
            else command
        return subprocess.run(["bash", "-c", here], cwd=ROOT, capture_output=True, text=True, timeout=600)
    cwd = os.getcwd()
    os.chdir(ROOT)   # the README's commands run from the repository root (relative paths)
    try:
        return cli(*argv[3:])
    finally:
        os.chdir(cwd)


def test_the_pasted_command_is_one_of_the_readmes():
    assert AS_PASTED in offline_commands()


@pytest.mark.parametrize("command", offline_commands())
def test_offline_command_runs_as_written(command):
    result = run_as_written(command)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert result.stdout.strip() or "--diagram" in command
    if "--help" not in command:
        assert max((len(x) for x in result.stdout.splitlines()), default=0) <= 120, "text output fits 120 columns"
