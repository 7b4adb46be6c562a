#!/usr/bin/env bash
# Set up (scripts/setup.sh --demo: no Chromium, no test tools) and open the offline quickstart
# in JupyterLab: no API key needed, the zero-config `chatbot` uses the embedded model. Extra
# arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --demo
args=(--ip=127.0.0.1)
[ "$(id -u)" = 0 ] && args+=(--allow-root)   # containers often run as root
exec .venv/bin/jupyter lab notebooks/quickstart.ipynb "${args[@]}" "$@"
