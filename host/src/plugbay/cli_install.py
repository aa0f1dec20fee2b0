"""``plugbay install`` and ``plugbay uninstall``: pip for the environment plugbay runs in.

Whoever installed plugbay with ``pipx`` or ``uv tool`` has no shell in that environment to
run pip from; these commands run it there (``sys.executable -m pip``), or ``uv pip`` with
``--python sys.executable`` where the environment has no pip (uv tool environments).

A bare name means the connector of that name: ``odoo`` is ``plugbay-odoo``. Paths, URLs,
archives and names already in the ``plugbay`` namespace are passed as they are, and so
are pip's options and their values.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence

import click

PREFIX = "plugbay-"
"""What a bare name is given to become a connector's distribution name."""

# pip's options that take a value (``pip install --help``, ``pip uninstall --help``, pip's
# general options). Their values are never mapped to plugbay- names. A meta-test checks the
# list against the installed pip's help.
VALUE_OPTIONS = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "--build-constraint",
        "--requirements-from-script", "-e", "--editable", "-t", "--target", "--platform",
        "--python-version", "--implementation", "--abi", "--root", "--prefix", "--src",
        "--upgrade-strategy", "-C", "--config-settings", "--progress-bar",
        "--root-user-action", "--report", "--group", "--all-releases", "--only-final",
        "--no-binary", "--only-binary", "-i", "--index-url", "--extra-index-url",
        "--refresh-package", "-f", "--find-links", "--uploaded-prior-to", "--python", "--log",
        "--log-file", "--local-log", "--keyring-provider", "--proxy", "--retries", "--timeout",
        "--exists-action", "--trusted-host", "--cert", "--client-cert", "--cache-dir",
        "--use-feature", "--use-deprecated", "--resume-retries", "--global-option",
        "--build-option", "--hash", "--install-option", "--path",
    }
)  # fmt: skip

# pip's options that take no value; anything else is unknown (see ``pip_arguments``).
FLAG_OPTIONS = frozenset(
    {
        "--no-deps", "--only-deps", "--dry-run", "--user", "-U", "--upgrade",
        "--force-reinstall", "-I", "--ignore-installed", "--ignore-requires-python",
        "--no-build-isolation", "--check-build-dependencies", "--break-system-packages",
        "--compile", "--no-compile", "--no-warn-script-location", "--no-warn-conflicts",
        "--require-hashes", "--no-require-hashes", "--no-clean", "--pre", "--prefer-binary",
        "--no-index", "-h", "--help", "--debug", "--isolated", "--require-virtualenv", "-v",
        "--verbose", "-q", "--quiet", "--no-input", "--no-proxy-env", "--no-cache-dir",
        "--disable-pip-version-check", "--no-color", "-y", "--yes", "-V", "--version",
    }
)  # fmt: skip

_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
# A requirement specifier: a name, then extras, a version, markers or nothing.
_REQUIREMENT = re.compile(r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<rest>.*)")
_REST = re.compile(r"(\[|[<>=!~;(\s@]|$)")


def canonical_name(name: str) -> str:
    """A distribution name normalised as PEP 503 says: ``Plugbay_Odoo`` → ``plugbay-odoo``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_requirement(token: str) -> str:
    """The requirement pip is given for one name on plugbay's command line.

    Args:
        token: What the user wrote: ``odoo``, ``odoo>=0.2``, ``odoo[test]``,
            ``plugbay-odoo``, ``./plugins/odoo``, a URL or an archive.

    Returns:
        ``plugbay-<token>`` for a bare name or specifier outside the ``plugbay``
        namespace; the token unchanged otherwise.
    """
    if "/" in token or "\\" in token or token.startswith((".", "~")):
        return token  # a path or a URL (git+https://..., file://...)
    if token.lower().endswith(_ARCHIVES):
        return token
    match = _REQUIREMENT.fullmatch(token)
    if match is None or not _REST.match(match["rest"]):
        return token  # not a requirement specifier: pip says what is wrong with it
    name = canonical_name(match["name"])
    if name == "plugbay" or name.startswith(PREFIX):
        return token
    return PREFIX + token


def _short_cluster(token: str) -> tuple[bool, str | None]:
    """Read ``-Uq``, ``-fDIR``, ``-f``: whether the next token is a value, and any unknown option.

    Returns:
        (the next token is this option's value, the first option that is not pip's).
    """
    for index, letter in enumerate(token[1:], start=1):
        option = f"-{letter}"
        if option in VALUE_OPTIONS:
            return index == len(token) - 1, None
        if option not in FLAG_OPTIONS:
            return False, option
    return False, None


def pip_arguments(arguments: Sequence[str]) -> tuple[list[str], list[str]]:
    """Map plugbay's arguments to pip's.

    Options and their values pass unchanged; each other argument goes through
    :func:`distribution_requirement`.

    Args:
        arguments: What followed ``plugbay install`` or ``plugbay uninstall``.

    Returns:
        (pip's arguments, the requirements among them).

    Raises:
        click.UsageError: An option plugbay does not know is followed by a name, so
            whether that name is the option's value or a connector cannot be told. A
            wrong guess would install another package than the one meant, so it is
            refused.
    """
    mapped: list[str] = []
    requirements: list[str] = []
    value_next = False
    unknown: str | None = None
    for argument in arguments:
        if value_next:
            mapped.append(argument)
            value_next = False
            continue
        if argument.startswith("-") and argument != "-":
            unknown = None
            if argument.startswith("--"):
                option, equals, _ = argument.partition("=")
                if option in VALUE_OPTIONS:
                    value_next = not equals
                elif option not in FLAG_OPTIONS and not equals:
                    unknown = option
            else:
                value_next, unknown = _short_cluster(argument)
            mapped.append(argument)
            continue
        if unknown is not None:
            raise click.UsageError(
                f"plugbay does not know pip's option {unknown}: write its value as "
                f"{unknown}=VALUE, or put the option after the names if it takes none"
            )
        requirement = distribution_requirement(argument)
        mapped.append(requirement)
        requirements.append(requirement)
    return mapped, requirements


def installer_command(action: str) -> list[str]:
    """The command that runs pip's ``action`` for this interpreter's environment.

    Args:
        action: ``install`` or ``uninstall``.

    Raises:
        click.ClickException: The environment has no pip and ``uv`` is not on ``PATH``.
    """
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", action]
    uv = shutil.which("uv")
    if uv is not None:
        return [uv, "pip", action, "--python", sys.executable]
    raise click.ClickException(
        f"this environment ({sys.executable}) has neither pip nor uv on PATH. "
        "Add connectors with `pipx inject plugbay plugbay-NAME` (pipx) or "
        "`uv tool install plugbay --with plugbay-NAME` (uv), or put pip in it: "
        f"`{sys.executable} -m ensurepip`"
    )


def _run(command: list[str]) -> None:
    """Run the installer with plugbay's standard streams, and exit with its status."""
    click.echo(f"running: {shlex.join(command)}", err=True)
    done = subprocess.run(command, check=False)  # noqa: S603 - the user's own arguments
    raise SystemExit(done.returncode)


_PASS_THROUGH = {"ignore_unknown_options": True, "help_option_names": ["--help"]}


@click.command(context_settings=_PASS_THROUGH, short_help="Install connectors (pip or uv).")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED, metavar="NAME... [PIP OPTIONS]")
def install(arguments: tuple[str, ...]) -> None:
    r"""Install connectors into plugbay's own environment (pip, or uv where there is no pip).

    NAME is a connector (odoo means plugbay-odoo, odoo>=0.2 and odoo[test] likewise), a
    plugbay-* distribution, a path, a URL or an archive. pip's options pass through:
    -U, -e PATH, --find-links DIR, --pre, --no-deps...

    \b
    Examples:
      plugbay install odoo copper
      plugbay install -e plugins/sql
    """
    if not arguments:
        raise click.UsageError("name at least one connector, e.g. plugbay install odoo")
    command = installer_command("install")
    mapped, _ = pip_arguments(arguments)
    _run(command + mapped)


@click.command(context_settings=_PASS_THROUGH, short_help="Uninstall connectors.")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED, metavar="NAME... [PIP OPTIONS]")
@click.option("--ask", is_flag=True, help="Let pip ask before it removes anything.")
@click.option("--force", is_flag=True, help="Uninstall even plugbay itself.")
def uninstall(arguments: tuple[str, ...], ask: bool, force: bool) -> None:
    r"""Uninstall connectors from plugbay's own environment, without asking.

    NAME is mapped as for install (odoo means plugbay-odoo). Naming them is the
    confirmation; --ask lets pip ask. plugbay itself is refused without --force, since
    removing it removes this command. It works even when an installed plugin is broken.

    \b
    Example:
      plugbay uninstall copper
    """
    if not arguments:
        raise click.UsageError("name at least one connector, e.g. plugbay uninstall odoo")
    mapped, requirements = pip_arguments(arguments)
    if not force and any(_names_plugbay(requirement) for requirement in requirements):
        raise click.UsageError(
            "refusing to uninstall plugbay itself: it would remove the command you are "
            "running. Name only connectors, or add --force if that is what you mean"
        )
    command = installer_command("uninstall")
    if command[1:3] != ["-m", "pip"]:
        # uv never asks, and has no --yes to be given.
        mapped = [argument for argument in mapped if argument not in {"-y", "--yes"}]
    elif not ask and not {"-y", "--yes"} & set(mapped):
        mapped.append("--yes")
    _run(command + mapped)


def _names_plugbay(requirement: str) -> bool:
    match = _REQUIREMENT.match(requirement)
    return match is not None and canonical_name(match["name"]) == "plugbay"
