"""Database values as JSON, with long values cut to a size a model can read."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

ELLIPSIS = "…"
MAX_SAFE_INTEGER = 2**53 - 1
"""Larger integers lose precision in JavaScript clients; they travel as strings."""

# The PostgreSQL type OIDs that asyncpg reports in cursor descriptions.
_POSTGRESQL_TYPES = {
    16: "boolean",
    17: "bytea",
    18: "char",
    19: "name",
    20: "bigint",
    21: "smallint",
    23: "integer",
    25: "text",
    26: "oid",
    114: "json",
    142: "xml",
    650: "cidr",
    700: "real",
    701: "double precision",
    790: "money",
    829: "macaddr",
    869: "inet",
    1000: "boolean[]",
    1005: "smallint[]",
    1007: "integer[]",
    1009: "text[]",
    1015: "varchar[]",
    1016: "bigint[]",
    1021: "real[]",
    1022: "double precision[]",
    1042: "char",
    1043: "varchar",
    1082: "date",
    1083: "time",
    1114: "timestamp",
    1184: "timestamptz",
    1186: "interval",
    1231: "numeric[]",
    1266: "timetz",
    1560: "bit",
    1562: "varbit",
    1700: "numeric",
    2950: "uuid",
    3802: "jsonb",
}
# MySQL protocol field types (MYSQL_TYPE_*), as PyMySQL-based drivers report them.
_MYSQL_TYPES = {
    0: "decimal",
    1: "tinyint",
    2: "smallint",
    3: "int",
    4: "float",
    5: "double",
    6: "null",
    7: "timestamp",
    8: "bigint",
    9: "mediumint",
    10: "date",
    11: "time",
    12: "datetime",
    13: "year",
    15: "varchar",
    16: "bit",
    245: "json",
    246: "decimal",
    247: "enum",
    248: "set",
    249: "tinyblob",
    250: "mediumblob",
    251: "longblob",
    252: "blob",
    253: "varchar",
    254: "char",
    255: "geometry",
}


def column_type(family: str, type_code: Any) -> str | None:
    """A readable type name for a result column, when the driver reports one."""
    if not isinstance(type_code, int):
        return None
    if family == "postgresql":
        return _POSTGRESQL_TYPES.get(type_code)
    if family == "mysql":
        return _MYSQL_TYPES.get(type_code)
    return None


class CellWriter:
    """Converts cells to JSON values, cutting long ones; counts the cells it cut."""

    __slots__ = ("cut", "max_bytes")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.cut = 0

    def row(self, values: Sequence[Any]) -> list[Any]:
        """One result row as a list of JSON values."""
        return [self.cell(value) for value in values]

    def cell(self, value: Any) -> Any:
        """One value as JSON; text, binary and nested values longer than the limit are cut."""
        # The common cases first: this runs once per cell.
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if isinstance(value, decimal.Decimal):
            return _decimal(value)
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self._binary(bytes(value))
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, Mapping | list | tuple):
            return self._nested(value)
        return self._text(str(value))

    def _text(self, text: str) -> str:
        # Cheap test first: a string of at most max_bytes/4 characters fits in any encoding.
        if len(text) * 4 <= self.max_bytes:
            return text
        data = text.encode("utf-8")
        if len(data) <= self.max_bytes:
            return text
        self.cut += 1
        return data[: self.max_bytes].decode("utf-8", "ignore") + ELLIPSIS

    def _binary(self, data: bytes) -> str:
        # PostgreSQL's hex format: \x followed by two digits per byte.
        if len(data) * 2 + 2 <= self.max_bytes:
            return "\\x" + data.hex()
        self.cut += 1
        return "\\x" + data[: (self.max_bytes - 2) // 2].hex() + ELLIPSIS

    def _nested(self, value: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> Any:
        inner = CellWriter(self.max_bytes)
        if isinstance(value, Mapping):
            converted: Any = {str(key): inner.cell(item) for key, item in value.items()}
        else:
            converted = [inner.cell(item) for item in value]
        text = json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
        if inner.cut == 0 and len(text.encode("utf-8")) <= self.max_bytes:
            return converted
        # Too big as a whole: send its JSON text, cut like any other text.
        self.cut += 1
        data = text.encode("utf-8")
        return data[: self.max_bytes].decode("utf-8", "ignore") + ELLIPSIS


def _decimal(value: decimal.Decimal) -> int | float | str:
    """A number when JSON carries it exactly, else its text (no silent rounding)."""
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        integral = int(value)
        if -MAX_SAFE_INTEGER <= integral <= MAX_SAFE_INTEGER:
            return integral
        return str(value)
    as_float = float(value)
    if decimal.Decimal(repr(as_float)) == value:
        return as_float
    return str(value)
