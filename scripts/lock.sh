#!/usr/bin/env bash
# Regenerate the hashed lock files from requirements.in (deploy) and requirements-dev.in (development/test).
# Run after changing a pin in an .in file: `bash scripts/lock.sh`, then commit the .in and .txt files together.
# Needs pip-tools (in requirements-dev.txt) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-venv/bin/python}
compile() {
  "$PY" -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
    --resolver=backtracking --output-file "$2" "$1"
}
# The deploy lock first: the dev lock is constrained to its versions (-c requirements.txt).
compile requirements.in requirements.txt
compile requirements-dev.in requirements-dev.txt
echo "locked: requirements.txt ($(grep -c '==' requirements.txt) packages), requirements-dev.txt ($(grep -c '==' requirements-dev.txt) packages)"
