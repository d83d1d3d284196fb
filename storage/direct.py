"""Core statements run straight on the DBAPI cursor of a SQLAlchemy connection.

The usage path runs a handful of fixed statements per record (lean.py). Through
``Connection.execute`` each costs SQLAlchemy's per-execution work (cache key,
execution context, parameter processing, result set-up): about 100 us, more
than the database takes for the statement itself (bench/ledger.py). Here a
statement is compiled once per dialect and shape (how many values each
expanding ``IN`` gets), by SQLAlchemy itself: the same SQL text, the same bind
and result processors (Money as whole nano-dollars on SQLite, dates, UTC
times); only the per-execution bookkeeping is skipped.

It stays on the SQLAlchemy connection's transaction (the same DBAPI connection,
begun by the session), and the driver's errors come out as SQLAlchemy's
(``OperationalError`` etc.), so db.py maps busy and unavailable as before.

When anyone listens to the connection's cursor events (a test reading the
statements issued), or a statement would need SQLAlchemy's own work (Python-side
column defaults, escaped bind names, a shape not cached), it goes through
``Connection.execute`` as usual: same SQL, same values.
"""
from __future__ import annotations

import re
import weakref
from contextlib import contextmanager
from operator import itemgetter
from typing import Iterator

from sqlalchemy.exc import DBAPIError

# Shapes of expanding parameters cached per statement and dialect: the single
# record and authorize use one value each; a batch's long lists go the usual way.
MAX_EXPANDED = 16

# On psycopg, the rows of an INSERT (``Statement.run`` with many) go this many to a
# statement: one multi-row VALUES with numbered placeholders, on a RawCursor. psycopg's
# executemany sends, and reads back, a statement a row: 30-60 us of client CPU for a
# 2 KB usage row, against 12-14 this way (2026-12-08, 1,000 rows). Not its %s text:
# psycopg parses a query each time past 4 KB (its cache keeps shorter ones only), 121 us
# a row. The rows left over (fewer than this) go by executemany.
ROWS_PER_STATEMENT = 50
_NAMED = re.compile(r"%\((\w+)\)s")


class _Plan:
    __slots__ = ("sql", "names", "positional", "processors", "constants", "expansion", "types", "results", "_rows")

    def __init__(self, sql, names, positional, processors, constants, expansion, types):
        self.sql, self.names, self.positional = sql, names, positional
        self.processors, self.constants, self.expansion, self.types = processors, constants, expansion, types
        self.results = None  # result processors, set at the first execution (PostgreSQL's need the column types)
        self._rows: dict[int, tuple[str, tuple[str, ...]] | None] = {}  # rows_sql's, by count

    def rows_sql(self, count: int) -> tuple[str, tuple[str, ...]] | None:
        """For a plain one-row ``INSERT ... VALUES (%(name)s, ...)`` (named parameters, nothing
        after the VALUES): the same INSERT of ``count`` rows with numbered placeholders ($1,
        $2, ...), and the names in the order of a row's values; else None."""
        try:
            return self._rows[count]
        except KeyError:
            pass
        made = None
        head, found, values = self.sql.partition(" VALUES (")
        names = tuple(_NAMED.findall(values))
        if found and names and not self.positional and not self.constants and values.endswith(")") \
                and "%%" not in self.sql and ")" not in _NAMED.sub("", values)[:-1]:
            width, rows = len(names), []
            for r in range(count):
                numbers = iter(range(r * width + 1, (r + 1) * width + 1))
                rows.append("(" + _NAMED.sub(lambda _m: f"${next(numbers)}", values))
            made = (f"{head} VALUES " + ", ".join(rows), names)
        self._rows[count] = made
        return made

    def row_args(self):
        """A function making one row's arguments, for a plan without constants or
        expanded INs (INSERTs and UPDATEs): straight from the row dict. A column's
        processor runs once for a run of equal values (of one type: a float never
        passes for the Decimal before it): the rows of a batch share their times,
        period and organization."""
        if self.constants or self.expansion:
            return self.args
        memos = {name: _Memo(process) for name, process in self.processors}
        if self.positional:
            pick = itemgetter(*self.names) if len(self.names) > 1 else lambda row: (row[self.names[0]],)
            at = tuple((i, memos[name]) for i, name in enumerate(self.names) if name in memos)

            def ordered(row: dict) -> tuple:
                values = list(pick(row))
                for i, memo in at:
                    value = values[i]
                    if value is not None:
                        values[i] = memo(value)
                return tuple(values)
            return ordered
        processed = tuple(memos.items())

        def named(row: dict) -> dict:
            values = dict(row)
            for name, memo in processed:
                value = values.get(name)
                if value is not None:
                    values[name] = memo(value)
            return values
        return named

    def args(self, params: dict):
        values = dict(self.constants)
        for name, value in params.items():
            expanded = self.expansion.get(name)
            if expanded is None:
                values[name] = value
            else:
                values.update(zip(expanded, value))
        for name, process in self.processors:
            value = values.get(name)
            if value is not None:
                values[name] = process(value)
        if self.positional:
            return tuple(values[name] for name in self.names)
        return values


class _Memo:
    """A bind processor that remembers its last value."""
    __slots__ = ("process", "last", "out")

    def __init__(self, process):
        self.process, self.last, self.out = process, _Memo, None  # _Memo: nothing yet

    def __call__(self, value):
        last = self.last
        if value is last or (type(value) is type(last) and value == last):
            return self.out
        self.out = out = self.process(value)
        self.last = value
        return out


class Statement:
    """A Core statement (``stmt``) run directly; ``columns``: for an INSERT, the
    keys its parameter rows carry (always all of them); ``expanding``: the
    names of its expanding IN parameters."""

    def __init__(self, stmt, columns: tuple[str, ...] | None = None, expanding: tuple[str, ...] = ()):
        self.stmt, self.columns, self.expanding = stmt, columns, expanding
        # per dialect (weakly: tests make many engines), per shape; None: run through SQLAlchemy
        self._plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # -- compiling -----------------------------------------------------------------

    def _plan(self, dialect, params: dict):
        shape = tuple(len(params[name]) for name in self.expanding)
        plans = self._plans.get(dialect)
        if plans is None:
            plans = self._plans[dialect] = {}
        try:
            return plans[shape]
        except KeyError:
            pass
        plan = self._compile(dialect, params) if sum(shape) <= MAX_EXPANDED else None
        plans[shape] = plan
        return plan

    def _compile(self, dialect, params: dict):
        compiled = self.stmt.compile(dialect=dialect, column_keys=list(self.columns) if self.columns else None)
        if compiled.escaped_bind_names or getattr(compiled, "insert_prefetch", None) \
                or getattr(compiled, "update_prefetch", None):
            return None  # SQLAlchemy computes or renames something per execution: leave it to it
        expanded = compiled.construct_expanded_state(dict(params))
        given = set(params)
        expansion = {name: list(names) for name, names in (expanded.parameter_expansion or {}).items()}
        produced = {n for names in expansion.values() for n in names}
        constants = {name: value for name, value in expanded.parameters.items()
                     if name not in given and name not in produced}
        # the statement's own processors, and those of the names an IN expanded into
        every = {**compiled._bind_processors, **(expanded.processors or {})}
        processors = tuple((name, process) for name, process in every.items()
                           if process is not None and name not in expansion)
        positional = dialect.positional
        names = tuple(expanded.positiontup) if positional else ()
        types = tuple(entry[3] for entry in compiled._result_columns)
        return _Plan(expanded.statement, names, positional, processors, constants, expansion, types)

    # -- running ---------------------------------------------------------------------

    @staticmethod
    def _direct(conn) -> bool:
        dispatch = conn.dispatch
        return not (dispatch.before_cursor_execute or dispatch.after_cursor_execute)

    def _cursor(self, conn):
        return conn.connection.dbapi_connection.cursor()

    def _results(self, plan: _Plan, cursor, conn):
        if plan.results is None:
            plan.results = tuple(type_._cached_result_processor(conn.dialect, column[1])
                                 for type_, column in zip(plan.types, cursor.description))
        return plan.results

    def _wrap(self, exc, plan, conn):
        return DBAPIError.instance(plan.sql, None, exc, conn.dialect.loaded_dbapi.Error,
                                   dialect=conn.dialect, ismulti=None)

    def direct(self, conn, params: dict) -> bool:
        """Whether it runs on the cursor (else through SQLAlchemy, which must not meet a pipeline)."""
        return self._direct(conn) and self._plan(conn.dialect, params) is not None

    def rows(self, conn, params: dict) -> list[tuple]:
        """Every row, each a tuple of processed values."""
        return self.send(conn, params).rows()

    def send(self, conn, params: dict) -> Pending:
        """The statement sent; its rows read by the Pending's ``rows`` (inside ``pipeline``,
        several statements go to the server before the first answer is waited for)."""
        plan = self._plan(conn.dialect, params) if self._direct(conn) else None
        if plan is None:
            return Pending(self, conn, None, None, [tuple(row) for row in conn.execute(self.stmt, params)])
        cursor = self._cursor(conn)
        try:
            cursor.execute(plan.sql, plan.args(params))
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise self._wrap(exc, plan, conn) from exc
        return Pending(self, conn, plan, cursor)

    def first(self, conn, params: dict) -> tuple | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn, params) -> None:
        """Execute, for one parameter dict or (executemany) a list of them."""
        many = isinstance(params, list)
        if not params:
            return
        plan = self._plan(conn.dialect, params[0] if many else params) if self._direct(conn) else None
        if plan is None:
            conn.execute(self.stmt, params)
            return
        cursor = self._cursor(conn)
        try:
            if many:
                args = plan.row_args()
                rows = [args(p) for p in params]
                per = ROWS_PER_STATEMENT
                if len(rows) >= per and conn.dialect.driver == "psycopg" and plan.rows_sql(per):
                    rows = self._many_rows(conn, plan, rows, per)
                if rows:
                    cursor.executemany(plan.sql, rows)
            else:
                cursor.execute(plan.sql, plan.args(params))
        except conn.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, plan, conn) from exc
        finally:
            cursor.close()

    @staticmethod
    def _many_rows(conn, plan: _Plan, rows: list[dict], per: int) -> list[dict]:
        """Every ``per`` rows in one statement (plan.rows_sql, on a RawCursor: no parsing
        of the text); the rows left over, for executemany."""
        from psycopg import RawCursor  # the driver of this path only

        sql, names = plan.rows_sql(per)
        whole = len(rows) - len(rows) % per
        with RawCursor(conn.connection.dbapi_connection) as raw:
            for start in range(0, whole, per):
                raw.execute(sql, [row[name] for row in rows[start:start + per] for name in names])
        return rows[whole:]


class LongLists:
    """A statement with expanding INs (``short``) and the same with an array parameter
    per list (``arrays``, PostgreSQL's ``= ANY``): up to MAX_EXPANDED values ``short``,
    run here, a plan per count; beyond, on PostgreSQL, ``arrays``, run here too: one
    plan for any count (elsewhere ``short`` through SQLAlchemy). Not arrays for a few
    values: the planner cannot tell ``= ANY($1)`` holds one key, and with statistics
    of a young table it scanned the organization's records for it (bench/ledger.py)."""

    def __init__(self, short: Statement, arrays: Statement):
        self.short, self.arrays = short, arrays

    def on(self, conn, params: dict) -> Statement:
        if conn.dialect.name == "postgresql" and sum(len(params[n]) for n in self.short.expanding) > MAX_EXPANDED:
            return self.arrays
        return self.short

    def direct(self, conn, params: dict) -> bool:
        return self.on(conn, params).direct(conn, params)

    def send(self, conn, params: dict) -> Pending:
        return self.on(conn, params).send(conn, params)

    def rows(self, conn, params: dict) -> list[tuple]:
        return self.on(conn, params).rows(conn, params)


class Pending:
    """A statement sent, its rows not read yet."""

    def __init__(self, statement: Statement, conn, plan: _Plan | None, cursor, done: list | None = None):
        self.statement, self.conn, self.plan, self.cursor, self.done = statement, conn, plan, cursor, done

    def rows(self) -> list[tuple]:
        if self.done is not None:
            return self.done
        conn, plan, cursor = self.conn, self.plan, self.cursor
        try:
            raw = cursor.fetchall()
            processors = self.statement._results(plan, cursor, conn)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise self.statement._wrap(exc, plan, conn) from exc
        finally:
            cursor.close()
        if not any(processors):
            self.done = [tuple(row) for row in raw]
        else:
            self.done = [tuple(value if process is None or value is None else process(value)
                               for value, process in zip(row, processors)) for row in raw]
        return self.done

    def first(self) -> tuple | None:
        found = self.rows()
        return found[0] if found else None


def pipelines(conn) -> bool:
    """Whether statements on ``conn`` can be pipelined: psycopg's pipeline mode
    (sent together, one round trip for several statements), and nobody listening."""
    return conn.dialect.driver == "psycopg" and Statement._direct(conn)


class HeldPipeline:
    """``pipeline`` held open across the code between statements (``open``,
    ``close``): what is sent meanwhile runs on the server while this process
    goes on, and is waited for only at ``close`` (or when a result is read).
    Only where ``pipelines(conn)``; nothing but this module's statements may run
    while it is open (SQLAlchemy's own executions must not meet a pipeline)."""

    def __init__(self, conn):
        self.conn, self._held = conn, None

    @property
    def is_open(self) -> bool:
        return self._held is not None

    def open(self) -> None:
        if self._held is None:
            held = pipeline(self.conn)
            held.__enter__()
            self._held = held

    def commit(self) -> None:
        """COMMIT sent after everything pending, then one wait for all, and the pipeline
        closed: psycopg's own commit() would wait, and the pipeline's exit wait again
        (two round trips). The driver sees the transaction end from the server's answer,
        so the connection's commit() after this sends nothing."""
        cursor = self.conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("COMMIT")
        finally:
            cursor.close()
        self.close()

    def close(self, exc: BaseException | None = None) -> None:
        """Wait for everything sent (its errors raised, as SQLAlchemy's); with ``exc``,
        the error already on its way out: the pipeline is left without masking it."""
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


@contextmanager
def pipeline(conn) -> Iterator[None]:
    """psycopg's pipeline mode on the connection for the block: statements sent are
    not waited for until a result is read or the block ends (the server still runs
    them one after another, in order, each in the transaction as usual). Only
    where ``pipelines(conn)``."""
    dbapi = conn.connection.dbapi_connection
    try:
        with dbapi.pipeline():
            yield
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
