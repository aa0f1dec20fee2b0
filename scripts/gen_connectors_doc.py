"""Write docs/connectors.md from the settings models of this repository's connectors.

    python scripts/gen_connectors_doc.py           # write docs/connectors.md
    python scripts/gen_connectors_doc.py --check   # exit 1 if it is out of date

Only the plugins in plugins/ are loaded (through the same registry as ``plugbay
connectors``), whatever else is installed, so the page is the same on every machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from plugbay.config import Config
from plugbay.connector_settings import ConnectorInfo, describe_connectors
from plugbay.connectors_doc import render_markdown
from plugbay.plugins import SELECT_ENV, load_plugins

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "connectors.md"
PLUGINS = ROOT / "plugins"
COMMAND = "python scripts/gen_connectors_doc.py"


def repository_plugins() -> list[str]:
    """The plugin names of plugins/*: each folder is named after its entry point."""
    return sorted(p.name for p in PLUGINS.iterdir() if (p / "pyproject.toml").is_file())


def render() -> str:
    """The page as it should be now."""
    names = repository_plugins()
    environ = {SELECT_ENV: ",".join(names)}
    registry = load_plugins(environ)
    infos = describe_connectors(registry, Config(environ=environ))
    # Plugins that offer connectors must each show one; server features (auth, guard,
    # telemetry, redis) offer none and are not on this page.
    offering = {
        name
        for name in names
        if "register_connectors" in getattr(registry.plugins.get(name), "hooks", [])
        or getattr(registry.plugins.get(name), "status", "failed") != "loaded"
    }
    missing = sorted(offering - {info.plugin for info in infos})
    if missing:
        raise SystemExit(f"these plugins registered no connector (installed?): {missing}")

    def readme_for(info: ConnectorInfo) -> str | None:
        readme = PLUGINS / info.plugin / "README.md"
        return f"../plugins/{info.plugin}/README.md" if readme.is_file() else None

    return render_markdown(infos, readme_for=readme_for)


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` say whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    arguments = parser.parse_args(argv)
    text = render()
    if arguments.check:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
        if current != text:
            print(f"docs/connectors.md is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        print("docs/connectors.md is up to date")
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
