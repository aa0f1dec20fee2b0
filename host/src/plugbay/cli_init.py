"""``plugbay init``: write a commented ``plugbay.toml`` for the installed connectors.

Every setting is written commented out, with its description, type, default, whether
it is required or secret, and its environment variable. So the file parses as written:
an instance that needs a setting nobody gave yet is reported "not configured" by
``plugbay config check``, naming the setting and its variable, rather than the file
failing to parse, and the defaults keep following new releases until they are
uncommented.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import click

from plugbay.cli_connectors import installed_connector_infos, unknown_connector
from plugbay.config import CONFIG_ENV, DEFAULT_CONFIG_NAME
from plugbay.connector_settings import ConnectorInfo, SettingInfo

_WIDTH = 88


def render_config(infos: Sequence[ConnectorInfo]) -> str:
    """The text of a commented ``plugbay.toml`` with one instance of each connector."""
    names = ", ".join(info.name for info in infos) or "none"
    lines = [
        f"# plugbay.toml, written by `plugbay init` for the connectors: {names}.",
        "#",
        "# Each [connectors.<instance>] table is one instance of a connector; its tools are",
        "# named <instance>_<tool>. Every setting is listed, commented out: uncomment the ones",
        "# you change. A setting can also come from the environment variable shown with it",
        "# (PLUGBAY_<INSTANCE>__<SETTING>, also read from .env beside this file), which wins",
        '# over this file; "${VAR}" in a value is replaced from the environment. Keep secrets',
        "# in the environment, not here. Relative paths start from this file's folder.",
        "#",
        "# Check it with `plugbay config check`; serve it with `plugbay serve`.",
    ]
    for info in infos:
        lines += ["", _rule(info.name), *_comment(info.description), _rule("")]
        lines += [f"[connectors.{info.name}]", f'plugin = "{info.name}"']
        for setting in info.settings:
            lines += ["", *_setting_lines(setting, info.name)]
    return "\n".join(lines) + "\n"


def _rule(title: str) -> str:
    head = f"# --- {title} " if title else "# "
    return head + "-" * (_WIDTH - len(head))


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"# {indent}{line}" for line in textwrap.wrap(text, _WIDTH - 2 - len(indent))]


def _setting_lines(setting: SettingInfo, instance: str) -> list[str]:
    facts = [setting.type, "required" if setting.required else "optional"]
    if setting.secret:
        facts.append("secret: set it in the environment")
    lines = [f"# {setting.name}: {', '.join(facts)}; env {setting.variable(instance)}"]
    lines += _comment(setting.description, "  ")
    if setting.default is None and not setting.required:
        lines.append("#   (unset by default)")
    example = setting.example
    if setting.secret and setting.default is None:
        # A reference, so the secret itself stays out of the file.
        example = f'"${{{instance.upper().replace("-", "_")}_{setting.name.upper()}}}"'
    lines.append(f"# {setting.name} = {example}")
    return lines


@click.command("init", short_help="Write a commented plugbay.toml.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"File to write (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_NAME}).",
)
@click.option(
    "--connectors",
    "wanted",
    default=None,
    metavar="NAME,NAME",
    help="Only these connectors (comma-separated; default: every installed one).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--print", "to_stdout", is_flag=True, help="Print the file instead of writing it.")
def init(config_path: Path | None, wanted: str | None, force: bool, to_stdout: bool) -> None:
    """Write a commented plugbay.toml for the installed connectors.

    Every setting is listed, commented out, with its description, default, whether it
    is required or secret, and its environment variable. An existing file is never
    overwritten without --force.

    \b
    Examples:
      plugbay init
      plugbay init --connectors filesystem,sql
      plugbay init --config /etc/plugbay/plugbay.toml --force
    """  # noqa: D301 (\b is click's no-rewrap marker)
    infos = installed_connector_infos()
    if not infos:
        raise click.ClickException(
            "no connectors are installed (see `plugbay plugins`); install one first, "
            "e.g. plugbay install plugbay-filesystem"
        )
    if wanted is not None:
        by_name = {info.name: info for info in infos}
        names = list(dict.fromkeys(n.strip() for n in wanted.split(",") if n.strip()))
        if not names:
            raise click.UsageError("--connectors needs at least one connector name")
        for name in names:
            if name not in by_name:
                raise unknown_connector(name, by_name)
        infos = [by_name[name] for name in names]
    text = render_config(infos)
    if to_stdout:
        click.echo(text, nl=False)
        return
    path = config_path or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME)
    try:
        # "x" creates the file only if it is not there: no check-then-write race.
        with path.open("w" if force else "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise click.ClickException(
            f"{path} exists; not overwriting it (use --force to replace it, or --config "
            "to write another file)"
        ) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None
    listed = ", ".join(info.name for info in infos) or "no connectors"
    click.echo(f"wrote {path} ({listed})")
    click.echo(f"next: edit it, then run `plugbay config check --config {path}`")
