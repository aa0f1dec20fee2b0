"""Reading plugbay.toml, .env and the environment."""

import os
from pathlib import Path

import pytest

from plugbay import ConfigError, setting_variable
from plugbay.config import (
    Config,
    InstanceConfig,
    ServerConfig,
    find_config_file,
    load_config,
    parse_config,
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PLUGBAY_* variables from the outer environment, in an empty directory."""
    for key in list(os.environ):
        if key.startswith("PLUGBAY_") or key.startswith("PB_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_without_a_document() -> None:
    config = parse_config({}, environ={})
    assert config.server == ServerConfig()
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 8000
    assert config.server.path == "/mcp"
    assert config.server.call_timeout == 120.0
    assert config.server.page_size == 200
    assert config.instances is None


def test_server_table_with_interpolation() -> None:
    document = {
        "server": {
            "name": "team",
            "port": "${PORT:-9000}",
            "host": "${HOST}",
            "stateless": True,
            "allowed_hosts": ["${DOMAIN}:*"],
        }
    }
    config = parse_config(document, environ={"HOST": "0.0.0.0", "DOMAIN": "mcp.example.com"})
    assert config.server.name == "team"
    assert config.server.port == 9000
    assert config.server.host == "0.0.0.0"
    assert config.server.stateless is True
    assert config.server.allowed_hosts == ["mcp.example.com:*"]


def test_instances_with_interpolation_and_missing_variables() -> None:
    document = {
        "connectors": {
            "erp": {
                "plugin": "odoo",
                "url": "https://${ERP_HOST}/odoo",
                "api_key": "${ERP_KEY}",
                "database": "${ERP_DB:-prod}",
                "tags": ["${ERP_KEY}", "${TEAM:-ops}", 3],
                "nested": {"token": "${NESTED_TOKEN}"},
            },
            "notes": {},
        }
    }
    config = parse_config(document, environ={"ERP_HOST": "erp.example.com"}, source=None)
    erp, notes = config.instances
    assert erp == InstanceConfig(
        name="erp",
        plugin="odoo",
        values={
            "url": "https://erp.example.com/odoo",
            "api_key": "",
            "database": "prod",
            "tags": ["", "ops", 3],
            "nested": {"token": ""},
        },
        missing_variables=("ERP_KEY", "NESTED_TOKEN"),
    )
    assert notes == InstanceConfig(name="notes", plugin="notes", values={})


def test_an_empty_connectors_table_means_no_instances() -> None:
    assert parse_config({"connectors": {}}, environ={}).instances == ()


def test_env_overrides() -> None:
    config = Config(
        environ={
            "PLUGBAY_MY_ERP__API_KEY": "k",
            "PLUGBAY_MY_ERP__URL": "u",
            "PLUGBAY_OTHER__URL": "x",
            "MY_ERP__URL": "y",
        }
    )
    assert config.env_overrides("my-erp") == {"api_key": "k", "url": "u"}
    # The name messages tell operators to set is the one read here.
    assert setting_variable("my-erp", "api_key") == "PLUGBAY_MY_ERP__API_KEY"
    assert config.env_overrides("nobody") == {}


def test_every_problem_is_reported_at_once() -> None:
    document = {
        "sever": {},
        "server": {"port": 70000, "bogus": 1, "page_size": 0},
        "connectors": {
            "1bad": {"plugin": "x"},
            "has space": {},
            "x" * 41: {},
            "flat": "not a table",
            "numbered": {"plugin": 5},
            "fine": {"plugin": "notes"},
        },
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(document, environ={}, source=Path("/etc/plugbay.toml"))
    problems = caught.value.problems
    where = "/etc/plugbay.toml"
    assert f"{where}: [server] bogus: Extra inputs are not permitted" in problems
    assert any(
        p.startswith(f"{where}: [server] port: Input should be less than or equal")
        for p in problems
    )
    assert any(p.startswith(f"{where}: [server] page_size: ") for p in problems)
    naming = "instance names start with a letter"
    assert f"{where}: [connectors.1bad]: " in next(p for p in problems if "1bad" in p)
    assert naming in next(p for p in problems if "1bad" in p)
    assert naming in next(p for p in problems if "has space" in p)
    assert naming in next(p for p in problems if "x" * 41 in p)
    assert f"{where}: [connectors.flat] must be a table" in problems
    assert f"{where}: [connectors.numbered]: 'plugin' must be a connector name" in problems
    assert not any("fine" in p for p in problems)
    assert len(problems) == 8  # [sever] is a plugin table until no plugin claims it
    assert str(caught.value) == "\n".join(problems)


@pytest.mark.parametrize("value", [True, False, "yes"])
def test_the_removed_relay_lane_setting_is_a_clear_error(value: object) -> None:
    document = {"server": {"relay_lane": value, "port": 70000}}
    with pytest.raises(ConfigError) as caught:
        parse_config(document, environ={}, source=Path("/etc/plugbay.toml"))
    problems = caught.value.problems
    assert (
        "/etc/plugbay.toml: [server] relay_lane: relay_lane was removed in 0.2; "
        "delete this setting" in problems
    )
    # The other problems of the table are still reported with it.
    assert any("[server] port: " in p for p in problems)
    assert len(problems) == 2


def test_connectors_must_be_a_table() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"connectors": ["a"]}, environ={})
    assert caught.value.problems == [
        "configuration: [connectors] must be a table of [connectors.<name>] tables"
    ]


def test_server_problems_do_not_echo_values() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"server": {"port": "hunter2-secret"}}, environ={})
    assert "hunter2-secret" not in str(caught.value)
    assert "port: " in str(caught.value)


def test_load_config_reads_toml_and_dotenv_beside_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = clean_env / "conf"
    folder.mkdir()
    (folder / "plugbay.toml").write_text(
        '[server]\nport = 9100\n\n[connectors.erp]\nplugin = "odoo"\n'
        'api_key = "${PB_TEST_KEY}"\nurl = "${PB_TEST_URL}"\n',
        encoding="utf-8",
    )
    (folder / ".env").write_text(
        "PB_TEST_KEY=from-dotenv\nPB_TEST_URL=https://dotenv\nPLUGBAY_ERP__DATABASE=dev\n"
        "PB_TEST_EMPTY\n",
        encoding="utf-8",
    )
    (clean_env / ".env").write_text("PB_TEST_KEY=from-cwd\n", encoding="utf-8")
    monkeypatch.setenv("PB_TEST_URL", "https://process")
    config = load_config(folder / "plugbay.toml")
    assert config.source == folder / "plugbay.toml"
    assert config.server.port == 9100
    (erp,) = config.instances
    assert erp.values == {"api_key": "from-dotenv", "url": "https://process"}
    assert erp.missing_variables == ()
    assert config.env_overrides("erp") == {"database": "dev"}
    assert "PB_TEST_EMPTY" not in config.environ


def test_explicit_environ_skips_dotenv_and_process(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("PB_TEST_KEY=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("PB_TEST_KEY", "from-process")
    path = clean_env / "plugbay.toml"
    path.write_text('[connectors.a]\nkey = "${PB_TEST_KEY}"\n', encoding="utf-8")
    config = load_config(path, environ={"PB_TEST_KEY": "given"})
    assert config.instances[0].values == {"key": "given"}
    assert config.environ == {"PB_TEST_KEY": "given"}


def test_without_a_file_the_defaults_apply_and_dotenv_comes_from_cwd(clean_env: Path) -> None:
    (clean_env / ".env").write_text("PB_TEST_TOKEN=abc\n", encoding="utf-8")
    config = load_config()
    assert config.source is None
    assert config.instances is None
    assert config.server == ServerConfig()
    assert config.environ["PB_TEST_TOKEN"] == "abc"


def test_find_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_config_file() is None
    assert find_config_file("elsewhere.toml") == Path("elsewhere.toml")
    (clean_env / "plugbay.toml").write_text("", encoding="utf-8")
    assert find_config_file() == Path("plugbay.toml")
    monkeypatch.setenv("PLUGBAY_CONFIG", "/srv/pb.toml")
    assert find_config_file() == Path("/srv/pb.toml")
    assert find_config_file("explicit.toml") == Path("explicit.toml")


def test_plugbay_config_variable_is_used(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = clean_env / "custom.toml"
    path.write_text('[server]\nname = "from-variable"\n', encoding="utf-8")
    monkeypatch.setenv("PLUGBAY_CONFIG", str(path))
    assert load_config().server.name == "from-variable"


def test_bad_files_are_config_errors(clean_env: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(clean_env / "missing.toml", environ={})
    assert caught.value.problems == [f"{clean_env / 'missing.toml'}: no such configuration file"]

    broken = clean_env / "broken.toml"
    broken.write_text("[server\nport = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(broken, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith(f"{broken}: not valid TOML: ")
    assert "line 1" in problem

    binary = clean_env / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00 = 1")
    with pytest.raises(ConfigError) as caught:
        load_config(binary, environ={})
    assert caught.value.problems[0].startswith(f"{binary}: cannot read it (")

    with pytest.raises(ConfigError) as caught:
        load_config(clean_env, environ={})
    assert caught.value.problems[0].startswith(f"{clean_env}: cannot read it (")


def test_a_file_with_problems_names_itself(clean_env: Path) -> None:
    path = clean_env / "plugbay.toml"
    path.write_text("[server]\nprot = 1\n\n[connectors.9x]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert len(caught.value.problems) == 2
    assert all(p.startswith(f"{path}: ") for p in caught.value.problems)


def test_settings_that_moved_to_plugins_say_where() -> None:
    document = {"server": {"event_store": "redis://127.0.0.1", "event_store_ttl": 5}}
    with pytest.raises(ConfigError) as caught:
        parse_config(document, environ={})
    assert caught.value.problems == [
        "configuration: [server] event_store: moved in 0.2: install plugbay-redis and set "
        "[redis] url (see its README)",
        "configuration: [server] event_store_ttl: moved in 0.2: install plugbay-redis and set "
        "[redis] ttl (see its README)",
    ]
