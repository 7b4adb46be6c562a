"""Aliases: short names such as `chatbot` bound to `provider:model` in a small TOML lockfile.

Why a lockfile: notebooks name a role ("chatbot", "fast", "judge"), the file names the model, so
swapping models never means editing cells. Discovery order, first hit wins:

1. an explicit path (`config=` argument),
2. `$LLMWIDGETS_CONFIG`,
3. `llmwidgets.toml` in the current folder or a parent (a `pyproject.toml` with a
   `[tool.llmwidgets]` table counts too, checked after `llmwidgets.toml` in the same folder),
4. `llmwidgets.toml` in the user config folder.

```toml
[aliases]
chatbot = "anthropic:claude-haiku-4-5"
fast = { model = "openai:gpt-4o-mini", temperature = 0.2 }

[aliases.local]
model = "openai:qwen2.5"
base_url = "http://127.0.0.1:8080/v1"
api_key_env = "LLAMA_API_KEY"
max_tokens = 512
system = "Answer briefly."
fallbacks = ["ollama:llama3.2", "local:smollm2"]

[profiles.dev.aliases]          # `profile="dev"`, `%%llm --profile dev` or LLMWIDGETS_PROFILE=dev
chatbot = "ollama:llama3.2"     # overrides [aliases]; aliases it leaves out come from [aliases]
```

Why profiles: the same notebook runs against a cheap or local model while it is written and the
real one in production, switched from outside the cells (llmring's lockfile has them too; its
`[[profiles.NAME.bindings]]` entries, `alias` and `models` = [model, *fallbacks], are read as well).

This module finds and reads the file and its profiles; `_aliases.py` turns a name into the models
to try. With no file at all, `chatbot` still works: `llmwidgets._providers.discovery` picks one.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmwidgets._errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILENAME = "llmwidgets.toml"
CONFIG_ENV = "LLMWIDGETS_CONFIG"
PROFILE_ENV = "LLMWIDGETS_PROFILE"
DEFAULT_ALIAS = "chatbot"


@dataclass(frozen=True)
class Config:
    aliases: Mapping[str, Any]
    source: Path | None = None
    timeout: float | None = None
    #: Each profile's aliases, which override `aliases` while that profile is chosen.
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def alias_names(self) -> frozenset[str]:
        """Every alias the file defines, in any profile: the line magic's model words."""
        return frozenset(self.aliases).union(*(p.keys() for p in self.profiles.values()))

    def for_profile(self, profile: str | None, *, origin: str = "") -> Config:
        """This config with `profile`'s aliases laid over the base ones (itself for None).

        Merged rather than looked up one by one, so a fallback naming another alias also gets
        the profile's version of it. `origin` says where the name came from, for the error.
        """
        if profile is None:
            return self
        if profile not in self.profiles:
            raise ConfigurationError(_unknown_profile(profile, self, origin))
        return replace(self, aliases={**self.aliases, **self.profiles[profile]}, profiles={})


def find_config_file(
    explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None
) -> Path | None:
    """Return the config file that applies here, following the documented discovery order."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"Config file {path} does not exist.")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigurationError(
                f"${CONFIG_ENV} points to {path}, which does not exist. "
                f"Fix the path or unset {CONFIG_ENV}."
            )
        return path
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    user = _user_config_dir() / CONFIG_FILENAME
    return user if user.is_file() else None


def _user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("llmwidgets"))


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("tool"), dict) and "llmwidgets" in data["tool"]


def load_config(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Config:
    path = find_config_file(explicit, cwd)
    if path is None:
        return Config(aliases={})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}. Fix the file.") from None
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc.strerror}.") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("llmwidgets", {})
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict):
        raise ConfigurationError(
            f'{path}: [aliases] must be a table of name = "provider:model" entries.'
        )
    timeout = data.get("timeout")
    return Config(
        aliases=aliases,
        source=path,
        timeout=float(timeout) if timeout else None,
        profiles=_read_profiles(data.get("profiles", {}), path),
    )


#: What a profile table may hold: our `aliases`, or llmring's `bindings` list.
_PROFILE_KEYS = {"aliases", "bindings"}
_BINDING_KEYS = {"alias", "models"}


def _read_profiles(profiles: Any, path: Path) -> dict[str, dict[str, Any]]:
    """`[profiles.NAME.aliases]` tables (and llmring's `[[profiles.NAME.bindings]]`) as one
    alias table per profile; checked at load so a typo fails with the file named."""
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigurationError(
            f"{path}: [profiles] must hold one table per profile, e.g. [profiles.dev.aliases]."
        )
    out: dict[str, dict[str, Any]] = {}
    for name, table in profiles.items():
        unknown = set(table) - _PROFILE_KEYS
        if unknown:
            raise ConfigurationError(
                f"{path}: [profiles.{name}] has unknown key(s) {', '.join(sorted(unknown))}; "
                f"a profile holds [profiles.{name}.aliases] (or llmring's bindings)."
            )
        aliases = table.get("aliases", {})
        if not isinstance(aliases, dict):
            raise ConfigurationError(
                f'{path}: [profiles.{name}.aliases] must be a table of name = "provider:model" '
                "entries."
            )
        out[name] = {**aliases}
        for binding in _bindings(table.get("bindings", []), name, path):
            alias, (model, *fallbacks) = binding["alias"], binding["models"]
            if alias in out[name]:
                raise ConfigurationError(
                    f"{path}: alias {alias!r} is defined twice in profile {name!r} "
                    "(in its aliases and its bindings)."
                )
            out[name][alias] = {"model": model, "fallbacks": fallbacks}
    return out


def _bindings(bindings: Any, profile: str, path: Path) -> list[dict[str, Any]]:
    """llmring's bindings (`alias`, `models` = [model, *fallbacks]), checked."""
    ok = isinstance(bindings, list) and all(
        isinstance(b, dict)
        and set(b) <= _BINDING_KEYS
        and isinstance(b.get("alias"), str)
        and isinstance(b.get("models"), list)
        and b["models"]
        and all(isinstance(m, str) for m in b["models"])
        for b in bindings
    )
    if not ok:
        raise ConfigurationError(
            f'{path}: each [[profiles.{profile}.bindings]] entry takes alias = "name" and '
            'models = ["provider:model", ...fallbacks] and nothing else.'
        )
    return list(bindings)


def choose_profile(profile: str | None = None) -> tuple[str | None, str]:
    """The profile that applies and where it came from: the argument wins over
    $LLMWIDGETS_PROFILE; an empty string means no profile (the base aliases)."""
    if profile is not None:
        return profile.strip() or None, ""
    env = os.environ.get(PROFILE_ENV, "").strip()
    return (env, f" (from ${PROFILE_ENV})") if env else (None, "")


def _unknown_profile(profile: str, cfg: Config, origin: str) -> str:
    head = f"Unknown profile {profile!r}{origin}."
    if cfg.source is None:
        return (
            f"{head} No {CONFIG_FILENAME} was found, so no profile exists: create one in this "
            f"folder with a [profiles.{profile}.aliases] table."
        )
    if not cfg.profiles:
        return f"{head} {cfg.source} defines no profiles: add a [profiles.{profile}.aliases] table."
    guess = difflib.get_close_matches(profile, list(cfg.profiles), n=1)
    hint = f" Did you mean {guess[0]!r}?" if guess else ""
    return f"{head}{hint} Profiles that exist in {cfg.source}: {', '.join(sorted(cfg.profiles))}."


def close_alias(word: str, aliases: Collection[str], cutoff: float = 0.6) -> str | None:
    """The alias `word` is probably a typo of (chatbot counts), or None."""
    known = sorted({*aliases, DEFAULT_ALIAS} - {word})
    matches = difflib.get_close_matches(word, known, n=1, cutoff=cutoff)
    return matches[0] if matches else None
