"""The deny list: .git, .env, keys and the like are refused by every tool and resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from plugbay_filesystem.canonical import path_uris, resource_uri
from plugbay_filesystem.deny import DEFAULT_DENY, DenyList
from plugbay_filesystem.paths import Roots
from plugbay_filesystem.settings import FilesystemSettings

if TYPE_CHECKING:
    from conftest import FsClient, ServeFs

pytestmark = pytest.mark.anyio

TOKEN = "ghp_the_remote_token"
KEY = "-----BEGIN PRIVATE KEY----- the key"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project with the things a deny list is for, and ordinary files beside them.

    ``.git/config`` (a token), ``.env``, ``server.pem``, ``sub/.git/config``,
    ``sub/.ssh/id_ed25519``, ``.docker/config.json``; ``README.md`` and
    ``sub/notes.txt`` mention the token's name only.
    """
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(f"[remote]\n\turl = https://{TOKEN}@host/x\n")
    (root / ".env").write_text(f"TOKEN={TOKEN}\n")
    (root / "server.pem").write_text(KEY)
    (root / "sub" / ".git").mkdir(parents=True)
    (root / "sub" / ".git" / "config").write_text(TOKEN)
    (root / "sub" / ".ssh").mkdir()
    (root / "sub" / ".ssh" / "id_ed25519").write_text(KEY)
    (root / ".docker").mkdir()
    (root / ".docker" / "config.json").write_text(json.dumps({"auth": TOKEN}))
    (root / ".docker" / "daemon.json").write_text("{}")
    (root / "README.md").write_text("# Project\nThe token is kept in .env\n")
    (root / "sub" / "notes.txt").write_text("nothing secret\n")
    return root


DENIED_READS = [
    ".git/config",
    "./.git/../.git/config",
    ".git//config",
    "sub/.git/config",
    "sub/../.git/config",
    ".env",
    ".env.production",  # missing: refused the same way
    "server.pem",
    "SERVER.PEM",
    "sub/.ssh/id_ed25519",
    ".docker/config.json",
    "sub/.docker/config.json",
    # Passing through a denied directory is refused, even where it would lead back out.
    ".git/../README.md",
    ".git/nothing/../../README.md",
]


def assert_refused(message: str) -> None:
    assert "deny list" in message, message
    assert TOKEN not in message
    assert KEY not in message


async def test_reads_of_denied_paths_are_refused(serve_fs: ServeFs, repo: Path) -> None:
    async with serve_fs(repo, list_unavailable=True) as fs:
        for path in [*DENIED_READS, str(repo.resolve() / ".git" / "config")]:
            assert_refused(await fs.error("read_text_file", path=path))
            assert_refused(await fs.error("read_media_file", path=path))
            assert_refused(await fs.error("get_file_info", path=path))
            assert_refused(await fs.error("edit_file", path=path, edits=EDIT, dryRun=True))
        # Allowed neighbours still work.
        assert "Project" in await fs.text("read_text_file", path="README.md")
        assert await fs.text("read_text_file", path=".docker/daemon.json") == "{}"
        both = await fs.data("read_multiple_files", paths=["README.md", ".env"])
        assert "content" in both["result"][0]
        assert_refused(both["result"][1]["error"])


EDIT = [{"oldText": "x", "newText": "y"}]


async def test_denied_entries_exist_or_not_alike(serve_fs: ServeFs, repo: Path) -> None:
    async with serve_fs(repo) as fs:
        present = await fs.error("read_text_file", path=".env")
        absent = await fs.error("read_text_file", path=".envy")
        assert present.replace(".env", "X") == absent.replace(".envy", "X")
        present = await fs.error("list_directory", path=".git")
        absent = await fs.error("list_directory", path=".hg")
        assert present.replace(".git", "X") == absent.replace(".hg", "X")


async def test_links_to_denied_entries_are_refused(serve_fs: ServeFs, repo: Path) -> None:
    (repo / "vcs").symlink_to(repo / ".git")
    (repo / "settings.txt").symlink_to(repo / ".env")
    (repo / "up").symlink_to(repo / "sub")
    # A link named like a secret is refused by its name, wherever it points.
    (repo / ".env.link").symlink_to(repo / "README.md")
    async with serve_fs(repo) as fs:
        for path in ["vcs/config", "settings.txt", "up/.git/config", ".env.link", "vcs"]:
            assert_refused(await fs.error("read_text_file", path=path))
        assert_refused(await fs.error("list_directory", path="vcs"))
        listing = await fs.text("list_directory", path=".")
        assert "[LINK] vcs" in listing  # the link is listed; what it leads to is refused
        assert ".env" not in listing


async def test_upper_case_spellings_are_denied_too(serve_fs: ServeFs, repo: Path) -> None:
    # On a case-sensitive file system .GIT is another directory than .git; it is
    # denied all the same, as it would be the same one on a case-insensitive mount.
    (repo / ".GIT").mkdir(exist_ok=True)
    (repo / ".GIT" / "CONFIG").write_text(TOKEN)
    (repo / "Id_RSA").write_text(KEY)
    async with serve_fs(repo) as fs:
        for path in [".GIT/CONFIG", ".Git/config", "Id_RSA", ".ENV"]:
            assert_refused(await fs.error("read_text_file", path=path))
        listing = await fs.text("list_directory", path=".")
        assert ".GIT" not in listing
        assert "Id_RSA" not in listing


async def test_listings_trees_and_searches_leave_denied_entries_out(
    serve_fs: ServeFs, repo: Path
) -> None:
    async with serve_fs(repo) as fs:
        for tool in ("list_directory", "list_directory_with_sizes"):
            listing = await fs.text(tool, path=".")
            assert "README.md" in listing
            assert "sub" in listing
            for name in (".git", ".env", "server.pem"):
                assert name not in listing, (tool, listing)
        sub = await fs.text("list_directory", path="sub")
        assert sub.split("\n") == ["[FILE] notes.txt"]
        tree = json.dumps(await fs.data("directory_tree", path="."))
        assert "README.md" in tree
        assert "daemon.json" in tree
        for name in (".git", ".env", ".ssh", "server.pem", "config.json", "id_ed25519"):
            assert name not in tree, (name, tree)
        for pattern in ("*", "**", "**/*", "config", "*.pem", "**/.git/**", ".*", "{.env,x}"):
            found = (await fs.data("search_files", pattern=pattern, path="."))["matches"]
            assert not any(
                denied in match
                for match in found
                for denied in ("/.git", "/.env", ".pem", "/.ssh", "config.json")
            ), (pattern, found)
        everything = (await fs.data("search_files", pattern="**", path="."))["matches"]
        assert str(repo.resolve() / "sub" / "notes.txt") in everything
        assert_refused(await fs.error("search_files", pattern="*", path=".git"))
        assert_refused(await fs.error("directory_tree", path="sub/.ssh"))


async def test_writes_and_moves_never_touch_denied_names(serve_fs: ServeFs, repo: Path) -> None:
    async with serve_fs(repo, allow_writes=True) as fs:
        assert_refused(await fs.error("write_file", path=".env", content="TOKEN=new"))
        assert_refused(await fs.error("write_file", path="new/.ssh/authorized_keys", content="k"))
        assert_refused(await fs.error("write_file", path=".git/hooks/pre-commit", content="sh"))
        assert_refused(await fs.error("edit_file", path=".env", edits=EDIT))
        assert_refused(await fs.error("create_directory", path="other/.aws"))
        # A denied file moved to an allowed name would then be readable.
        assert_refused(await fs.error("move_file", source=".env", destination="env.txt"))
        assert_refused(await fs.error("move_file", source=".git", destination="history"))
        assert_refused(await fs.error("move_file", source="sub/.git/config", destination="c"))
        # An allowed file moved onto a denied name.
        assert_refused(await fs.error("move_file", source="README.md", destination=".env.new"))
        assert_refused(await fs.error("move_file", source="README.md", destination=".git/x"))
        assert_refused(await fs.error("move_file", source="README.md", destination="a.key"))
    assert (repo / ".env").read_text() == f"TOKEN={TOKEN}\n"
    assert (repo / "README.md").exists()
    assert not (repo / "env.txt").exists()
    assert not (repo / "history").exists()
    assert not (repo / "new").exists()
    assert not (repo / "other").exists()
    assert not (repo / ".git" / "hooks").exists()


async def test_directories_in_path_patterns_cannot_be_renamed(
    serve_fs: ServeFs, repo: Path
) -> None:
    (repo / ".config" / "gcloud").mkdir(parents=True)
    (repo / ".config" / "gcloud" / "credentials.db").write_text(TOKEN)
    (repo / ".config" / "app.toml").write_text("ok = true\n")
    async with serve_fs(repo, allow_writes=True) as fs:
        # Renamed, .docker/config.json would no longer match ".docker/config.json".
        message = await fs.error("move_file", source=".docker", destination="docker")
        assert ".docker/config.json" in message
        assert "cannot be moved" in await fs.error("move_file", source=".config", destination="c")
        assert "cannot be moved" in await fs.error(
            "move_file", source="sub/../.docker/", destination="d"
        )
        # What the patterns do not pass through moves as usual.
        await fs.ok("move_file", source=".docker/daemon.json", destination="daemon.json")
        await fs.ok("move_file", source=".config/app.toml", destination="app.toml")
        await fs.ok("move_file", source="sub", destination="moved")
        assert_refused(await fs.error("read_text_file", path="moved/.git/config"))
    assert (repo / ".docker" / "config.json").exists()
    assert not (repo / "docker").exists()
    assert not (repo / "c").exists()


async def read_error(fs: FsClient, uri: str) -> str:
    with pytest.raises(MCPError) as raised:
        await fs.read(uri)
    return raised.value.message


async def test_resources_and_completions_leave_denied_entries_out(
    serve_fs: ServeFs, repo: Path
) -> None:
    absolute = str(repo.resolve()).lstrip("/")
    reference = types.ResourceTemplateReference(type="ref/resource", uri="file://fs/{+path}")
    async with serve_fs(repo) as fs:
        for uri in [
            "file://fs/.git/config",
            "file://fs/%2Egit/config",
            "file://fs/.env",
            f"file://fs/{absolute}/.git/config",
            f"file://fs/{absolute}/sub/.ssh/id_ed25519",
            "file://fs/sub/.git",
        ]:
            assert_refused(await read_error(fs, uri))
        listing = await fs.read_json("file://fs/.")
        names = [entry["name"] for entry in listing["entries"]]
        assert "README.md" in names
        assert ".git" not in names
        assert ".env" not in names

        async def complete(value: str) -> list[str]:
            result = await fs.client.complete(reference, {"name": "path", "value": value})
            return result.completion.values

        assert await complete(f"{absolute}/.") == [f"{absolute}/.docker/"]
        assert await complete(".") == [".docker/"]
        assert await complete(f"{absolute}/.git/") == []


async def test_the_policy_hooks_refuse_denied_paths(repo: Path) -> None:
    roots = Roots.from_settings([str(repo)], deny=DenyList(DEFAULT_DENY))
    with pytest.raises(Exception, match="deny list"):
        path_uris(roots, "fs", [".git/config"])
    with pytest.raises(Exception, match="deny list"):
        resource_uri(roots, "fs", "file://fs/.env")


async def test_the_operator_can_replace_or_extend_the_list(serve_fs: ServeFs, repo: Path) -> None:
    (repo / "data.secret").write_text("classified")
    async with serve_fs(repo, deny=[]) as fs:
        assert TOKEN in await fs.text("read_text_file", path=".git/config")
        assert ".env" in await fs.text("list_directory", path=".")
    async with serve_fs(repo, deny_extra=["*.secret", "private/"]) as fs:
        assert_refused(await fs.error("read_text_file", path="data.secret"))
        assert_refused(await fs.error("read_text_file", path=".env"))
        assert_refused(await fs.error("list_directory", path="sub/private"))
    async with serve_fs(repo, deny=["*.secret"]) as fs:
        assert_refused(await fs.error("read_text_file", path="data.secret"))
        assert TOKEN in await fs.text("read_text_file", path=".env")


def test_settings_check_the_patterns() -> None:
    assert FilesystemSettings().deny == list(DEFAULT_DENY)
    assert {".git/", ".env*", "*.pem", "*.key", ".ssh/", "id_rsa*"} <= set(DEFAULT_DENY)
    with pytest.raises(ValueError, match="empty"):
        FilesystemSettings(deny=["/"])
    with pytest.raises(ValueError, match="reversed"):
        FilesystemSettings(deny_extra=["[z-a].txt"])
    # From the environment: a JSON list, or a PATH-style one.
    assert FilesystemSettings.model_validate({"deny": "[]"}).deny == []
    assert FilesystemSettings.model_validate({"deny": ".git/:*.pem"}).deny == [".git/", "*.pem"]


@pytest.mark.parametrize(
    ("path", "denied"),
    [
        (".git", True),
        ("a/b/.git/objects/x", True),
        (".gitignore", False),
        (".github/workflows/ci.yml", False),
        (".env", True),
        (".envrc", True),
        ("environment.py", False),
        ("certs/site.pem", True),
        ("keys/readme.md", False),
        ("home/.docker/config.json", True),
        (".docker/daemon.json", False),
        ("id_rsa.pub", True),
        ("x.pem/inside", True),
        ("CREDENTIALS.JSON", True),
        ("\N{LATIN SMALL LETTER E WITH ACUTE}.txt", False),
    ],
)
def test_the_matcher(path: str, denied: bool) -> None:
    assert DenyList(DEFAULT_DENY).denies_names(path.split("/")) is denied


def test_guarded_directories() -> None:
    defaults = DenyList(DEFAULT_DENY)
    assert defaults.guarding(".Docker") == ".docker/config.json"
    assert defaults.guarding("gcloud") is None  # the pattern's end: denied itself
    assert defaults.guarding("src") is None
    deny = DenyList(["build/**/secrets.txt"])
    assert deny.guarding("build") == "build/**/secrets.txt"
    assert deny.guarding("anything") == "build/**/secrets.txt"  # '**' passes any name


def test_names_are_compared_in_one_unicode_form() -> None:
    decomposed = "caf\N{LATIN SMALL LETTER E}\N{COMBINING ACUTE ACCENT}"
    deny = DenyList(["caf\N{LATIN SMALL LETTER E WITH ACUTE}/"])
    assert deny.denies_names([decomposed, "menu.txt"])
