"""Alias resolution: discovery order, table entries, fallbacks, zero-config chatbot, errors."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmwidgets._aliases import resolve
from llmwidgets._config import CONFIG_ENV, PROFILE_ENV, Config, find_config_file, load_config
from llmwidgets._errors import ConfigurationError, ConfigurationWarning
from llmwidgets._providers.discovery import zero_config_chatbot
from llmwidgets._providers.replay import load_recording
from llmwidgets._stream import complete, stream
from llmwidgets._widgets.chat import ChatWidget
from llmwidgets._widgets.compare import compare
from llmwidgets._widgets.stream import StreamWidget


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty folder with no config env, keys or user config."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setattr("llmwidgets._config._user_config_dir", lambda: tmp_path / "user-config")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_explicit_path_wins_over_env_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    explicit = write(tmp_path / "x" / "mine.toml", '[aliases]\na = "openai:one"\n')
    env = write(tmp_path / "env.toml", '[aliases]\na = "openai:two"\n')
    write(tmp_path / "llmwidgets.toml", '[aliases]\na = "openai:three"\n')
    monkeypatch.setenv(CONFIG_ENV, str(env))
    assert resolve("a", config=explicit).target.model == "one"


def test_env_var_wins_over_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    env = write(tmp_path / "env.toml", '[aliases]\na = "openai:two"\n')
    write(tmp_path / "llmwidgets.toml", '[aliases]\na = "openai:three"\n')
    monkeypatch.setenv(CONFIG_ENV, str(env))
    assert resolve("a").target.model == "two"


def test_file_in_a_parent_folder_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "llmwidgets.toml", '[aliases]\na = "openai:parent"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_config_file() == tmp_path / "llmwidgets.toml"
    assert resolve("a").target.model == "parent"


def test_pyproject_tool_table_is_used(tmp_path: Path):
    write(tmp_path / "pyproject.toml", '[tool.llmwidgets.aliases]\na = "anthropic:claude"\n')
    res = resolve("a")
    assert (res.target.provider, res.target.model) == ("anthropic", "claude")
    assert res.source == tmp_path / "pyproject.toml"


def test_pyproject_without_tool_table_is_skipped(tmp_path: Path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config_file() is None


def test_llmwidgets_toml_beats_pyproject_in_the_same_folder(tmp_path: Path):
    write(tmp_path / "pyproject.toml", '[tool.llmwidgets.aliases]\na = "openai:py"\n')
    write(tmp_path / "llmwidgets.toml", '[aliases]\na = "openai:toml"\n')
    assert resolve("a").target.model == "toml"


def test_user_config_folder_is_the_last_resort(tmp_path: Path):
    write(tmp_path / "user-config" / "llmwidgets.toml", '[aliases]\na = "openai:user"\n')
    assert resolve("a").target.model == "user"


def test_table_entry_carries_defaults(tmp_path: Path):
    write(
        tmp_path / "llmwidgets.toml",
        """
[aliases.fast]
model = "openai:gpt-4o-mini"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "MY_KEY"
temperature = 0.2
max_tokens = 100
system = "Be brief."
options = { seed = 7 }
""",
    )
    t = resolve("fast").target
    assert (t.base_url, t.api_key_env, t.temperature, t.max_tokens, t.system) == (
        "http://127.0.0.1:9/v1",
        "MY_KEY",
        0.2,
        100,
        "Be brief.",
    )
    assert t.options == {"seed": 7}


def test_fallbacks_expand_in_order_including_other_aliases(tmp_path: Path):
    write(
        tmp_path / "llmwidgets.toml",
        """
[aliases]
backup = "ollama:llama3.2"
main = { model = "anthropic:claude-haiku-4-5", fallbacks = ["openai:gpt-4o-mini", "backup"] }
""",
    )
    specs = [t.spec for t in resolve("main").targets]
    assert specs == ["anthropic:claude-haiku-4-5", "openai:gpt-4o-mini", "ollama:llama3.2"]


def test_alias_cycle_is_reported(tmp_path: Path):
    write(
        tmp_path / "llmwidgets.toml",
        """
[aliases]
a = { model = "openai:x", fallbacks = ["b"] }
b = { model = "openai:y", fallbacks = ["a"] }
""",
    )
    with pytest.raises(ConfigurationError, match="cycle"):
        resolve("a")


def test_provider_model_needs_no_config():
    res = resolve("openai:gpt-4o-mini")
    assert res.target.spec == "openai:gpt-4o-mini"
    assert res.reason == "named directly"


def test_unknown_alias_lists_the_aliases_that_exist(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\nfast = "openai:a"\njudge = "openai:b"\n')
    with pytest.raises(ConfigurationError) as err:
        resolve("fsat")
    msg = str(err.value)
    assert "'fsat'" in msg and "fast" in msg and "judge" in msg and "chatbot" in msg
    assert str(tmp_path / "llmwidgets.toml") in msg


def test_unknown_alias_suggests_the_closest_defined_one(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\njudge = "openai:b"\n')
    with pytest.raises(ConfigurationError, match="Did you mean 'judge'"):
        resolve("jduge")
    with pytest.raises(ConfigurationError, match="Did you mean 'chatbot'"):
        resolve("chatbt")


@pytest.mark.parametrize(
    "spec", ["openai:", "anthropic: ", "ollama:", "google:", "openai-responses:"]
)
def test_a_provider_with_no_model_names_the_fix(spec: str):
    provider = spec.split(":")[0]
    with pytest.raises(
        ConfigurationError, match=f"`{provider}:` names no model: write `{provider}:"
    ):
        resolve(spec)


def test_an_alias_with_no_model_names_the_alias_and_the_fix(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\nfast = "openai:"\n')
    with pytest.raises(ConfigurationError) as err:
        resolve("fast")
    assert "'fast'" in str(err.value) and "write `openai:gpt-4o-mini`" in str(err.value)


@pytest.mark.parametrize("spec", ["replay:", "local:"])
def test_providers_with_a_default_model_accept_an_empty_one(spec: str):
    assert resolve(spec).target.model == ""


def test_unknown_alias_without_a_file_says_how_to_create_one():
    with pytest.raises(ConfigurationError, match=r"no llmwidgets\.toml found"):
        resolve("judge")


def test_unknown_provider_lists_the_known_ones():
    with pytest.raises(ConfigurationError) as err:
        resolve("opnai:gpt-4o")
    assert "'opnai'" in str(err.value) and "anthropic" in str(err.value)


def test_broken_toml_names_the_file_and_the_problem(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", "[aliases\nchatbot = 'x'\n")
    with pytest.raises(ConfigurationError) as err:
        load_config()
    assert "llmwidgets.toml is not valid TOML" in str(err.value)
    assert "line 1" in str(err.value)


def test_broken_toml_only_warns_when_provider_model_is_named(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", "[aliases\nchatbot = 'x'\n")
    with pytest.warns(ConfigurationWarning) as caught:
        res = resolve("openai:gpt-4o-mini")
    assert res.target.spec == "openai:gpt-4o-mini"
    (warning,) = caught
    message = str(warning.message)
    assert str(tmp_path / "llmwidgets.toml") in message and "line 1" in message


def test_broken_toml_still_fails_an_alias(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", "[aliases\nchatbot = 'x'\n")
    with pytest.raises(ConfigurationError, match="is not valid TOML"):
        resolve("chatbot")


def test_entry_without_provider_prefix_is_explained(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\nchatbot = "gpt-4o"\n')
    with pytest.raises(ConfigurationError, match="provider:model"):
        resolve("chatbot")


def test_unknown_key_in_alias_table_is_named(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases.a]\nmodel = "openai:x"\ntemprature = 1\n')
    with pytest.raises(ConfigurationError, match="temprature"):
        resolve("a")


def test_missing_explicit_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        resolve("a", config=tmp_path / "nope.toml")


def test_env_var_pointing_nowhere_says_to_fix_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigurationError, match=f"unset {CONFIG_ENV}"):
        resolve("chatbot")


def test_alias_in_file_overrides_zero_config_chatbot(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\nchatbot = "openai:from-file"\n')
    assert resolve("chatbot").target.model == "from-file"


def test_zero_config_prefers_anthropic_key_then_openai():
    both = {"ANTHROPIC_API_KEY": "a" * 20, "OPENAI_API_KEY": "b" * 20}
    assert zero_config_chatbot(both, local_servers=()).target.provider == "anthropic"
    only_openai = {"OPENAI_API_KEY": "b" * 20}
    res = zero_config_chatbot(only_openai, local_servers=())
    assert res.target.provider == "openai"
    assert "OPENAI_API_KEY is set" in res.reason


@pytest.mark.parametrize("var", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
def test_zero_config_considers_a_google_key_after_the_anthropic_and_openai_ones(var: str):
    assert zero_config_chatbot({var: "g" * 20}, local_servers=()).target.spec == (
        "google:gemini-2.5-flash"
    )
    with_openai = {var: "g" * 20, "OPENAI_API_KEY": "b" * 20}
    assert zero_config_chatbot(with_openai, local_servers=()).target.provider == "openai"


@pytest.fixture
def compatible_server() -> Iterator[str]:
    """A real local OpenAI-compatible /v1/models endpoint on 127.0.0.1."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"object": "list", "data": [{"id": "qwen2.5:0.5b"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_zero_config_uses_a_running_local_server(compatible_server: str):
    res = zero_config_chatbot(
        {}, local_servers=[("Nothing", "http://127.0.0.1:9/v1"), ("llama.cpp", compatible_server)]
    )
    assert res.target.model == "qwen2.5:0.5b"
    assert res.target.base_url == compatible_server
    assert "llama.cpp is running" in res.reason


def test_zero_config_falls_back_to_the_offline_model_and_says_so():
    from llmwidgets._providers.local import offline_available

    res = zero_config_chatbot({}, local_servers=())
    if offline_available():
        assert res.target.spec == "local:smollm2"
        assert "offline model" in res.reason
    else:
        assert res.target.provider == "replay"
        assert "pip install" in res.reason


def test_resolution_prints_which_and_why():
    text = str(zero_config_chatbot({"OPENAI_API_KEY": "x" * 20}, local_servers=()))
    assert text.startswith("chatbot = openai:gpt-4o-mini")
    assert "OPENAI_API_KEY is set" in text


def test_local_servers_are_probed_at_once_so_resolving_waits_one_timeout_at_most():
    """Servers that accept a connection and never answer: each probe runs into its timeout."""
    silent = [socket.create_server(("127.0.0.1", 0)) for _ in range(3)]
    try:
        servers = [
            (f"s{i}", f"http://127.0.0.1:{s.getsockname()[1]}/v1") for i, s in enumerate(silent)
        ]
        started = time.monotonic()
        res = zero_config_chatbot({}, local_servers=servers, probe_timeout=0.3)
        assert time.monotonic() - started < 0.6
        assert res.target.provider in ("local", "replay")
    finally:
        for s in silent:
            s.close()


# -- profiles ----------------------------------------------------------------------------------
PROFILES = """
[aliases]
chatbot = "openai:base-chat"
fast = "openai:base-fast"
backup = "ollama:base-backup"
main = { model = "anthropic:claude-haiku-4-5", fallbacks = ["backup"] }

[profiles.dev.aliases]
chatbot = "replay:short"
backup = "openai:dev-backup"

[profiles.prod.aliases]
chatbot = "replay:tour"
"""


@pytest.fixture
def profiles_file(tmp_path: Path) -> Path:
    return write(tmp_path / "llmwidgets.toml", PROFILES)


@pytest.mark.usefixtures("profiles_file")
def test_a_profile_alias_overrides_the_base_alias():
    assert resolve("chatbot", profile="prod").target.spec == "replay:tour"


@pytest.mark.usefixtures("profiles_file")
def test_without_a_profile_the_base_aliases_apply():
    res = resolve("chatbot")
    assert (res.target.spec, res.profile) == ("openai:base-chat", None)


@pytest.mark.usefixtures("profiles_file")
def test_an_alias_the_profile_does_not_define_comes_from_the_base_aliases():
    res = resolve("fast", profile="dev")
    assert (res.target.spec, res.profile) == ("openai:base-fast", "dev")
    assert "[aliases]" in res.reason and "profile 'dev' does not define it" in res.reason


@pytest.mark.usefixtures("profiles_file")
def test_a_base_fallback_naming_an_alias_gets_the_profiles_version_of_it():
    specs = [t.spec for t in resolve("main", profile="dev").targets]
    assert specs == ["anthropic:claude-haiku-4-5", "openai:dev-backup"]


@pytest.mark.usefixtures("profiles_file")
def test_the_profile_env_var_chooses_the_profile(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(PROFILE_ENV, "prod")
    res = resolve("chatbot")
    assert (res.target.spec, res.profile) == ("replay:tour", "prod")
    assert f"from ${PROFILE_ENV}" in res.reason


@pytest.mark.usefixtures("profiles_file")
def test_the_profile_argument_wins_over_the_env_var(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(PROFILE_ENV, "prod")
    assert resolve("chatbot", profile="dev").target.spec == "replay:short"


@pytest.mark.usefixtures("profiles_file")
def test_an_empty_profile_argument_means_the_base_aliases_despite_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(PROFILE_ENV, "prod")
    res = resolve("chatbot", profile="")
    assert (res.target.spec, res.profile) == ("openai:base-chat", None)


def test_the_resolution_names_the_profile_and_says_why(profiles_file: Path):
    res = resolve("chatbot", profile="dev")
    assert res.profile == "dev"
    assert res.reason == f"alias defined in profile 'dev' of {profiles_file}"
    assert str(res).startswith(f"chatbot = replay:short (profile 'dev', from {profiles_file}): ")


def test_an_unknown_profile_lists_the_profiles_that_exist_and_the_file(profiles_file: Path):
    with pytest.raises(ConfigurationError) as err:
        resolve("chatbot", profile="staging")
    msg = str(err.value)
    assert "Unknown profile 'staging'" in msg and "dev, prod" in msg and str(profiles_file) in msg


@pytest.mark.usefixtures("profiles_file")
def test_an_unknown_profile_suggests_the_closest_one():
    with pytest.raises(ConfigurationError, match="Did you mean 'prod'"):
        resolve("fast", profile="prd")


@pytest.mark.usefixtures("profiles_file")
def test_an_unknown_profile_from_the_env_var_says_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(PROFILE_ENV, "staging")
    with pytest.raises(ConfigurationError, match=rf"'staging' \(from \${PROFILE_ENV}\)"):
        resolve("chatbot")


def test_a_profile_without_any_file_says_how_to_create_one():
    with pytest.raises(
        ConfigurationError, match=r"No llmwidgets\.toml.*\[profiles\.dev\.aliases\]"
    ):
        resolve("chatbot", profile="dev")


def test_a_profile_in_a_file_without_profiles_says_how_to_add_one(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[aliases]\nfast = "openai:a"\n')
    with pytest.raises(
        ConfigurationError, match=r"defines no profiles.*\[profiles\.dev\.aliases\]"
    ):
        resolve("fast", profile="dev")


@pytest.mark.usefixtures("profiles_file")
def test_provider_model_with_an_unknown_profile_only_warns():
    with pytest.warns(ConfigurationWarning, match="Unknown profile 'staging'"):
        res = resolve("openai:gpt-4o-mini", profile="staging")
    assert (res.target.spec, res.profile) == ("openai:gpt-4o-mini", None)


def test_zero_config_chatbot_under_a_profile_says_the_profile_does_not_define_it(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", '[profiles.dev.aliases]\nfast = "openai:a"\n')
    res = resolve("chatbot", profile="dev", environ={"OPENAI_API_KEY": "k" * 20})
    assert (res.target.spec, res.profile) == ("openai:gpt-4o-mini", "dev")
    assert "neither profile 'dev' nor [aliases] defines it" in res.reason


def test_llmring_bindings_in_a_profile_are_aliases_with_fallbacks(tmp_path: Path):
    write(
        tmp_path / "llmwidgets.toml",
        """
[[profiles.prod.bindings]]
alias = "summarizer"
models = ["anthropic:claude-haiku-4-5", "openai:gpt-4o-mini"]
""",
    )
    specs = [t.spec for t in resolve("summarizer", profile="prod").targets]
    assert specs == ["anthropic:claude-haiku-4-5", "openai:gpt-4o-mini"]


def test_an_unknown_key_in_a_profile_is_named(tmp_path: Path):
    write(tmp_path / "llmwidgets.toml", "[profiles.dev.registry_versions]\nopenai = 3\n")
    with pytest.raises(
        ConfigurationError, match=r"\[profiles\.dev\] has unknown key.*registry_versions"
    ):
        load_config()


def test_profiles_in_a_pyproject_tool_table_are_read(tmp_path: Path):
    write(tmp_path / "pyproject.toml", '[tool.llmwidgets.profiles.dev.aliases]\na = "openai:dev"\n')
    assert resolve("a", profile="dev").target.model == "dev"


def test_a_config_object_takes_profiles_too():
    cfg = Config(aliases={"a": "openai:base"}, profiles={"dev": {"a": "openai:dev"}})
    assert resolve("a", config=cfg, profile="dev").target.model == "dev"


def test_every_profiles_aliases_count_as_defined(profiles_file: Path):
    assert {"chatbot", "fast", "backup", "main"} <= load_config().alias_names()
    write(profiles_file, '[profiles.dev.aliases]\njudge = "openai:j"\n')
    assert load_config().alias_names() == {"judge"}


# -- profile= on every entry point: `chatbot` is replay:short in dev, openai:base-chat without
@pytest.mark.usefixtures("profiles_file")
def test_stream_resolves_with_its_profile():
    assert stream("chatbot", "hi", profile="dev").target.spec == "replay:short"


@pytest.mark.usefixtures("profiles_file")
async def test_complete_answers_from_the_profiles_model():
    response = await complete("chatbot", "hi", profile="dev", delay=0)
    assert response.text == load_recording("short")


@pytest.mark.usefixtures("profiles_file", "recorder")
async def test_stream_widget_passes_its_profile_to_stream():
    response = await StreamWidget("chatbot", "hi", profile="dev", delay=0)
    assert response.text == load_recording("short")


@pytest.mark.usefixtures("profiles_file", "recorder")
async def test_chat_widget_answers_every_turn_with_its_profile():
    chat = ChatWidget("chatbot", profile="dev", delay=0)
    assert (await chat.send("hi")).text == load_recording("short")


@pytest.mark.usefixtures("profiles_file", "recorder")
async def test_compare_applies_a_shared_profile_and_a_panes_own():
    panes = ["chatbot", {"model": "chatbot", "profile": "prod"}]
    results = await compare(panes, "hi", profile="dev", delay=0)
    assert [r.text if r else None for r in results] == [
        load_recording("short"),
        load_recording("tour"),
    ]
