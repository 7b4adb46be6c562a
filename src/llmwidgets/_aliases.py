"""From a name to the models to try: an alias of the lockfile (_config.py reads it), a profile's
version of it, or `provider:model` named directly, each with its fallbacks, as a `Resolution`.

Kept apart from reading the file: resolving checks every `provider:model` against the providers
that exist and explains itself (`Resolution.reason`), and an undefined `chatbot` is left to
`llmwidgets._providers.discovery`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmwidgets._config import (
    CONFIG_FILENAME,
    DEFAULT_ALIAS,
    Config,
    choose_profile,
    close_alias,
    load_config,
)
from llmwidgets._errors import ConfigurationError, ConfigurationWarning
from llmwidgets._providers.base import ProviderConfig, provider_names

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
        from llmwidgets._providers.discovery import zero_config_chatbot

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
