"""What the configured database account may do, checked when an instance starts.

A read-only instance keeps its calls read-only with read-only transactions, and the
connector's own checks refuse what those do not stop. Behind both, the account's
privileges are the last word: an account that may only read cannot write, read
server files or end other sessions, whatever a statement manages to say. So at start
the connector asks the database what the account may do and, when it may do more
than read, logs a warning naming the grants to drop (and, with
``refuse_privileged_account``, refuses to start).

- PostgreSQL: superuser and other role attributes, membership of
  ``pg_read_server_files``, ``pg_write_server_files``, ``pg_execute_server_program``,
  ``pg_signal_backend`` and ``pg_write_all_data``, ``EXECUTE`` on server-file
  functions, ``INSERT``/``UPDATE``/``DELETE``/``TRUNCATE`` on tables, ``CREATE`` on
  schemas and on the database. Of the login role (``session_user``): a statement
  could leave ``read_only_role`` with ``RESET ROLE``.
- MariaDB/MySQL: every privilege in ``SHOW GRANTS`` (and in the grants of the roles
  it lists) other than ``SELECT``, ``SHOW VIEW``, ``SHOW DATABASES`` and ``USAGE``.
- SQLite: nothing to ask; read-only instances open the file read-only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from plugbay import ToolError
from plugbay_sql.database import Database

logger = logging.getLogger(__name__)

SERVER_ROLES = (
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_signal_backend",
    "pg_write_all_data",
)
"""PostgreSQL roles whose members reach server files, programs or other sessions, or write."""
SERVER_FUNCTIONS = (
    "pg_catalog.pg_read_file(text)",
    "pg_catalog.pg_read_binary_file(text)",
    "pg_catalog.pg_ls_dir(text)",
    "pg_catalog.pg_stat_file(text)",
    "pg_catalog.lo_import(text)",
    "pg_catalog.lo_export(oid, text)",
)
"""Server-file functions an account may have been granted ``EXECUTE`` on directly."""
READ_PRIVILEGES = frozenset({"USAGE", "SELECT", "SHOW VIEW", "SHOW DATABASES"})
"""MariaDB/MySQL privileges a read-only account may hold."""
MYSQL_SERVER_PRIVILEGES = frozenset(
    {
        "ALL PRIVILEGES",
        "FILE",
        "SUPER",
        "PROCESS",
        "RELOAD",
        "SHUTDOWN",
        "CONNECTION ADMIN",
        "CREATE USER",
        "READ_ONLY ADMIN",
        "BINLOG ADMIN",
        "SET USER",
        "GRANT OPTION",
    }
)
"""MariaDB/MySQL privileges that reach past the databases: server files, other sessions."""
MAX_LISTED = 8
_GRANT_ON = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>.+?) TO (?P<grantee>\S+)")
_GRANT_ROLE = re.compile(r"^GRANT (?P<role>`[^`]+`|'[^']+'|\S+) TO (?P<grantee>\S+)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the account may do beyond reading.

    Attributes:
        what: What it may do, e.g. ``SUPERUSER`` or ``INSERT on shop.orders``.
        fix: The statement (or step) that takes it away.
        server: Whether it reaches the server itself (files, programs, other sessions),
            which matters even on an instance that allows writes.
    """

    what: str
    fix: str
    server: bool


async def check_account(database: Database, instance: str) -> None:
    """Warn about (or, with ``refuse_privileged_account``, refuse) a too powerful account.

    On read-only instances every privilege beyond reading counts; on instances that
    allow writes, only those that reach the server itself.

    Raises:
        RuntimeError: The account may do more than it should and the instance is set
            to refuse such an account.
    """
    settings = database.settings
    if database.family == "postgresql":
        ask = _postgres_findings
    elif database.family == "mysql":
        ask = _mysql_findings
    else:
        return
    try:
        findings = await database.run(ask)
    except ToolError as error:
        # Unknown is not clean: with refuse_privileged_account, an account whose
        # privileges cannot be read does not start either.
        message = f"sql instance {instance}: could not read the account's privileges ({error})."
        if settings.refuse_privileged_account:
            raise RuntimeError(
                f"{message} The instance refuses to start (refuse_privileged_account = true)."
            ) from None
        logger.warning("%s Connect as a read-only account (see the plugbay-sql README).", message)
        return
    if settings.allow_writes:
        findings = [finding for finding in findings if finding.server]
    if not findings:
        return
    message = describe(instance, findings, writes=settings.allow_writes)
    if settings.refuse_privileged_account:
        raise RuntimeError(
            f"{message} The instance refuses to start (refuse_privileged_account = true)."
        )
    logger.warning("%s Set refuse_privileged_account = true to refuse such an account.", message)


def describe(instance: str, findings: Sequence[Finding], *, writes: bool) -> str:
    """One message naming what the account may do and the statements that stop it."""
    shown = findings[:MAX_LISTED]
    more = f" (and {len(findings) - MAX_LISTED} more)" if len(findings) > MAX_LISTED else ""
    what = "; ".join(finding.what for finding in shown) + more
    fixes = "; ".join(dict.fromkeys(finding.fix for finding in shown))
    scope = "reach the database server" if writes else "do more than read"
    return (
        f"sql instance {instance}: the database account may {scope}: {what}. Read-only "
        "transactions and the connector's checks stand in front of it, but the account's "
        f"privileges are the last word. Drop them ({fixes}), or connect as a read-only "
        "account (plugbay-sql README, 'Least-privilege accounts')."
    )


# -- PostgreSQL -----------------------------------------------------------------------

_PG_ROLE = text(
    "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
    "FROM pg_catalog.pg_roles WHERE rolname = session_user"
)
_PG_MEMBERSHIPS = text(
    "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(:roles) "
    "AND pg_catalog.pg_has_role(session_user, oid, 'MEMBER') ORDER BY rolname"
)
_PG_FUNCTIONS = text(
    "SELECT signature FROM unnest(CAST(:signatures AS text[])) AS signature "
    "WHERE to_regprocedure(signature) IS NOT NULL AND "
    "has_function_privilege(session_user, to_regprocedure(signature), 'EXECUTE')"
)
_PG_TABLES = text(
    "SELECT n.nspname, c.relname, "
    "array_remove(ARRAY["
    "CASE WHEN has_table_privilege(session_user, c.oid, 'INSERT') THEN 'INSERT' END, "
    "CASE WHEN has_table_privilege(session_user, c.oid, 'UPDATE') THEN 'UPDATE' END, "
    "CASE WHEN has_table_privilege(session_user, c.oid, 'DELETE') THEN 'DELETE' END, "
    "CASE WHEN has_table_privilege(session_user, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END"
    "], NULL), pg_catalog.pg_has_role(session_user, c.relowner, 'USAGE') "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_%' "
    "AND has_table_privilege(session_user, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') "
    "ORDER BY 1, 2 LIMIT :limit"
)
_PG_SCHEMAS = text(
    "SELECT nspname FROM pg_catalog.pg_namespace "
    "WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%' "
    "AND has_schema_privilege(session_user, oid, 'CREATE') ORDER BY 1 LIMIT :limit"
)
_PG_DATABASE = text(
    "SELECT current_database(), has_database_privilege(session_user, current_database(), 'CREATE')"
)


def _pg_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _postgres_findings(conn: AsyncConnection) -> list[Finding]:
    role = (await conn.execute(_PG_ROLE)).one()
    user = _pg_name(role[0])
    if role[1]:
        # A superuser may do everything: listing what else it may do adds nothing.
        return [Finding("SUPERUSER", f"connect as another role than the superuser {user}", True)]
    findings: list[Finding] = []
    attributes = ("CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS")
    for attribute, held in zip(attributes, role[2:], strict=True):
        if held:
            findings.append(
                Finding(
                    attribute, f"ALTER ROLE {user} NO{attribute}", server=attribute != "CREATEDB"
                )
            )
    roles = (await conn.execute(_PG_MEMBERSHIPS, {"roles": list(SERVER_ROLES)})).scalars()
    for name in roles:
        findings.append(Finding(f"member of {name}", f"REVOKE {name} FROM {user}", server=True))
    functions = (
        await conn.execute(_PG_FUNCTIONS, {"signatures": list(SERVER_FUNCTIONS)})
    ).scalars()
    for signature in functions:
        findings.append(
            Finding(
                f"EXECUTE on {signature}",
                f"REVOKE EXECUTE ON FUNCTION {signature} FROM {user}",
                server=True,
            )
        )
    for schema, table, privileges, owner in await conn.execute(
        _PG_TABLES, {"limit": MAX_LISTED * 4}
    ):
        name = f"{_pg_name(schema)}.{_pg_name(table)}"
        if owner:
            findings.append(
                Finding(
                    f"owns {name}",
                    f"connect as a role that does not own {name}",
                    server=False,
                )
            )
        else:
            granted = ", ".join(privileges)
            findings.append(
                Finding(f"{granted} on {name}", f"REVOKE {granted} ON {name} FROM {user}", False)
            )
    for (schema,) in await conn.execute(_PG_SCHEMAS, {"limit": MAX_LISTED}):
        name = _pg_name(schema)
        findings.append(
            Finding(
                f"CREATE on schema {name}", f"REVOKE CREATE ON SCHEMA {name} FROM {user}", False
            )
        )
    database, create = (await conn.execute(_PG_DATABASE)).one()
    if create:
        name = _pg_name(database)
        findings.append(
            Finding(
                f"CREATE on database {name}",
                f"REVOKE CREATE ON DATABASE {name} FROM {user}",
                server=False,
            )
        )
    return findings


# -- MariaDB / MySQL ------------------------------------------------------------------


async def _mysql_findings(conn: AsyncConnection) -> list[Finding]:
    findings: list[Finding] = []
    pending: list[str | None] = [None]  # the current user, then the roles it may use
    seen: set[str] = set()
    while pending:
        role = pending.pop()
        statement = "SHOW GRANTS" if role is None else f"SHOW GRANTS FOR {role}"
        for (line,) in await conn.exec_driver_sql(statement):
            granted_role = _role_grant(str(line))
            if granted_role is not None:
                if granted_role not in seen:
                    seen.add(granted_role)
                    pending.append(granted_role)
                continue
            findings.extend(_grant_findings(str(line)))
    return list(dict.fromkeys(findings))


def _role_grant(line: str) -> str | None:
    """The role a ``GRANT role TO user`` line grants, quoted as it appears."""
    if " ON " in line:
        return None
    match = _GRANT_ROLE.match(line)
    return match.group("role") if match else None


def _grant_findings(line: str) -> list[Finding]:
    """What one ``GRANT ... ON ... TO ...`` line of ``SHOW GRANTS`` allows beyond reading."""
    match = _GRANT_ON.match(line)
    if match is None:
        return []
    target, grantee = match.group("target"), match.group("grantee")
    privileges = [_privilege_name(part) for part in _split_top_level(match.group("privileges"))]
    if privileges == ["PROXY"]:
        return []  # who may log in as whom: no rights for this session
    extra = [name for name in privileges if name not in READ_PRIVILEGES]
    if "WITH GRANT OPTION" in line.upper():
        extra.append("GRANT OPTION")
    findings = []
    for name in extra:
        revoke = "GRANT OPTION" if name == "GRANT OPTION" else name
        findings.append(
            Finding(
                f"{name} on {target}",
                f"REVOKE {revoke} ON {target} FROM {grantee}",
                server=name in MYSQL_SERVER_PRIVILEGES,
            )
        )
    return findings


def _split_top_level(privileges: str) -> list[str]:
    """``SELECT (a, b), INSERT`` -> ``["SELECT (a, b)", "INSERT"]``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in privileges:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _privilege_name(part: str) -> str:
    """A privilege without its column list, upper case, single-spaced."""
    name = part.split("(", 1)[0]
    return " ".join(name.upper().split())
