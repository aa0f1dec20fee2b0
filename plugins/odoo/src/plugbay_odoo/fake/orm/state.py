"""What the parts of the ORM share, declared once for the type checker.

:class:`~plugbay_odoo.fake.orm.engine.Orm` mixes in one class per concept (domains,
reading, writing, grouping). Each derives from :class:`OrmState`, which declares the
state the engine sets up and the methods the parts call on each other, so that each
part type-checks on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugbay_odoo.fake.orm.schema import Field, Model, Row


class OrmState:
    """The tables, the models and the current user, shared by every part of the ORM."""

    models: dict[str, Model]
    tables: dict[str, dict[int, Row]]
    next_id: dict[str, int]
    uid: int
    _is_admin: Callable[[int], bool]
    _can: Callable[[int, str, str], bool]

    if TYPE_CHECKING:  # implemented by the engine and the parts; declared for the others

        def model(self, name: str) -> Model:
            """The model ``name``, or Odoo's error for an unknown one."""

        def check_access(self, model: Model, operation: str) -> None:
            """Raise Odoo's ``AccessError`` when the current user lacks ``operation``."""

        def _readable(self, model: Model, definition: Field) -> bool: ...
        def _check_fields_readable(self, model: Model, names: Iterable[str]) -> None: ...
        def value(self, model: Model, row: Row, name: str) -> Any:
            """The value of field ``name`` of ``row``, computed fields included."""

        def display_name(self, model: Model, row: Row) -> str:
            """The record's display name."""

        def _related_ids(self, model: Model, row: Row, definition: Field) -> list[int]: ...
        def _read_value(self, model: Model, row: Row, name: str) -> Any: ...
        def _sort(self, model: Model, rows: list[Row], order: str | None) -> list[Row]: ...
        def _rank(self, model: Model, definition: Field) -> dict[int, Any]: ...
        def _search_rows(
            self, model: Model, domain: Any, context: Mapping[str, Any] | None = None
        ) -> list[Row]: ...
