"""What a write transaction keeps until it commits, and the numbering it does just before.

A transaction runs without any global lock. When it is about to commit it locks the rows of the
scopes it wrote (`sync_scope`, in sorted order, so two transactions never wait for each other in
a circle), numbers each of its steps in each scope it touched from the scope's sequence, writes
the change index, lets the sinks add their rows (the audit chain, the push's stored outcomes),
moves the scopes' sequences on, and commits. A scope's numbers therefore have no gaps and follow
commit order: a pull that has read up to n has seen every change numbered n or less. On SQLite
the one writer at a time does the serialising; the rows are read without `FOR UPDATE`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.changefeed.scopes import is_project, scope_name

# Change index rows per INSERT (6 values each).
INDEX_ROWS_PER_STATEMENT = 500


class CrossProjectWrite(RuntimeError):
    """A transaction wrote to two projects without saying so (`Pending.allow_projects`). The data
    is partitioned by project: such a transaction would need a two-phase commit on a sharded
    database, so it must be deliberate."""


class ProjectSwitch(Exception):
    """Raised inside a batch by the first step that writes to another project than the steps
    before it: the batch commits what it has and runs that step in a transaction of its own."""


@dataclass
class Change:
    scope: UUID
    bucket: str
    table_name: str
    row_id: UUID
    deleted: bool


@dataclass
class Event:
    """One thing an audit sink is told about: who did what to which record."""

    scope: UUID
    action: str
    table_name: str
    record_id: Any
    changes: dict[str, Any]


@dataclass
class Step:
    """One write (a service call, or one mutation of a push) within a transaction: the scopes it
    touched, numbered when the transaction commits, its changes and its events."""

    actor: Actor
    now: datetime
    scopes: dict[UUID, int] = field(default_factory=dict)  # scope -> its number there (0 until numbered)
    changes: list[Change] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def seq_in(self, scope: UUID) -> int:
        seq = self.scopes.get(scope, 0)
        if not seq:
            raise RuntimeError(f"step has no number in scope {scope_name(scope)} (yet)")
        return seq

    @property
    def seq(self) -> int:
        """Its number in its project's scope (or its only scope), known once committed."""
        projects = [s for s in self.scopes if is_project(s)]
        scope = projects[0] if projects else next(iter(self.scopes), None)
        if scope is None:
            raise RuntimeError("the step wrote nothing")
        return self.seq_in(scope)


@dataclass
class Head:
    """A scope's row as the committing transaction locked it, moved on as it numbers."""

    scope: UUID
    seq: int
    audit_no: int
    audit_hash: str
    stored: tuple[int, int, str] = (0, 0, "")

    def changed(self) -> bool:
        return (self.seq, self.audit_no, self.audit_hash) != self.stored


Statement = db.Statement


class Sink(Protocol):
    """Told at commit time about every numbered step; answers the statements to run with the rest."""

    async def __call__(self, steps: list[Step], heads: dict[UUID, Head]) -> list[Statement]: ...


_sinks: list[Sink] = []


def add_sink(sink: Sink) -> None:
    """Plug a sink into every transaction's commit (the audit log does, from its app module)."""
    if sink not in _sinks:
        _sinks.append(sink)


def sinks() -> list[Sink]:
    if not _sinks:
        raise RuntimeError("no audit sink is plugged into the change feed (inspection.audit.piccolo_app)")
    return list(_sinks)


@dataclass(frozen=True)
class Mark:
    steps: int
    before_commit: int


@dataclass
class Pending:
    """A write transaction's steps, kept until it commits. Reads that only this transaction can
    change until it commits are remembered too (`memo`, see records.remembered)."""

    steps: list[Step] = field(default_factory=list)
    # statements to run with the numbered ones (a push's stored outcomes); each is called once the
    # steps are numbered
    before_commit: list[Callable[[], Awaitable[list[Statement]]]] = field(default_factory=list)
    memo: dict[Hashable, tuple[frozenset[str], Any]] = field(default_factory=dict)
    written: set[tuple[str, Any]] = field(default_factory=set)  # (table, id) of the rows it wrote
    projects_allowed: frozenset[UUID] | None = frozenset()  # None: any
    batch: bool = False
    # the projects its steps touched, kept as they touch them (looking through every step at each
    # touch made a push of 500 edits quadratic)
    projects_touched: set[UUID] = field(default_factory=set)

    def step(self, actor: Actor, now: datetime) -> Step:
        step = Step(actor, now)
        self.steps.append(step)
        return step

    def allow_projects(self, *projects: UUID) -> None:
        """Let this transaction write to these projects together (None: to any)."""
        if not projects:
            self.projects_allowed = None
        elif self.projects_allowed is not None:
            self.projects_allowed = self.projects_allowed | frozenset(projects)

    def touch(self, step: Step, scope: UUID) -> None:
        if scope in step.scopes:
            return
        if is_project(scope) and self.projects_allowed is not None and scope not in self.projects_allowed:
            others = self.projects_touched - {scope}
            if others:
                if self.batch and not any(is_project(s) for s in step.scopes):
                    raise ProjectSwitch(scope)
                raise CrossProjectWrite(
                    f"this transaction already wrote to project {sorted(map(str, others))[0]} and now "
                    f"writes to {scope}: say so with allow_projects() if it must"
                )
        step.scopes[scope] = 0
        if is_project(scope):
            self.projects_touched.add(scope)

    def mark(self) -> Mark:
        return Mark(len(self.steps), len(self.before_commit))

    def undo(self, mark: Mark) -> None:
        """Forget what was kept since `mark`: its writes were rolled back to a savepoint."""
        del self.steps[mark.steps :]
        del self.before_commit[mark.before_commit :]
        self.projects_touched = {s for st in self.steps for s in st.scopes if is_project(s)}
        self.memo.clear()  # a read remembered since may have seen the rolled-back writes

    def forget(self, tablename: str) -> None:
        for key in [k for k, (tables, _) in self.memo.items() if tablename in tables]:
            del self.memo[key]

    async def flush(self) -> None:
        """Number, index and chain everything, just before COMMIT (see the module's docstring)."""
        scopes = sorted({s for step in self.steps for s in step.scopes})
        heads = await lock_scopes(scopes) if scopes else {}
        for step in self.steps:
            for scope in step.scopes:
                head = heads[scope]
                head.seq += 1
                step.scopes[scope] = head.seq
        statements = index_statements(self.steps)
        for sink in sinks():
            statements += await sink(self.steps, heads)
        for hook in self.before_commit:
            statements += await hook()
        statements += [_update_head(h) for h in heads.values() if h.changed()]
        await db.run_together(statements)
        self.steps.clear()
        self.before_commit.clear()
        self.projects_touched.clear()


async def lock_scopes(scopes: list[UUID]) -> dict[UUID, Head]:
    """Lock the scopes' rows in sorted order (PostgreSQL locks the rows of an ordered
    `FOR UPDATE` in that order), creating those not there yet."""
    heads = await _select_heads(scopes)
    missing = [s for s in scopes if s not in heads]
    if missing:
        # A scope's first write. A concurrent first writer of the same scope waits here for the
        # other's commit; both then lock the row below.
        await db.raw(
            "INSERT INTO sync_scope (scope, seq, audit_no, audit_hash, purged_through) VALUES "  # noqa: S608
            + ", ".join("({}, 0, 0, '', 0)" for _ in missing)
            + " ON CONFLICT (scope) DO NOTHING",
            *missing,
        )
        heads |= await _select_heads(missing)
    return heads


async def _select_heads(scopes: list[UUID]) -> dict[UUID, Head]:
    lock = "" if db.is_sqlite() else " FOR UPDATE"
    rows = await db.raw(
        "SELECT scope, seq, audit_no, audit_hash FROM sync_scope WHERE scope IN ("  # noqa: S608
        + ", ".join("{}" for _ in scopes)
        + ") ORDER BY scope"
        + lock,
        *scopes,
    )
    heads = {}
    for r in rows:
        scope = r["scope"] if isinstance(r["scope"], UUID) else UUID(str(r["scope"]))
        stored = (int(r["seq"]), int(r["audit_no"]), r["audit_hash"])
        heads[scope] = Head(scope, *stored, stored=stored)
    return heads


def _update_head(head: Head) -> Statement:
    return (
        "UPDATE sync_scope SET seq = {}, audit_no = {}, audit_hash = {} WHERE scope = {}",
        [head.seq, head.audit_no, head.audit_hash, head.scope],
    )


def index_statements(steps: list[Step]) -> list[Statement]:
    """The change index rows: per (bucket, table, record) its latest change. The last change of a
    record in this transaction wins (steps are in order), and a statement never names a row twice,
    which PostgreSQL's ON CONFLICT DO UPDATE refuses."""
    latest: dict[tuple[str, str, UUID], list[Any]] = {}
    for step in steps:
        for c in step.changes:
            latest[(c.bucket, c.table_name, c.row_id)] = [
                c.scope,
                step.scopes[c.scope],
                c.bucket,
                c.table_name,
                c.row_id,
                c.deleted,
            ]
    rows = list(latest.values())
    out: list[Statement] = []
    for start in range(0, len(rows), INDEX_ROWS_PER_STATEMENT):
        part = rows[start : start + INDEX_ROWS_PER_STATEMENT]
        out.append(
            (
                "INSERT INTO sync_change (scope, seq, bucket, table_name, row_id, deleted) VALUES "  # noqa: S608
                + ", ".join("({}, {}, {}, {}, {}, {})" for _ in part)
                + " ON CONFLICT (bucket, table_name, row_id)"
                " DO UPDATE SET scope = excluded.scope, seq = excluded.seq, deleted = excluded.deleted",
                [value for row in part for value in row],
            )
        )
    return out
