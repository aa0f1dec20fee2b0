"""Canonical URIs and the policy's decisions on them: every spelling of one resource is
decided as that resource, and what cannot be put in canonical form is refused."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from plugbay import Call, CallRefused, Principal, ToolError
from plugbay.uris import NamedResource, UriError, canonical_uri, comparable
from plugbay_guard import Policy, PolicyConfig
from plugbay_guard.patterns import NamePattern

pytestmark = pytest.mark.anyio

SECRET = "file://docs/srv/secret/s.txt"
SPELLINGS = [
    "file://docs/srv/secret/s.txt",
    "FILE://DOCS/srv/secret/s.txt",
    "file://docs/srv/public/../secret/s.txt",
    "file://docs/srv/public/%2E%2E/secret/s.txt",
    "file://docs/srv/%73ecret/s.txt",
    "file://docs/srv/secret%2Fs.txt",
    "file://docs/srv/secret%2fs.txt",
    "file://docs//srv//secret///s.txt",
    "file://docs/./srv/./secret/s.txt",
    "file://docs/srv/x/y/../../secret/s.txt",
    "file://docs/srv/secret/s.txt/",
    "file://docs/srv/secret/s.txt#part",
    "file://d%6Fcs/srv/secret/s.txt",
]


@pytest.mark.parametrize("uri", SPELLINGS)
def test_every_spelling_of_a_resource_has_one_canonical_form(uri: str) -> None:
    assert canonical_uri(uri) == SECRET


def test_directories_lose_their_trailing_slash_and_the_top_keeps_it() -> None:
    assert canonical_uri("file://docs/srv/secret/") == "file://docs/srv/secret"
    assert canonical_uri("file://docs/srv/secret") == "file://docs/srv/secret"
    assert canonical_uri("file://docs") == "file://docs/"
    assert canonical_uri("file://docs/") == "file://docs/"
    assert canonical_uri("sql://db/tables?limit=5") == "sql://db/tables?limit=5"
    assert canonical_uri("urn:isbn:0451450523") == "urn:isbn:0451450523"


def test_unicode_forms_of_one_name_are_one_name() -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    assert canonical_uri(f"file://docs/{nfd}") == canonical_uri(f"file://docs/{nfc}")
    assert canonical_uri("file://docs/caf%C3%A9") == f"file://docs/{nfc}"
    assert comparable(f"FILE://Docs/{nfd}") == f"file://docs/{nfc}"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("file://docs/srv/secret%00.txt", "control character"),
        ("file://docs/srv/secret\x00.txt", "control character"),
        ("file://docs/srv/secret%0A/s.txt", "control character"),
        ("file://docs/srv\\secret\\s.txt", "backslash"),
        ("file://docs/srv%5Csecret%5Cs.txt", "backslash"),
        ("file://docs/srv/secret%252Fs.txt", "percent-encoded twice"),
        ("file://docs/srv/%252E%252E/secret", "percent-encoded twice"),
        ("file://docs/srv/secret%25%32%46s.txt", "percent-encoded twice"),
        ("file://docs/../../etc/passwd", "climbs above"),
        ("file://docs/srv/%FF", "not UTF-8"),
        ("file://do%2Fcs/srv", "authority"),
        ("file://docs/" + "a" * 9000, "limit"),
    ],
)
def test_what_has_no_single_canonical_form_is_refused(uri: str, reason: str) -> None:
    with pytest.raises(UriError, match=reason):
        canonical_uri(uri)


def policy(*rules: dict[str, Any], **table: Any) -> Policy:
    return Policy(PolicyConfig.model_validate({"rules": list(rules), **table}))


ALICE = Principal(name="alice", scopes=frozenset(), roles=frozenset())
RULES = {
    "exact": ({"effect": "deny", "resources": [SECRET]}, [SECRET]),
    "glob": ({"effect": "deny", "resources": ["file://*/secret/*"]}, [SECRET]),
    "directory": (
        {"effect": "deny", "resources": ["file://docs/srv/secret/"]},
        [SECRET, "file://docs/srv/secret", "file://docs/srv/secret/a/b"],
    ),
    "directory-star": (
        {"effect": "deny", "resources": ["file://docs/srv/secret/*"]},
        [SECRET, "file://docs/srv/secret"],
    ),
}


@pytest.mark.parametrize("kind", sorted(RULES))
def test_every_kind_of_deny_rule_covers_what_it_names(kind: str) -> None:
    rule, denied = RULES[kind]
    rules = policy(rule, default="allow")
    for uri in denied:
        assert not rules.allows(ALICE, "resource", uri, "docs"), uri
    assert rules.allows(ALICE, "resource", "file://docs/srv/public/p.txt", "docs")
    assert rules.allows(ALICE, "resource", "file://docs/srv/secretary/x", "docs")


def test_an_allow_list_with_a_deny_exception() -> None:
    rules = policy(
        {"resources": ["file://docs/srv/"]},
        {"effect": "deny", "resources": ["file://docs/srv/secret/"]},
    )
    assert rules.allows(ALICE, "resource", "file://docs/srv", "docs")
    assert rules.allows(ALICE, "resource", "file://docs/srv/public/p.txt", "docs")
    assert not rules.allows(ALICE, "resource", "file://docs/srv/secret", "docs")
    assert not rules.allows(ALICE, "resource", SECRET, "docs")
    assert not rules.allows(ALICE, "resource", "file://docs/etc/passwd", "docs")


def test_patterns_are_compared_in_canonical_form() -> None:
    rules = policy({"effect": "deny", "resources": ["FILE://Docs/srv/caf%C3%A9/"]}, default="allow")
    assert not rules.allows(ALICE, "resource", "file://docs/srv/cafe\u0301/menu", "docs")
    assert not rules.allows(ALICE, "resource", "file://DOCS/srv/caf\u00e9", "docs")


@pytest.mark.parametrize(
    "pattern",
    ["file://docs/srv/../secret/*", "file://docs/./secret", "file://docs//secret/", "f://d/a\\b"],
)
def test_a_pattern_no_canonical_uri_can_match_is_a_configuration_error(pattern: str) -> None:
    with pytest.raises(ValidationError, match="can never match"):
        PolicyConfig.model_validate({"rules": [{"resources": [pattern]}]})


def call(kind: str, name: str, resources: Any = None) -> Call:
    return Call(kind=kind, name=name, arguments={}, principal=ALICE, instance="docs",
                resources=resources)  # fmt: skip


async def run(rules: Policy, one: Call) -> str:
    async def endpoint(_: Call) -> str:
        return "ran"

    return await rules(one, endpoint)


async def answer(*named: NamedResource) -> Sequence[NamedResource]:
    return named


async def test_the_middleware_decides_on_the_canonical_form_the_call_carries() -> None:
    rules = policy({"effect": "deny", "resources": ["file://docs/srv/secret/"]}, default="allow")
    sent = "file://docs/srv/public/link"
    to_secret = call("resource", sent, lambda: answer(NamedResource(sent, SECRET)))
    with pytest.raises(CallRefused, match=f"{sent} is not available to alice"):
        await run(rules, to_secret)
    public = call("resource", sent, lambda: answer(NamedResource(sent, sent)))
    assert await run(rules, public) == "ran"
    # A read built without the catalog's wrapper is still decided on the generic form.
    assert await run(rules, call("resource", "file://docs/srv/public/p")) == "ran"
    with pytest.raises(CallRefused):
        await run(rules, call("resource", "file://docs/srv/public/../secret/s.txt"))


async def test_a_tool_needs_every_resource_its_paths_name() -> None:
    rules = policy(
        {"tools": ["docs_read"], "resources": ["file://docs/srv/"]},
        {"effect": "deny", "resources": ["file://docs/srv/secret/"]},
    )
    ok = NamedResource("public/p", "file://docs/srv/public/p")
    bad = NamedResource("public/../secret/s.txt", SECRET)
    assert await run(rules, call("tool", "docs_read", lambda: answer(ok))) == "ran"
    refused = call("tool", "docs_read", lambda: answer(ok, bad))
    with pytest.raises(CallRefused, match=r"docs_read on 'public/\.\./secret/s\.txt' is not avail"):
        await run(rules, refused)
    with pytest.raises(CallRefused, match="docs_write is not available"):
        await run(rules, call("tool", "docs_write", lambda: answer(ok)))


async def test_what_cannot_be_canonicalised_is_refused_never_let_through() -> None:
    rules = policy(default="allow")

    async def malformed() -> Sequence[NamedResource]:
        raise UriError("the URI has a control character (such as NUL)")

    async def broken() -> Sequence[NamedResource]:
        raise RuntimeError("disk on fire")

    async def outside() -> Sequence[NamedResource]:
        raise ToolError("access denied: /etc is outside the allowed directories")

    with pytest.raises(CallRefused, match="not available to alice: the URI has a control"):
        await run(rules, call("resource", "file://docs/x", malformed))
    with pytest.raises(CallRefused, match="could not be checked") as failure:
        await run(rules, call("tool", "docs_read", broken))
    assert "disk on fire" not in str(failure.value)
    with pytest.raises(ToolError, match="outside the allowed directories"):
        await run(rules, call("tool", "docs_read", outside))
    with pytest.raises(CallRefused, match="climbs"):
        await run(rules, call("resource", "file://docs/../../etc/passwd"))


@pytest.mark.parametrize(
    ("pattern", "prefix", "may", "every"),
    [
        ("file://docs/srv/secret/*", "file://docs/", True, False),
        ("file://docs/srv/secret/*", "file://docs/srv/public/", False, False),
        ("file://docs/srv/secret/*", "file://docs/srv/secret/", True, True),
        ("file://docs/srv/*", "file://docs/srv/secret/", True, True),
        ("file://*/secret/*", "file://docs/srv/public/", True, False),
        ("file://docs/s?v/[a-c]*", "file://docs/srv/", True, False),
        ("file://docs/s?v/[a-c]*", "file://docs/srv/b", True, True),
        ("file://docs/s?v/[!a-c]*", "file://docs/srv/b", False, False),
        ("file://docs/srv/x.txt", "file://docs/srv/", True, False),
        ("*" * 40 + "?", "a" * 5000, True, False),
    ],
)
def test_what_a_glob_can_match_beneath_a_prefix(
    pattern: str, prefix: str, may: bool, every: bool
) -> None:
    names = NamePattern([pattern])
    assert names.may_match_beneath(prefix) is may
    assert names.matches_all_beneath(prefix) is every


def test_a_walk_needs_everything_beneath_allowed() -> None:
    deny = policy({"effect": "deny", "resources": ["file://docs/srv/secret/"]}, default="allow")
    assert not deny.allows_tree(ALICE, "file://docs/", "docs")
    assert not deny.allows_tree(ALICE, "file://docs/srv", "docs")
    assert not deny.allows_tree(ALICE, "file://docs/srv/secret", "docs")
    assert deny.allows_tree(ALICE, "file://docs/srv/public", "docs")
    allow_list = policy({"resources": ["file://docs/srv/public/"]})
    assert allow_list.allows_tree(ALICE, "file://docs/srv/public", "docs")
    assert allow_list.allows_tree(ALICE, "file://docs/srv/public/a", "docs")
    assert not allow_list.allows_tree(ALICE, "file://docs/srv", "docs")
    narrow = policy({"resources": ["file://docs/srv/public/*.txt"]})
    assert not narrow.allows_tree(ALICE, "file://docs/srv/public", "docs")
    other = policy({"effect": "deny", "connectors": ["crm"]}, default="allow")
    assert other.allows_tree(ALICE, "file://docs/", "docs")


def test_deny_rules_ignore_case_and_trailing_dots_and_allow_rules_do_not() -> None:
    rules = policy(
        {"resources": ["mcp://up/data/"]},
        {"effect": "deny", "resources": ["mcp://up/data/secret/"]},
    )
    for spelling in ["SECRET", "Secret", "secret.", "secret. .", "SeCrEt  "]:
        assert not rules.allows(ALICE, "resource", f"mcp://up/data/{spelling}/x", "up"), spelling
        assert not rules.allows_tree(ALICE, f"mcp://up/data/{spelling}", "up"), spelling
    assert rules.allows(ALICE, "resource", "mcp://up/data/public/x", "up")
    assert not rules.allows(ALICE, "resource", "mcp://up/DATA/public/x", "up")  # allow: exact


def test_lists_decide_on_the_canonical_form_of_listed_uris() -> None:
    rules = policy({"effect": "deny", "resources": ["file://up/srv/secret/"]}, default="allow")
    assert not rules.visible(ALICE, "resource", "file://up//srv/public/../secret/s.txt", "up")
    assert not rules.visible(ALICE, "resource", "file://up/srv/%73ecret", "up")
    assert rules.visible(ALICE, "resource", "file://up/srv/public/p.txt", "up")
    assert rules.visible(ALICE, "resource", "file://up/{+path}", "up")


def test_canonical_forms_are_stable_and_clean_over_many_random_uris() -> None:
    pieces = ["/", "//", ".", "..", "%2F", "%2f", "%2E", "%25", "%252F", "a", "B", "%C3%A9",
              "e\u0301", "?", "#", "%00", "\\", ":", "@", "~", " ", "%41", "x%", "%zz"]  # fmt: skip
    generator = random.Random(11)
    refused = produced = 0
    for _ in range(5000):
        uri = "file://docs/" + "".join(generator.choices(pieces, k=generator.randint(0, 12)))
        try:
            canonical = canonical_uri(uri)
        except UriError:
            refused += 1
            continue
        produced += 1
        assert canonical_uri(canonical) == canonical, uri
        path = canonical.partition("?")[0].removeprefix("file://docs")
        assert not re.search(r"//|/\.\.?(/|$)|\\|[\x00-\x1f]", path), (uri, canonical)
        assert path == "/" or not path.endswith("/"), (uri, canonical)
        assert unicodedata.is_normalized("NFC", canonical), (uri, canonical)
    assert refused > 100
    assert produced > 100


async def test_the_default_canonical_forms_of_a_connector() -> None:
    from plugbay import Connector, NoSettings

    class Notes(Connector[NoSettings]):
        name = "notes"

    notes = Notes("work", NoSettings())
    assert await notes.canonical_uri("NOTES://Work/a/../b//c/") == "notes://work/b/c"
    assert await notes.canonical_paths("work_read", ["a/./b", "/x", "notes://work/y/../z"]) == [
        "notes://work/a/b",
        "notes://work/x",
        "notes://work/z",
    ]
    # Another scheme's URI is a path here: what the tool reads, not what it looks like.
    assert await notes.canonical_paths("work_read", ["file://etc/passwd"]) == [
        "notes://work/file:/etc/passwd"
    ]
    with pytest.raises(UriError, match="climbs"):
        await notes.canonical_paths("work_read", ["../../etc"])
