"""Path settings: a relative path starts from the folder of the file that wrote it.

A connector declares a setting as :data:`ConfigPath` (or passes a path it finds inside
another value, such as a SQLite URL, to :func:`resolve_setting_path`) and gets an
absolute path with ``~`` expanded. A relative value starts from:

- the folder of the configuration file, when the value comes from that file
  (``${VAR}`` included: the value is written where the file is);
- the working directory, when it comes from a ``PLUGBAY_<INSTANCE>__<SETTING>``
  variable, when there is no configuration file, or when a model is validated
  outside the host (a plugin's own tests).

The host passes what it knows through pydantic's validation context
(:func:`settings_context`), so a settings model needs nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

BASE_KEY = "plugbay_config_dir"
"""Validation-context key: the configuration file's folder, or ``None`` without a file."""
FROM_ENVIRONMENT_KEY = "plugbay_settings_from_environment"
"""Validation-context key: the settings whose values came from ``PLUGBAY_*`` variables."""


def settings_context(base: Path | None, from_environment: Iterable[str] = ()) -> dict[str, Any]:
    """The validation context that tells path settings where relative values start.

    Args:
        base: The folder of the configuration file, or ``None`` when there is none.
        from_environment: Names of the settings given by environment variables.

    Returns:
        A dict for ``model_validate(..., context=...)``.
    """
    return {
        BASE_KEY: base.absolute() if base is not None else None,
        FROM_ENVIRONMENT_KEY: frozenset(from_environment),
    }


def resolve_setting_path(value: str | os.PathLike[str], info: ValidationInfo) -> Path:
    """``value`` as an absolute path: ``~`` expanded, a relative one made absolute.

    Call it from a validator of a setting that holds a path inside something else
    (the file of a ``sqlite:///`` URL); plain path settings use :data:`ConfigPath`.

    Args:
        value: The path as written.
        info: The validator's :class:`pydantic.ValidationInfo`, whose context and field
            name say where the value came from (see the module's docstring).

    Raises:
        ValueError: The path is empty or contains a NUL character.
    """
    text = os.fspath(value)
    if not text.strip():
        raise ValueError("a path may not be empty")
    if "\x00" in text:
        raise ValueError("a path may not contain a NUL character")
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    return _base_for(info) / path


def _base_for(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    base = context.get(BASE_KEY)
    from_environment = context.get(FROM_ENVIRONMENT_KEY, frozenset())
    if not isinstance(base, Path) or info.field_name in from_environment:
        return Path.cwd()
    return base


def _path_setting(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str | os.PathLike):
        return resolve_setting_path(value, info)
    return value  # anything else is left to pydantic's own Path validation to refuse


ConfigPath = Annotated[Path, BeforeValidator(_path_setting)]
"""A filesystem path setting, absolute once validated.

``~`` is expanded; a relative path starts from the configuration file's folder when
the file set it, else from the working directory (see :mod:`plugbay.setting_paths`)::

    class NotesSettings(Settings):
        folder: ConfigPath
        key_file: ConfigPath | None = None
        extra: list[ConfigPath] = []

Defaults are not validated, so a relative default stays relative (and starts from the
working directory when used).
"""
