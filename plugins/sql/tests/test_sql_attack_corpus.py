"""Hundreds of attacks on the read-only guarantee, against the real PostgreSQL and MariaDB.

The corpus is generated: a few dozen harmful statements (writes, DDL, files written
and read on the server, locks that outlive a call, other sessions ended, session and
transaction control), each in many disguises (executable comments of every form,
``SET STATEMENT ... FOR``, comments and whitespace in front, letter case, quoted,
schema-qualified and Unicode-escaped function names with and without ``UESCAPE``,
stacked statements). Each goes through the ``query`` tool of a read-only instance with
a pool of one connection (what one attempt leaves meets the next); after each, from
another connection: the sentinel's rows and the schema unchanged, no file on disk, no
lock held by the instance, the victim session alive, no server file's text returned,
and a clean session for the instance's next call.

Three runs per database:

- ``least``: the least-privilege account the README recommends, with the connector's
  own checks switched off. Everything holds: the database and the reset do it alone.
- ``checked``: the privileged account (postgres, root) with the checks on. Everything
  holds, and every attempt is refused.
- ``privileged``: the privileged account with the checks off: what the database
  enforces on its own for such an account (the read-only transaction) and the reset.
  Files, server reads and other sessions are then only the account's privileges to
  stop, and so are MariaDB DDL statements run under ``SET STATEMENT tx_read_only = 0``
  (DDL commits the transaction): those attempts are not part of this run.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from plugbay import ToolError
from plugbay_testing import result_text as text_of

if TYPE_CHECKING:
    from conftest import ReaderGrants, SqlClient, TestDatabase

pytestmark = pytest.mark.anyio

INSTANCE = "corpus"
RUNS = ("least", "checked", "privileged")
BEYOND_THE_DATABASE = frozenset({"file", "read", "kill"})
"""Aims that only the account's privileges stop when the connector's checks are off."""


@dataclass(frozen=True)
class Attack:
    """One attempt: its SQL, what it aims at, and how it is dressed."""

    sql: str
    aims: frozenset[str]
    lifts_session: bool = False
    """Under ``SET STATEMENT tx_read_only = 0``: a MariaDB statement that commits (DDL,
    a procedure's ``COMMIT``) then escapes the read-only session."""
    harmless: bool = False
    """Nothing to refuse: it may succeed even with the checks on (a user variable)."""


@dataclass
class Corpus:
    """Where the attacks aim: a schema of their own, files, a lock, a victim session."""

    dialect: str
    admin_url: str
    reader_url: str
    schema: str
    file: Path
    secret: Path
    secret_text: str
    lock: str
    key: int
    victim: int = 0

    @property
    def s(self) -> str:
        return f"`{self.schema}`" if self.dialect == "mariadb" else f'"{self.schema}"'


# -- MariaDB ----------------------------------------------------------------------------

_MARIADB_CORES: list[tuple[str, str]] = [
    ("INSERT INTO {s}.sentinel VALUES (666)", "rows"),
    ("DELETE FROM {s}.sentinel", "rows"),
    ("UPDATE {s}.sentinel SET id = id + 100", "rows"),
    ("REPLACE INTO {s}.sentinel VALUES (1)", "rows"),
    ("SELECT {s}.sentinel_bump()", "rows"),
    ("DO {s}.sentinel_bump()", "rows"),
    ("CALL {s}.sentinel_proc()", "rows commits"),
    ("LOAD DATA INFILE '{secret}' INTO TABLE {s}.sentinel", "rows read"),
    ("CREATE TABLE {s}.evil (id int)", "tables commits"),
    ("CREATE OR REPLACE TABLE {s}.sentinel (id int) ENGINE=InnoDB", "rows tables commits"),
    ("CREATE OR REPLACE TABLE {s}.sentinel ENGINE=InnoDB AS SELECT 7 AS id", "rows tables commits"),
    ("DROP TABLE {s}.sentinel", "rows tables commits"),
    ("TRUNCATE TABLE {s}.sentinel", "rows commits"),
    ("ALTER TABLE {s}.sentinel ADD COLUMN evil int", "tables commits"),
    ("RENAME TABLE {s}.sentinel TO {s}.moved", "tables commits"),
    ("CREATE TEMPORARY TABLE {s}.evil_tmp (id int)", "session"),
    ("SELECT 1 INTO OUTFILE '{file}'", "file"),
    ("SELECT id FROM {s}.sentinel INTO DUMPFILE '{file}'", "file"),
    ("SELECT LOAD_FILE('{secret}') AS x", "read"),
    ("SELECT GET_LOCK('{lock}', 0)", "lock"),
    ("DO GET_LOCK('{lock}', 0)", "lock"),
    ("LOCK TABLES {s}.sentinel READ", "lock"),
    ("HANDLER {s}.sentinel OPEN", "session"),
    ("SET SESSION tx_read_only = 0", "session"),
    ("SET @plugbay_mark = 1", "session"),
    ("SET autocommit = 1", "session"),
    ("START TRANSACTION READ WRITE", "session"),
    ("COMMIT", "session"),
    ("ROLLBACK", "session"),
    ("BEGIN", "session"),
    ("SAVEPOINT evil", "session"),
    ("PREPARE evil FROM 'DELETE FROM {s}.sentinel'", "session"),
    ("KILL {victim}", "kill"),
    ("KILL QUERY {victim}", "kill"),
]
_MARIADB_WRAPPERS: list[tuple[str, bool]] = [
    ("{c}", False),
    (" \n\t{c};", False),
    ("-- x\n{c}", False),
    ("--x\n{c}", False),
    ("# x\n{c}", False),
    ("/* x */ {c}", False),
    ("{lower}", False),
    ("SET STATEMENT tx_read_only = 0 FOR {c}", True),
    ("SET STATEMENT tx_read_only=0, max_statement_time=0 FOR {c}", True),
    ("/*!{c}*/", False),
    ("/*!50000 {c}*/", False),
    ("/*M!{c}*/", False),
    ("/*M!100400 {c}*/", False),
    ("/*!SET STATEMENT tx_read_only=0 FOR*/ {c}", True),
    ("/*M!100300 SET STATEMENT tx_read_only=0 FOR */{c}", True),
    ("SELECT 1; {c}", False),
]
_MARIADB_HIDDEN = [
    (
        "/*!CREATE OR REPLACE TABLE {s}.sentinel ENGINE=InnoDB */ SELECT 7 AS id",
        "rows commits",
        False,
    ),
    (
        "/*!SET STATEMENT tx_read_only=0 FOR CREATE OR REPLACE TABLE {s}.sentinel */ SELECT 7",
        "rows commits",
        True,
    ),
    ("SELECT 1 AS x /*!INTO OUTFILE '{file}'*/ FROM DUAL", "file", False),
    ("SELECT 1 AS x /*M!100000 INTO DUMPFILE '{file}'*/ FROM DUAL", "file", False),
    ("SELECT /*!GET_LOCK('{lock}', 0),*/ 1 AS x", "lock", False),
    ("/*!SET STATEMENT tx_read_only=0 FOR*/ SELECT {s}.sentinel_bump()", "rows", True),
    ("SELECT @plugbay_mark := 1 AS x", "session", False),
]


def mariadb_attacks(corpus: Corpus) -> list[Attack]:
    """The MariaDB corpus: every core statement in every wrapper, and hidden forms."""
    fields = _fields(corpus)
    attacks = []
    for core, aims in _MARIADB_CORES:
        statement = core.format(**fields)
        for wrapper, lifts in _MARIADB_WRAPPERS:
            sql = wrapper.format(c=statement, lower=statement.lower())
            attacks.append(Attack(sql, frozenset(aims.split()), lifts_session=lifts))
    for hidden, aims, lifts in _MARIADB_HIDDEN:
        harmless = hidden.startswith("SELECT @")
        attacks.append(
            Attack(hidden.format(**fields), frozenset(aims.split()), lifts, harmless=harmless)
        )
    return attacks


# -- PostgreSQL -------------------------------------------------------------------------

_PG_FUNCTION_CORES: list[tuple[str, str, str]] = [
    ("pg_read_file", "SELECT {fn}('{secret}')", "read"),
    ("pg_read_binary_file", "SELECT {fn}('{secret}')", "read"),
    ("pg_ls_dir", "SELECT * FROM {fn}('{secret_dir}') AS f", "read"),
    ("pg_terminate_backend", "SELECT {fn}({victim})", "kill"),
    ("pg_cancel_backend", "SELECT {fn}({victim})", "kill"),
    ("pg_advisory_lock", "SELECT {fn}({key})", "lock"),
    ("pg_advisory_lock_shared", "SELECT {fn}({key})", "lock"),
    ("pg_try_advisory_lock", "SELECT {fn}({key})", "lock"),
    ("lo_export", "SELECT {fn}(lo_from_bytea(0, 'x'), '{file}')", "file"),
    ("lo_import", "SELECT {fn}('{secret}')", "read rows"),
    ("set_config", "SELECT {fn}('statement_timeout', '0', false)", "session"),
    ("query_to_xml", "SELECT {fn}('SELECT pg_read_file(''{secret}'')', true, true, '')", "read"),
    ("ts_stat", "SELECT * FROM {fn}('SELECT to_tsvector(pg_read_file(''{secret}''))')", "read"),
    ("dblink_exec", "SELECT {fn}('dbname=test', 'DELETE FROM {s}.sentinel')", "rows"),
]
_PG_CORES: list[tuple[str, str]] = [
    ("INSERT INTO {s}.sentinel VALUES (666)", "rows"),
    ("DELETE FROM {s}.sentinel", "rows"),
    ("UPDATE {s}.sentinel SET id = id + 100", "rows"),
    ("WITH gone AS (DELETE FROM {s}.sentinel RETURNING id) SELECT count(*) FROM gone", "rows"),
    ("SELECT {s}.sentinel_bump()", "rows"),
    ("DO $$ BEGIN DELETE FROM {s}.sentinel; END $$", "rows"),
    ("CALL {s}.sentinel_proc()", "rows"),
    ("COPY {s}.sentinel FROM '{secret}'", "rows read"),
    ("CREATE TABLE {s}.evil (id int)", "tables"),
    ("DROP TABLE {s}.sentinel", "rows tables"),
    ("ALTER TABLE {s}.sentinel ADD COLUMN evil int", "tables"),
    ("SELECT * INTO {s}.evil FROM {s}.sentinel", "tables"),
    ("CREATE TEMP TABLE evil_tmp AS SELECT 1 AS id", "session"),
    ("COPY (SELECT 1) TO '{file}'", "file"),
    ("COPY {s}.sentinel TO PROGRAM 'touch {file}'", "file"),
    ("COPY {s}.sentinel FROM PROGRAM 'touch {file}; echo 5'", "rows file"),
    ("SET statement_timeout = 0", "session"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "session"),
    ("PREPARE evil AS SELECT 1", "session"),
    ("LISTEN plugbay_evil", "session"),
    ("DECLARE evil CURSOR WITH HOLD FOR SELECT 1", "session"),
    ("LOCK TABLE {s}.sentinel IN ACCESS EXCLUSIVE MODE", "lock"),
    ("COMMIT", "session"),
    ("ROLLBACK", "session"),
    ("SET TRANSACTION READ WRITE", "session"),
    ("SAVEPOINT evil", "session"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = {victim}", "kill"),
]
_PG_STATEMENT_WRAPPERS = [
    "{c}",
    "{c};",
    "-- x\n{c}",
    "/* x */ {c}",
    "/* /* */ SELECT 1 */ {c}",
    " \n\t{c}",
    "BEGIN; {c}",
    "SELECT 1; {c}",
]
_PG_NAME_FORMS: list[Callable[[str], str]] = [
    lambda name: name,
    lambda name: name.upper(),
    lambda name: f'"{name}"',
    lambda name: f"pg_catalog.{name}",
    lambda name: f'"pg_catalog" . "{name}"',
    lambda name: 'U&"' + "".join(f"\\{ord(char):04x}" for char in name) + '"',
    lambda name: f'U&"\\{ord(name[0]):04X}{name[1:]}"',
    lambda name: f'U&"\\+{ord(name[0]):06x}{name[1:]}"',
    lambda name: f"U&\"!{ord(name[0]):04x}{name[1:]}\" UESCAPE '!'",
    lambda name: f"u&\"#{ord(name[0]):04x}{name[1:-1]}#{ord(name[-1]):04x}\" /* c */ UESCAPE '#'",
    lambda name: f'pg_catalog.U&"\\{ord(name[0]):04x}{name[1:]}"',
]


def postgres_attacks(corpus: Corpus) -> list[Attack]:
    """The PostgreSQL corpus: function names in every spelling, statements in wrappers."""
    fields = _fields(corpus)
    attacks = []
    for name, core, aims in _PG_FUNCTION_CORES:
        for form in _PG_NAME_FORMS:
            statement = core.format(fn=form(name), **fields)
            for wrapper in _PG_STATEMENT_WRAPPERS[1:3]:
                attacks.append(Attack(wrapper.format(c=statement), frozenset(aims.split())))
    for core, aims in _PG_CORES:
        statement = core.format(**fields)
        for wrapper in _PG_STATEMENT_WRAPPERS:
            attacks.append(Attack(wrapper.format(c=statement), frozenset(aims.split())))
    return attacks


def _fields(corpus: Corpus) -> dict[str, Any]:
    return {
        "s": corpus.s,
        "file": corpus.file,
        "secret": corpus.secret,
        "secret_dir": corpus.secret.parent,
        "lock": corpus.lock,
        "key": corpus.key,
        "victim": corpus.victim,
    }


# -- the runs ---------------------------------------------------------------------------


def _setup_sql(corpus: Corpus, reader: str, grants: ReaderGrants) -> list[str]:
    s = corpus.s
    database = make_url(corpus.admin_url).database or ""
    if corpus.dialect == "mariadb":
        return [
            f"CREATE DATABASE {s}",
            f"CREATE TABLE {s}.sentinel (id int PRIMARY KEY) ENGINE=InnoDB",
            f"INSERT INTO {s}.sentinel VALUES (1), (2), (3)",
            f"CREATE FUNCTION {s}.sentinel_bump() RETURNS int MODIFIES SQL DATA BEGIN "
            f"INSERT INTO {s}.sentinel VALUES (100); RETURN 1; END",
            f"CREATE PROCEDURE {s}.sentinel_proc() MODIFIES SQL DATA BEGIN COMMIT; "
            f"DELETE FROM {s}.sentinel; COMMIT; END",
            *grants(reader, database, corpus.schema),
        ]
    return [
        f"CREATE SCHEMA {s}",
        f"CREATE TABLE {s}.sentinel (id int PRIMARY KEY)",
        f"INSERT INTO {s}.sentinel VALUES (1), (2), (3)",
        f"CREATE FUNCTION {s}.sentinel_bump() RETURNS int VOLATILE LANGUAGE sql AS "
        f"$$ INSERT INTO {s}.sentinel VALUES (100) RETURNING id $$",
        f"CREATE PROCEDURE {s}.sentinel_proc() LANGUAGE plpgsql AS "
        f"$$ BEGIN COMMIT; DELETE FROM {s}.sentinel; COMMIT; END $$",
        *grants(reader, database, corpus.schema),
    ]


def _teardown_sql(corpus: Corpus, reader: str) -> list[str]:
    if corpus.dialect == "mariadb":
        return [f"DROP DATABASE {corpus.s}", f"DROP USER '{reader}'@'%'"]
    return [f"DROP SCHEMA {corpus.s} CASCADE", f'DROP OWNED BY "{reader}"', f'DROP ROLE "{reader}"']


@pytest.fixture
def corpus_dir() -> Iterator[Path]:
    """A directory the database servers may write into, with a secret they may read."""
    directory = Path("/tmp") / f"plugbay-corpus-{uuid.uuid4().hex[:10]}"
    directory.mkdir()
    directory.chmod(0o777)
    try:
        yield directory
    finally:
        for each in directory.iterdir():
            each.unlink()
        directory.rmdir()


@contextlib.asynccontextmanager
async def _corpus(
    db: TestDatabase, directory: Path, grants: ReaderGrants
) -> AsyncIterator[tuple[Corpus, AsyncConnection, AsyncConnection]]:
    """A schema with a sentinel table and a reader; yields it, an admin and a victim."""
    token = uuid.uuid4().hex[:10]
    reader = f"plugbay_corpus_{token}"
    secret = directory / "secret.txt"
    secret_text = f"plugbay-secret-{token}"
    secret.write_text(secret_text + "\n")
    secret.chmod(0o644)
    (directory / f"listed-{token}").write_text("x")
    schema = f"plugbay_corpus_{token}"
    admin_url = db.url
    if db.dialect == "mariadb":
        admin_url = make_url(db.url).set(database=schema).render_as_string(hide_password=False)
    corpus = Corpus(
        dialect=db.dialect,
        admin_url=admin_url,
        reader_url=make_url(admin_url).set(username=reader).render_as_string(hide_password=False),
        schema=schema,
        file=directory / "written",
        secret=secret,
        secret_text=secret_text,
        lock=f"plugbay-{token}",
        key=int(token[:6], 16),
    )
    engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as admin:
            for statement in _setup_sql(corpus, reader, grants):
                await admin.execute(text(statement))
            try:
                async with engine.connect() as victim:
                    pid = "CONNECTION_ID()" if db.dialect == "mariadb" else "pg_backend_pid()"
                    corpus.victim = int((await victim.exec_driver_sql(f"SELECT {pid}")).scalar())
                    yield corpus, admin, victim
            finally:
                for statement in _teardown_sql(corpus, reader):
                    await admin.execute(text(statement))
    finally:
        await engine.dispose()


async def _database_state(corpus: Corpus, admin: AsyncConnection) -> tuple[Any, ...]:
    """Rows, columns and locks as another connection sees them."""
    s = corpus.s
    if corpus.dialect == "mariadb":
        row = (
            await admin.execute(
                text(
                    f"SELECT (SELECT GROUP_CONCAT(id ORDER BY id) FROM {s}.sentinel), "
                    "(SELECT GROUP_CONCAT(CONCAT(table_name, '.', column_name) "
                    "ORDER BY table_name, column_name) FROM information_schema.columns "
                    "WHERE table_schema = :schema), IS_USED_LOCK(:lock)"
                ),
                {"schema": corpus.schema, "lock": corpus.lock},
            )
        ).one()
        in_use = await admin.exec_driver_sql(f"SHOW OPEN TABLES FROM {s} WHERE In_use > 0")
        return (*row, in_use.fetchall())
    row = (
        await admin.execute(
            text(
                f"SELECT (SELECT string_agg(CAST(id AS text), ',' ORDER BY id) FROM {s}.sentinel), "
                "(SELECT string_agg(table_name || '.' || column_name, ',' "
                "ORDER BY table_name, column_name) FROM information_schema.columns "
                "WHERE table_schema = :schema), "
                "(SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.application_name = :app)"
            ),
            {"schema": corpus.schema, "app": f"plugbay-sql {INSTANCE}"},
        )
    ).one()
    return tuple(row)


async def _session_state(corpus: Corpus, sql: SqlClient) -> Any:
    """What the instance's next call finds in its session."""
    if corpus.dialect == "mariadb":
        probe = "SELECT @plugbay_mark AS mark, @@session.autocommit AS autocommit"
        return (await sql.connector.query(probe))["rows"]
    probe = (
        "SELECT current_setting('statement_timeout') AS timeout, "
        "(SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE from_sql) AS prepared, "
        "(SELECT count(*) FROM pg_catalog.pg_cursors) AS cursors, "
        "(SELECT count(*) FROM pg_catalog.pg_listening_channels()) AS channels, "
        "(SELECT count(*) FROM pg_catalog.pg_class WHERE relpersistence = 't') AS temporary"
    )
    return (await sql.connector.query(probe))["rows"]


def _in_run(attack: Attack, run: str) -> bool:
    if run != "privileged":
        return True
    if attack.aims & BEYOND_THE_DATABASE:
        return False
    return not (attack.lifts_session and "commits" in attack.aims)


async def _run_corpus(
    corpus: Corpus,
    attacks: list[Attack],
    run: str,
    sql: SqlClient,
    admin: AsyncConnection,
    victim: AsyncConnection,
) -> tuple[int, int]:
    """Every attack of the run, each followed by every check; (attempted, succeeded)."""
    database_before = await _database_state(corpus, admin)
    session_before = await _session_state(corpus, sql)
    attempted = succeeded = 0
    for attack in (each for each in attacks if _in_run(each, run)):
        attempted += 1
        result = await sql.harness.call("query", sql=attack.sql)
        message = text_of(result)
        where = f"{run}: {attack.sql!r} -> {message[:200]!r}"
        assert "failed unexpectedly" not in message, where
        assert "Traceback" not in message, where
        if run == "checked" and not attack.harmless:
            assert result.is_error, where
        succeeded += not result.is_error
        assert sql.checked_out() == 0, where
        assert await _database_state(corpus, admin) == database_before, where
        assert await _session_state(corpus, sql) == session_before, where
        assert not corpus.file.exists(), where
        assert corpus.secret_text not in message, where
        assert "listed-" not in message, where
        if "session" in attack.aims and corpus.dialect == "mariadb":
            with pytest.raises(ToolError, match="doesn't exist"):
                await sql.connector.query(f"SELECT COUNT(*) AS n FROM {corpus.s}.evil_tmp")
        if "kill" in attack.aims:
            assert (await victim.exec_driver_sql("SELECT 1")).scalar() == 1, where
    return attempted, succeeded


async def _attack(
    db: TestDatabase,
    run: str,
    directory: Path,
    grants: ReaderGrants,
    generate: Callable[[Corpus], list[Attack]],
) -> None:
    async with _corpus(db, directory, grants) as (corpus, admin, victim):
        url = corpus.reader_url if run == "least" else corpus.admin_url
        settings = {"url": url, "schemas": [corpus.schema], "pool_size": 1}
        attacks = generate(corpus)
        async with db.serve(INSTANCE, **settings) as sql:
            attempted, succeeded = await _run_corpus(corpus, attacks, run, sql, admin, victim)
    assert attempted >= (150 if run == "privileged" else 300)
    if run == "checked":
        assert succeeded <= 1  # a user variable set in a SELECT; the reset clears it
    else:
        # The checks were really off: the database let some through (locks taken, then
        # released by the reset; session settings changed, then undone).
        assert succeeded > 0


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
async def test_read_only_holds_against_the_corpus(
    dialect: str,
    run: str,
    corpus_dir: Path,
    reader_grants: dict[str, ReaderGrants],
    request: pytest.FixtureRequest,
) -> None:
    db: TestDatabase = request.getfixturevalue(dialect)
    if run != "checked":
        request.getfixturevalue("without_sql_checks")
    generate = mariadb_attacks if dialect == "mariadb" else postgres_attacks
    await _attack(db, run, corpus_dir, reader_grants[dialect], generate)
