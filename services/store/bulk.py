"""The two ways store writes many rows at once, each database's fastest honest path.

- ``executemany``: SQLAlchemy's "insertmanyvalues" turns a list of rows into multi-row ``INSERT ...
  VALUES`` statements (``ON CONFLICT`` and ``RETURNING`` included), on SQLite and PostgreSQL alike.
- ``copy`` (PostgreSQL only, the default): binary ``COPY`` of the rows into a temporary staging
  table, then one ``INSERT ... SELECT ... ON CONFLICT`` to merge them; rows that cannot conflict
  (``finish=None``) are copied straight into their table. The merge is the same statement as above,
  so both paths have the same effect; ``make bench-store`` measures which is faster (``copy``, by
  1.2 to 2 times).

Both run inside the caller's transaction; nothing here commits.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    any_,
    bindparam,
    delete,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

WritePath = Literal["executemany", "copy"]
# Builds the conflict clause (and RETURNING, if wanted) onto a dialect's INSERT.
Finish = Callable[[Any], Any] | None

# Below this many rows a staging table costs more than it saves.
COPY_MIN_ROWS = 50
# SQLite binds each id of an IN list as its own parameter; keep well under its limit.
SQLITE_IN_CHUNK = 500


def insert_for(connection: Connection, table: Table) -> Any:
    """The INSERT of this connection's dialect, which knows ``ON CONFLICT``."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")


def among(connection: Connection, column: Any, ids: Sequence[str]) -> Iterable[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``ids``, one statement
    each. On PostgreSQL one ``= ANY(array)``: a single parameter however many ids, so the statement
    text is the same every time (an ``IN`` list of 500 parameters costs more to build, send and plan
    than the rows it finds). On SQLite, ``IN`` lists of at most 500."""
    if not ids:
        return
    if connection.dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(column.type)))
        return
    for start in range(0, len(ids), SQLITE_IN_CHUNK):
        yield column.in_(list(ids[start : start + SQLITE_IN_CHUNK]))


def write(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    finish: Finish,
    path: WritePath = "executemany",
) -> list[Row[Any]]:
    """Insert ``rows`` into ``table`` with the conflict handling ``finish`` adds; return what its
    RETURNING clause returned (nothing if it has none). ``finish=None`` means the caller has made
    conflicts impossible (it deleted the rows it replaces), so on the COPY path the rows are copied
    straight into the table; a conflict there all the same (a replica writing the same article at
    the same moment) fails the batch, which store then retries message by message."""
    if not rows:
        return []
    # Every writer takes row locks in key order, so two replicas writing overlapping batches (the
    # same event, entity or story) wait for each other instead of deadlocking.
    keys = [c.name for c in table.primary_key.columns if c.name in rows[0]]
    if keys:
        rows = sorted(rows, key=itemgetter(*keys))
    if path == "copy" and connection.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        if finish is None:
            _copy(connection, table.name, table, rows)
            return []
        return _copy_and_merge(connection, table, rows, finish)
    statement: Insert = insert_for(connection, table)
    if finish is not None:
        statement = finish(statement)
    result = connection.execute(statement, list(rows))
    return list(result.all()) if result.returns_rows else []


def _binary_type(column: Any) -> str:
    """The PostgreSQL type whose binary format a value of ``column`` is sent in."""
    kind = column.type
    for sql_type, name in _BINARY_TYPES:
        if isinstance(kind, sql_type):
            if isinstance(kind, DateTime) and not kind.timezone:
                return "timestamp"
            return name
    raise NotImplementedError(f"no binary COPY type for {column.name} ({kind})")


# The first match wins.
_BINARY_TYPES: tuple[tuple[type, str], ...] = (
    (JSON, "json"),
    (Boolean, "bool"),
    (Integer, "int4"),
    (Float, "float8"),
    (DateTime, "timestamptz"),
    (Date, "date"),
    (String, "text"),
)


def _copy(connection: Connection, target: str, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    # Binary COPY with the types declared up front: no escaping of text on our side and no
    # parsing of timestamps and numbers on the server's (mentions copied in 60 % of the time).
    names = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    column_list = ", ".join(f'"{name}"' for name in names)
    pick = itemgetter(*names)
    with cursor.copy(f'COPY "{target}" ({column_list}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types([_binary_type(table.c[name]) for name in names])
        if len(names) == 1:
            for row in rows:
                copy.write_row((pick(row),))
        else:
            for row in rows:
                copy.write_row(pick(row))


def _copy_and_merge(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], finish: Callable[[Any], Any]
) -> list[Row[Any]]:
    names = list(rows[0])
    column_list = ", ".join(f'"{name}"' for name in names)
    # One staging table per session and column list, made once: creating and dropping one per
    # batch wrote the catalogue (pg_class, pg_attribute) twice per table per batch. Named after its
    # columns, so a session that outlives a migration never stages into an outdated one. No
    # constraints are copied, so a row the merge will reject still stages.
    digest = hashlib.blake2b(column_list.encode(), digest_size=4).hexdigest()
    stage = Table(f"stage_{table.name}_{digest}", MetaData(), *(Column(name, table.c[name].type) for name in names))
    connection.exec_driver_sql(
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage.name}" AS SELECT {column_list} FROM "{table.name}" WITH NO DATA'
    )
    _copy(connection, stage.name, table, rows)
    # The merge empties the staging table as it reads it (a DELETE ... RETURNING feeding the
    # INSERT), so the next write of this table in the same transaction stages afresh, with no
    # further round trip. Rows merge in key order, as ``write`` sorted them.
    staged = delete(stage).returning(*stage.c).cte("staged")
    keys = [staged.c[c.name] for c in table.primary_key.columns if c.name in names]
    merge = finish(
        postgresql.insert(table)
        .from_select(names, select(*(staged.c[name] for name in names)).order_by(*keys))
        .add_cte(staged)
    )
    result = connection.execute(merge)
    return list(result.all()) if result.returns_rows else []
