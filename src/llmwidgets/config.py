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

With no file at all, `chatbot` still works: `llmwidgets.providers.discovery` picks a provider.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
PROFILE_ENV = "LLMWIDGETS_PROFILE"
DEFAULT_ALIAS = "chatbot"

#: Providers whose API needs a model name, with one to suggest. `local:` and `replay:` have
#: defaults (the embedded model, the default recording), so an empty model is fine for them.
EXAMPLE_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "openai-responses": "gpt-5-mini",
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
    #: The profile chosen for this resolution (argument or $LLMWIDGETS_PROFILE), None for none.
    profile: str | None = None

    @property
    def target(self) -> Target:
        return self.targets[0]

    def __str__(self) -> str:
        chain = " -> ".join(t.spec for t in self.targets)
        notes = [f"profile {self.profile!r}"] if self.profile else []
        notes += [f"from {self.source}"] if self.source else []
        where = f" ({', '.join(notes)})" if notes else ""
        return f"{self.name} = {chain}{where}: {self.reason}"

    def _repr_markdown_(self) -> str:
        return f"`{self.name}` → `{' → '.join(t.spec for t in self.targets)}`: {self.reason}"


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
    profile: str | None = None,
) -> Resolution:
    """Resolve an alias or `provider:model` into the targets to try, in order.

    `profile` picks a `[profiles.NAME.aliases]` set laid over `[aliases]` (default:
    $LLMWIDGETS_PROFILE; `""` for none); `provider:model` needs no alias, so no profile.
    """
    name = name.strip()
    chosen, origin = choose_profile(profile)
    if ":" in name:
        provider, model = parse_spec(name)
        _warn_if_unloadable(config, name, chosen, origin)
        return Resolution(name, (Target(provider, model),), "named directly", None)
    base = config if isinstance(config, Config) else load_config(config)
    cfg = base.for_profile(chosen, origin=origin)
    in_profile = chosen is not None and name in base.profiles[chosen]
    if name in cfg.aliases:
        targets = _expand(name, cfg, seen=())
        if chosen is None:
            reason = f"alias defined in {cfg.source}"
        elif in_profile:
            reason = f"alias defined in profile {chosen!r}{origin} of {cfg.source}"
        else:
            reason = (
                f"alias defined in [aliases] of {cfg.source}: profile {chosen!r}{origin} "
                "does not define it"
            )
        return Resolution(name, tuple(targets), reason, cfg.source, chosen)
    if name == DEFAULT_ALIAS:
        from llmwidgets.providers.discovery import zero_config_chatbot

        found = zero_config_chatbot(environ)
        if chosen is None:
            return found
        reason = f"neither profile {chosen!r}{origin} nor [aliases] defines it; {found.reason}"
        return replace(found, reason=reason, profile=chosen)
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


def _warn_if_unloadable(
    config: str | os.PathLike[str] | Config | None, name: str, profile: str | None, origin: str
) -> None:
    """`provider:model` needs no alias, so a broken lockfile or an unknown profile must not stop
    it; it still warns, since every alias is unusable until that is fixed."""
    try:
        cfg = config if isinstance(config, Config) else load_config(config)
        cfg.for_profile(profile, origin=origin)
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
