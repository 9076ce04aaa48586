#!/usr/bin/env bash
# Install al_widget with JupyterLab into .venv and open the quick-start notebook: label digits with the panel.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[demo]"
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-root)
exec .venv/bin/jupyter lab "${root[@]}" notebooks/quickstart.ipynb "$@"
