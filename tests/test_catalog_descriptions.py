"""What a model reads in tools/list for the in-repo connectors: Markdown, catalog names, facts.

The catalog is built at assembly, before any connector starts, so every definition can
be read here without a database, an Odoo or a Copper account.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins

# Sphinx markup that a docstring may carry and a model should never see.
RST_MARKUP = re.compile(r"``|:(?:func|meth|class|mod|attr|data|exc|param|returns?|raises?):")


def _catalog_text(
    tmp_path: Path, *, writes: bool, list_unavailable: bool = False
) -> dict[str, Any]:
    database = tmp_path / "shop.db"
    config = {
        "server": {"list_unavailable_tools": list_unavailable},
        "connectors": {
            "shop": {"plugin": "sql", "url": f"sqlite:///{database}", "allow_writes": writes},
            "docs": {"plugin": "filesystem", "roots": [str(tmp_path)], "allow_writes": writes},
            "crm": {"plugin": "copper", "api_key": "k", "user_email": "me@example.com"},
            "erp": {
                "plugin": "odoo",
                "url": "http://127.0.0.1:8069",
                "database": "erp",
                "username": "me",
                "api_key": "k",
                "models": {"res.partner": ["read"], "sale.order": ["read"]},
            },
        },
    }
    registry = load_plugins({"PLUGBAY_PLUGINS": "sql,filesystem,copper,odoo"})
    assembly = assemble(registry, parse_config(config, environ={}))
    assert not assembly.problems, assembly.problems
    catalog = assembly.catalog
    definitions = [
        *(entry.definition for entry in catalog.tools.values()),
        *(entry.definition for entry in catalog.resources.values()),
        *(entry.definition for entry in catalog.templates),
        *(entry.definition for entry in catalog.prompts.values()),
    ]
    return {
        "tools": {name: entry.definition for name, entry in catalog.tools.items()},
        "text": json.dumps([item.model_dump(mode="json") for item in definitions]),
    }


def test_no_restructuredtext_or_placeholders_in_any_definition(tmp_path: Path) -> None:
    for writes in (False, True):
        text = _catalog_text(tmp_path, writes=writes)["text"]
        assert not RST_MARKUP.findall(text)
        assert "{tool:" not in text


def test_read_only_instances_list_no_write_tools_unless_asked(tmp_path: Path) -> None:
    writes = ("shop_execute", "docs_write_file", "docs_edit_file", "docs_create_directory")
    read_only = _catalog_text(tmp_path, writes=False)["tools"]
    assert not [name for name in writes if name in read_only]
    assert "shop_query" in read_only
    assert "docs_read_text_file" in read_only
    listed = _catalog_text(tmp_path, writes=False, list_unavailable=True)["tools"]
    assert all(name in listed for name in writes)
    writable = _catalog_text(tmp_path, writes=True)["tools"]
    assert all(name in writable for name in writes)


def test_sql_and_filesystem_tools_state_their_instance(tmp_path: Path) -> None:
    tools = _catalog_text(tmp_path, writes=False)["tools"]
    shop = f"This instance: SQLite, file {tmp_path / 'shop.db'}; read-only."
    docs = f"This instance: directories {tmp_path}; read-only."
    for name, tool in tools.items():
        if name.startswith("shop_"):
            assert tool.description.endswith(shop), name
        if name.startswith("docs_"):
            assert tool.description.endswith(docs), name
    described = tools["shop_describe_table"].input_schema["properties"]["table"]
    assert "as shop_list_tables shows it" in described["description"]
    write_file = _catalog_text(tmp_path, writes=True)["tools"]["docs_write_file"].description
    assert "(docs_create_directory makes it)" in write_file
    assert "prefer docs_edit_file for changes" in write_file
    assert write_file.endswith(f"This instance: directories {tmp_path}; writes allowed.")


def test_copper_and_odoo_tools_state_their_instance(tmp_path: Path) -> None:
    tools = _catalog_text(tmp_path, writes=False)["tools"]
    crm = "This instance: the Copper account of me@example.com."
    erp = (
        "This instance: Odoo database 'erp' at http://127.0.0.1:8069; granted models: "
        "res.partner, sale.order."
    )
    for name, tool in tools.items():
        if name.startswith("crm_"):
            assert tool.description.endswith(crm), name
        if name.startswith("erp_"):
            assert tool.description.endswith(erp), name
