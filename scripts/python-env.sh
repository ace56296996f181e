#!/usr/bin/env bash
# Creates the project-local Python environment that holds the pinned `temporal` CLI and
# MLflow server. Safe to run again: it only installs when the pins changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/scripts/python-requirements.txt"
stamp="$venv/.perennial-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
echo "perennial: creating Python environment in .venv (mlflow, temporal CLI; first run takes a few minutes)" >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q --upgrade pip >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$req" >&2
cp "$req" "$stamp"
echo "perennial: Python environment ready" >&2
