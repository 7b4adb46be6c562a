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
```

With no file at all, `chatbot` still works: `llmwidgets.providers.discovery` picks a provider.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmwidgets.errors import ConfigurationError, ConfigurationWarning
from llmwidgets.providers.base import ProviderConfig, provider_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILENAME = "llmwidgets.toml"
CONFIG_ENV = "LLMWIDGETS_CONFIG"
DEFAULT_ALIAS = "chatbot"

#: Providers whose API needs a model name, with one to suggest. `local:` and `replay:` have
#: defaults (the embedded model, the default recording), so an empty model is fine for them.
EXAMPLE_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "google": "gemini-2.5-flash",
    "ollama": "llama3.2",
}

_TARGET_KEYS = {
    "model",
    "base_url",
    "api_key_env",
    "temperature",
    "max_tokens",
    "system",
    "timeout",
    "options",
    "fallbacks",
}


@dataclass(frozen=True)
class Target:
    """One concrete model to call, with the defaults its alias gave it."""

    provider: str
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    system: str | None = None
    timeout: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    def provider_config(self) -> ProviderConfig:
        return ProviderConfig(
            name=self.provider, base_url=self.base_url, api_key_env=self.api_key_env
        )


@dataclass(frozen=True)
class Resolution:
    """What a name resolved to, and why: printed by `llmwidgets.resolve("chatbot")`."""

    name: str
    targets: tuple[Target, ...]
    reason: str
    source: Path | None = None

    @property
    def target(self) -> Target:
        return self.targets[0]

    def __str__(self) -> str:
        chain = " -> ".join(t.spec for t in self.targets)
        where = f" (from {self.source})" if self.source else ""
        return f"{self.name} = {chain}{where}: {self.reason}"

    def _repr_markdown_(self) -> str:
        return f"`{self.name}` → `{' → '.join(t.spec for t in self.targets)}`: {self.reason}"


@dataclass(frozen=True)
class Config:
    aliases: Mapping[str, Any]
    source: Path | None = None
    timeout: float | None = None


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
    return Config(aliases=aliases, source=path, timeout=float(timeout) if timeout else None)


def parse_spec(spec: str, *, alias: str = "", source: Path | None = None) -> tuple[str, str]:
    """Split `provider:model`, checking the provider exists."""
    provider, sep, model = spec.partition(":")
    provider = provider.strip()
    if not sep or not provider:
        where = f" in {source}" if source else ""
        raise ConfigurationError(
            f"{spec!r}{where} is not of the form provider:model "
            f"(for example openai:gpt-4o-mini). Providers: {', '.join(provider_names())}."
        )
    if provider not in provider_names():
        ctx = f"alias {alias!r} names " if alias else ""
        raise ConfigurationError(
            f"{ctx}unknown provider {provider!r} in {spec!r}. "
            f"Known providers: {', '.join(provider_names())}."
        )
    model = model.strip()
    if not model and provider in EXAMPLE_MODELS:
        # Caught here, or the request goes out with no model and the provider's 400 is vaguer.
        ctx = f"Alias {alias!r}{f' in {source}' if source else ''}: " if alias else ""
        raise ConfigurationError(
            f"{ctx}`{provider}:` names no model: write `{provider}:{EXAMPLE_MODELS[provider]}`."
        )
    return provider, model


def close_alias(word: str, aliases: Collection[str], cutoff: float = 0.6) -> str | None:
    """The alias `word` is probably a typo of (chatbot counts), or None."""
    known = sorted({*aliases, DEFAULT_ALIAS} - {word})
    matches = difflib.get_close_matches(word, known, n=1, cutoff=cutoff)
    return matches[0] if matches else None


def _target_from_entry(name: str, entry: Any, source: Path | None) -> tuple[Target, list[str]]:
    if isinstance(entry, str):
        provider, model = parse_spec(entry, alias=name, source=source)
        return Target(provider, model), []
    if not isinstance(entry, dict) or "model" not in entry:
        raise ConfigurationError(
            f'Alias {name!r} in {source}: expected "provider:model" or a table with a '
            f"`model` key, got {entry!r}."
        )
    unknown = set(entry) - _TARGET_KEYS
    if unknown:
        raise ConfigurationError(
            f"Alias {name!r} in {source}: unknown key(s) {', '.join(sorted(unknown))}. "
            f"Allowed: {', '.join(sorted(_TARGET_KEYS))}."
        )
    provider, model = parse_spec(str(entry["model"]), alias=name, source=source)
    fallbacks = entry.get("fallbacks", [])
    if isinstance(fallbacks, str) or not isinstance(fallbacks, list):
        raise ConfigurationError(f"Alias {name!r} in {source}: `fallbacks` must be a list.")
    try:
        target = Target(
            provider=provider,
            model=model,
            base_url=entry.get("base_url"),
            api_key_env=entry.get("api_key_env"),
            temperature=_opt_float(entry.get("temperature")),
            max_tokens=_opt_int(entry.get("max_tokens")),
            system=entry.get("system"),
            timeout=_opt_float(entry.get("timeout")),
            options=dict(entry.get("options", {})),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Alias {name!r} in {source}: {exc}") from None
    return target, [str(f) for f in fallbacks]


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def resolve(
    name: str = DEFAULT_ALIAS,
    *,
    config: str | os.PathLike[str] | Config | None = None,
    environ: Mapping[str, str] | None = None,
) -> Resolution:
    """Resolve an alias or `provider:model` into the targets to try, in order."""
    name = name.strip()
    if ":" in name:
        provider, model = parse_spec(name)
        if not isinstance(config, Config):
            _warn_if_unloadable(config, name)
        return Resolution(name, (Target(provider, model),), "named directly", None)
    cfg = config if isinstance(config, Config) else load_config(config)
    if name in cfg.aliases:
        targets = _expand(name, cfg, seen=())
        return Resolution(name, tuple(targets), f"alias defined in {cfg.source}", cfg.source)
    if name == DEFAULT_ALIAS:
        from llmwidgets.providers.discovery import zero_config_chatbot

        return zero_config_chatbot(environ)
    defined = sorted({*cfg.aliases, DEFAULT_ALIAS})
    where = (
        f"in {cfg.source}"
        if cfg.source
        else f"(no {CONFIG_FILENAME} found; create one in this folder)"
    )
    guess = close_alias(name, defined)
    hint = f"Did you mean {guess!r}? " if guess else ""
    raise ConfigurationError(
        f"Unknown alias {name!r}. {hint}Aliases that exist: {', '.join(defined)}. "
        f'Define it {where} under [aliases], e.g. {name} = "openai:gpt-4o-mini", '
        f"or name a model directly as provider:model."
    )


def _warn_if_unloadable(config: str | os.PathLike[str] | None, name: str) -> None:
    """`provider:model` needs no alias, so a broken lockfile must not stop it; it still warns,
    since every alias is unusable until the file is fixed."""
    try:
        load_config(config)
    except ConfigurationError as exc:
        warnings.warn(
            f"{exc.message} {name} needs no alias, so it is used anyway; aliases fail until then.",
            ConfigurationWarning,
            stacklevel=3,
        )


def _expand(name: str, cfg: Config, seen: Sequence[str]) -> list[Target]:
    if name in seen:
        chain = " -> ".join([*seen, name])
        raise ConfigurationError(f"Alias cycle in {cfg.source}: {chain}.")
    target, fallbacks = _target_from_entry(name, cfg.aliases[name], cfg.source)
    targets = [target]
    for fb in fallbacks:
        if ":" in fb:
            provider, model = parse_spec(fb, alias=name, source=cfg.source)
            targets.append(Target(provider, model))
        elif fb in cfg.aliases:
            targets.extend(_expand(fb, cfg, (*seen, name)))
        else:
            raise ConfigurationError(
                f"Alias {name!r} in {cfg.source} falls back to {fb!r}, which is neither "
                f"provider:model nor a defined alias ({', '.join(sorted(cfg.aliases))})."
            )
    return targets
