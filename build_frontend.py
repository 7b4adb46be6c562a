"""Build the front end (js/ -> src/llmwidgets/static/) when a wheel or sdist is built.

hatch-jupyter-builder calls `build` (pyproject.toml: [tool.hatch.build.hooks.jupyter-builder]);
it then checks that the bundle files exist (`ensured-targets`), so no wheel ships without them.

- The bundle is fresh (no file under js/src, js/build.mjs or js/package-lock.json is newer than
  it): nothing runs. That is the case in an sdist, which carries the built bundle, so a wheel
  built from an sdist needs no Node.
- Otherwise `npm ci` (when js/node_modules is missing or older than the lock file) and
  `npm run build`.
- No npm on PATH and no bundle: the build fails, saying what to do. No npm but a bundle that
  looks older than its sources: the bundle is used as it is, with a warning.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
JS = ROOT / "js"
STATIC = ROOT / "src" / "llmwidgets" / "static"
BUNDLE = ["stream.js", "stream.css", "loader.js"]
SOURCES = [JS / "src", JS / "build.mjs", JS / "package.json", JS / "package-lock.json"]

NO_NODE = """
llmwidgets: cannot build the front end: npm (Node.js >= 20) is not on PATH, and there is no
built bundle in src/llmwidgets/static/ (missing: {missing}).

Building llmwidgets from a source checkout (pip install ., pip install git+..., pip wheel .)
runs `npm ci && npm run build` in js/. Either
  - install Node.js >= 20 (with npm) and run the same command again, or
  - install a built release instead, which needs no Node: pip install llmwidgets
    (or build from an sdist: it carries the bundle), or
  - build the bundle elsewhere and copy it into src/llmwidgets/static/.
"""


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    times = [p.stat().st_mtime for p in path.rglob("*") if p.is_file()]
    return max(times, default=0.0)


def missing_files() -> list[str]:
    """Bundle files not in src/llmwidgets/static/."""
    return [name for name in BUNDLE if not (STATIC / name).is_file()]


def is_fresh() -> bool:
    """Every bundle file exists and none is older than any front-end source."""
    if missing_files():
        return False
    oldest_output = min((STATIC / name).stat().st_mtime for name in BUNDLE)
    newest_source = max((_newest_mtime(p) for p in SOURCES if p.exists()), default=0.0)
    return newest_source <= oldest_output


def _run(npm: str, *args: str) -> None:
    print(f"llmwidgets: npm {' '.join(args)} (in js/)", file=sys.stderr, flush=True)
    subprocess.run([npm, *args], cwd=JS, check=True)


def build(target_name: str, version: str, **_: object) -> None:
    """The hatch-jupyter-builder build function (target "wheel" or "sdist")."""
    if is_fresh():
        print("llmwidgets: front-end bundle is up to date", file=sys.stderr, flush=True)
        return
    npm = shutil.which("npm")
    if npm is None:
        missing = missing_files()
        if missing:
            raise RuntimeError(NO_NODE.format(missing=", ".join(missing)))
        print(
            "llmwidgets: WARNING: js/ sources are newer than src/llmwidgets/static/ but npm is"
            " not on PATH: packaging the existing bundle as it is",
            file=sys.stderr,
            flush=True,
        )
        return
    installed = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
    _run(npm, "run", "build", "--silent")
    missing = missing_files()
    if missing:
        raise RuntimeError(f"llmwidgets: npm run build did not write {', '.join(missing)}")
