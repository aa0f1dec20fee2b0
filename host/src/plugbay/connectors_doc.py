"""The connectors' settings as a Markdown reference (``docs/connectors.md``).

Generated from the settings models, as ``plugbay connectors show`` prints them;
``scripts/gen_connectors_doc.py`` writes the repository's copy and a test keeps it current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plugbay.connector_settings import ConnectorInfo

GENERATED_NOTE = (
    "<!-- Generated from the connectors' settings models by "
    "`python scripts/gen_connectors_doc.py`; do not edit by hand. -->"
)


def render_markdown(
    infos: Sequence[ConnectorInfo],
    *,
    readme_for: Callable[[ConnectorInfo], str | None] | None = None,
) -> str:
    """One section per connector with a table of its settings.

    Args:
        infos: The connectors, in the order to show them.
        readme_for: The link to a connector's own README (its tools and examples), or
            ``None`` for no link.

    Returns:
        The Markdown text, ending with a newline.
    """
    lines = [
        "# Connectors",
        "",
        GENERATED_NOTE,
        "",
        "The settings of each connector, as its settings model declares them. Configure an "
        "instance in `plugbay.toml` as `[connectors.<instance>]` with `plugin = "
        '"<connector>"` (the instance name defaults to the connector\'s), or start from '
        "`plugbay init`; `plugbay connectors show <connector>` prints the same table.",
        "",
        "Every setting can also come from the environment variable "
        "`PLUGBAY_<INSTANCE>__<SETTING>`, which wins over the file; the variables below are "
        "for an instance named after its connector. A secret belongs in the environment (or "
        '`.env` beside the file, or a `"${VAR}"` reference), not in the file.',
        "",
    ]
    lines += [f"- [{info.name}](#{info.name}): {info.description}" for info in infos]
    for info in infos:
        lines += ["", f"## {info.name}", "", info.description or "(no description)", ""]
        package = f"Plugin `{info.plugin}`"
        if info.distribution:
            package += f", package `{info.distribution}`"
        link = readme_for(info) if readme_for is not None else None
        if link:
            package += f"; its tools, examples and security notes: [README]({link})"
        lines += [package + ".", ""]
        if not info.settings:
            lines.append("No settings.")
            continue
        lines += [
            "| Setting | Type | Default | Required | Secret | Environment variable | Description |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in info.settings:
            default = f"`{_code(s.default)}`" if s.default is not None else ""
            cells = [
                f"`{s.name}`",
                _text(s.type),
                default,
                "yes" if s.required else "no",
                "yes" if s.secret else "no",
                f"`{s.variable(info.name)}`",
                _text(s.description),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    """``text`` safe inside a code span in a table cell: no line breaks, ``|`` escaped."""
    return " ".join(text.split()).replace("|", "\\|")


_MARKUP = str.maketrans({"|": "\\|", "*": "\\*", "_": "\\_", "~": "\\~", "<": "&lt;", ">": "&gt;"})


def _text(text: str) -> str:
    """``text`` as plain words in a table cell: what Markdown or HTML would read, escaped."""
    return " ".join(text.split()).translate(_MARKUP)
