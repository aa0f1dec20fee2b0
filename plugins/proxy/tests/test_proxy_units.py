"""Names, filters, URIs, backoff and settings: the proxy's pure parts."""

from __future__ import annotations

import random
import re

import httpx2
import pytest
from pydantic import ValidationError

from plugbay_proxy import Filter, ProxySettings, UriMap, backoff_delay, exposed_names
from plugbay_proxy.names import MAX_NAME_LENGTH
from plugbay_proxy.upstream import describe_error

VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def full_names(instance: str, names: dict[str, str]) -> list[str]:
    return [f"{instance}_{name}" for name in names.values()]


def test_names_that_fit_are_kept() -> None:
    names = exposed_names(["echo", "get-sum", "read_file"], instance="ev")
    assert names == {"echo": "echo", "get-sum": "get-sum", "read_file": "read_file"}


def test_long_names_are_shortened_with_a_stable_hash() -> None:
    long = "summarise_every_document_in_the_shared_archive_by_topic_and_author"
    instance = "gateway_upstream"
    first = exposed_names([long, "echo"], instance=instance)
    again = exposed_names(["other", long], instance=instance)
    assert first[long] == again[long]  # stable whatever else the upstream lists
    assert first["echo"] == "echo"
    full = f"{instance}_{first[long]}"
    assert len(full) == MAX_NAME_LENGTH
    assert VALID.match(full)
    assert first[long].startswith("summarise_every_document")
    assert re.search(r"_[0-9a-f]{6}$", first[long])


def test_shortened_names_that_would_collide_stay_distinct() -> None:
    stem = "x" * 80
    names = exposed_names([stem + "a", stem + "b", stem + "c"], instance="i")
    assert len(set(names.values())) == 3
    assert all(VALID.match(name) and len(name) <= 62 for name in names.values())


def test_characters_clients_reject_are_replaced_and_hashed() -> None:
    names = exposed_names(["files.read", "files_read", "a b"], instance="fs")
    assert names["files_read"] == "files_read"  # unchanged names keep theirs
    assert names["files.read"].startswith("files_read_")
    assert names["a b"].startswith("a_b_")
    assert len(set(names.values())) == 3
    assert all(VALID.match(name) for name in full_names("fs", names))


def test_renames_apply_and_win_a_clash() -> None:
    names = exposed_names(["get-sum", "add"], instance="m", rename={"get-sum": "add"})
    assert names["get-sum"] == "add"
    assert names["add"].startswith("add_")
    assert len(set(names.values())) == 2


def test_a_too_long_rename_is_fitted_too() -> None:
    names = exposed_names(["t"], instance="inst", rename={"t": "n" * 70})
    assert len(f"inst_{names['t']}") <= MAX_NAME_LENGTH


def test_hash_clashes_lengthen_the_hash() -> None:
    # Force clashes: many renames to the same over-long name.
    upstream = [f"tool{i}" for i in range(50)]
    names = exposed_names(upstream, instance="i", rename=dict.fromkeys(upstream, "z" * 100))
    assert len(set(names.values())) == 50
    assert all(VALID.match(f"i_{name}") for name in names.values())


def test_filter_allow_and_deny() -> None:
    everything = Filter()
    assert everything.admits("anything")
    only_reads = Filter(allow=["read_*", "list_*"], deny=["*_secret"])
    assert only_reads.admits("read_file")
    assert not only_reads.admits("write_file")
    assert not only_reads.admits("read_secret")
    assert Filter(deny=["write_*"]).admits("read")
    # A resource is admitted when its URI or its name matches.
    assert Filter(allow=["demo://*"]).admits("demo://x/1", "Resource 1")
    assert not Filter(allow=["demo://*"], deny=["Resource*"]).admits("demo://x/1", "Resource 1")


@pytest.mark.parametrize(
    ("upstream", "exposed"),
    [
        ("demo://resource/static/1", "demo://ev/resource/static/1"),
        ("file:///tmp/a.txt", "file://ev//tmp/a.txt"),
        ("https://example.com/x?y=1", "https://ev/example.com/x?y=1"),
        (
            "demo://resource/dynamic/text/{resourceId}",
            "demo://ev/resource/dynamic/text/{resourceId}",
        ),
        ("urn:isbn:0451450523", "mcp-proxy://ev/~urn:isbn:0451450523"),
    ],
)
def test_uris_move_under_the_instance_and_back(upstream: str, exposed: str) -> None:
    uris = UriMap("ev")
    assert uris.expose(upstream) == exposed
    assert uris.upstream(exposed) == upstream


def test_uris_of_other_instances_are_not_ours() -> None:
    assert UriMap("ev").upstream("demo://other/resource") is None
    assert UriMap("ev").upstream("no-scheme") is None


def test_backoff_grows_with_jitter_up_to_the_maximum() -> None:
    rng = random.Random(7).random
    delays = [backoff_delay(n, initial=0.5, maximum=8.0, rng=rng) for n in range(10)]
    for attempt, delay in enumerate(delays):
        ceiling = min(8.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert backoff_delay(1000, initial=0.5, maximum=8.0, rng=lambda: 1.0) == 8.0
    assert backoff_delay(0, initial=0.5, maximum=8.0, rng=lambda: 0.0) == 0.25


def test_describe_error_unwraps_groups() -> None:
    group = ExceptionGroup("transport", [ConnectionRefusedError("All connection attempts failed")])
    assert describe_error(group) == "ConnectionRefusedError: All connection attempts failed"
    assert describe_error(TimeoutError()) == "TimeoutError"


def test_describe_error_leaves_credentials_in_urls_out() -> None:
    # HTTP errors quote the URL; the reason reaches clients and /readyz, not only the log.
    url = "https://relay:pw-in-url@up.example/mcp?api_key=key-in-url"
    error = httpx2.HTTPStatusError(
        f"Client error '401 Unauthorized' for url '{url}'",
        request=httpx2.Request("POST", url),
        response=httpx2.Response(401),
    )
    reason = describe_error(ExceptionGroup("transport", [error]))
    assert "pw-in-url" not in reason
    assert "key-in-url" not in reason
    assert reason == (
        "HTTPStatusError: Client error '401 Unauthorized' for url "
        "'https://[redacted]@up.example/mcp?api_key=[redacted]'"
    )


def test_settings_need_exactly_one_transport() -> None:
    with pytest.raises(ValidationError, match="either command"):
        ProxySettings()
    with pytest.raises(ValidationError, match="either command"):
        ProxySettings(command="x", url="http://127.0.0.1/mcp")
    with pytest.raises(ValidationError, match="http"):
        ProxySettings(url="ftp://example.com")
    with pytest.raises(ValidationError, match="url upstreams only"):
        ProxySettings(command="x", bearer_token="t")
    with pytest.raises(ValidationError, match="command upstreams only"):
        ProxySettings(url="http://127.0.0.1/mcp", args=["x"])
    with pytest.raises(ValidationError, match="header name"):
        ProxySettings(url="http://127.0.0.1/mcp", headers={"bad header": "x"})
    with pytest.raises(ValidationError, match="environment variable name"):
        ProxySettings(command="x", env={"1BAD": "x"})


def test_settings_from_environment_strings() -> None:
    settings = ProxySettings.model_validate(
        {"command": "srv", "args": '["--a", "b"]', "deny": "write_*", "env": '{"K": "v"}'}
    )
    assert settings.args == ["--a", "b"]
    assert settings.deny == ["write_*"]
    assert settings.env["K"].get_secret_value() == "v"


def test_target_never_shows_credentials() -> None:
    settings = ProxySettings(url="https://user:pw@api.example.com:8443/mcp?key=secret")
    assert settings.target == "https://api.example.com:8443/mcp"
    assert "secret" not in repr(ProxySettings(url="http://h/mcp", bearer_token="secret"))
