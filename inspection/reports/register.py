"""The document register: a number for each distinct document, and the public check of one.

Printing the same content again finds its entry and keeps its number and first date of issue;
changed content (a new response on an order, a new week's figures) gets the next number. Numbers
count per kind and year, from a counter row (`document_counter`) that a registration locks before
it looks: two people printing the same content at once get one number, two printing different
content get two, and none is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection import db
from inspection.actor import Actor
from inspection.clock import Clock
from inspection.evidence.rules import SHA256_RE
from inspection.records import write
from inspection.reports import rules
from inspection.reports.tables import IssuedDocument

ID = IssuedDocument


@dataclass(frozen=True)
class Issued:
    number: str
    issued_at: datetime
    first_time: bool


async def _find(kind: str, subject_id: UUID, content_sha256: str) -> dict[str, Any] | None:
    return await (  # type: ignore[no-any-return]
        ID.select(ID.number, ID.issued_at)
        .where(
            (ID.kind == kind)
            & (ID.subject_id == subject_id)
            & (ID.content_sha256 == content_sha256)
            & ID.deleted.eq(False)
        )
        .first()
    )


async def _lock_counter(kind: str, year: int) -> int:
    """The last serial of (kind, year), its row locked to the commit. A new counter starts from
    the register itself, so numbers issued before counters existed are never handed out again."""
    lock = "" if db.is_sqlite() else " FOR UPDATE"
    sql = "SELECT last FROM document_counter WHERE kind = {} AND year = {}" + lock  # noqa: S608 - a fixed clause
    rows = await db.raw(sql, kind, year)
    if not rows:
        await db.raw(
            "INSERT INTO document_counter (kind, year, last)"
            " SELECT {}, {}, COALESCE(MAX(serial), 0) FROM issued_document WHERE kind = {} AND year = {}"
            " ON CONFLICT (kind, year) DO NOTHING",
            kind,
            year,
            kind,
            year,
        )
        rows = await db.raw(sql, kind, year)
    return int(rows[0]["last"])


async def register(
    actor: Actor, clock: Clock, kind: str, subject_id: UUID, project_id: UUID | None, content_sha256: str
) -> Issued:
    info = rules.kind_info(kind)
    found = await _find(kind, subject_id, content_sha256)
    if found is not None:
        return Issued(found["number"], found["issued_at"], first_time=False)
    async with write(actor, clock) as w:
        year = rules.local_day(w.now).year
        last = await _lock_counter(kind, year)
        found = await _find(kind, subject_id, content_sha256)  # someone may have won the race
        if found is not None:
            return Issued(found["number"], found["issued_at"], first_time=False)
        serial = last + 1
        await db.raw("UPDATE document_counter SET last = {} WHERE kind = {} AND year = {}", serial, kind, year)
        number = rules.document_number(info.code, year, serial)
        # Not synced to tablets (no buckets); the audit log still records who issued what.
        await w.insert(
            ID,
            {
                "number": number,
                "kind": kind,
                "subject_id": subject_id,
                "project_id": project_id,
                "content_sha256": content_sha256,
                "year": year,
                "serial": serial,
                "issued_at": w.now,
                "issuer": actor.user_id,
            },
            [],
        )
        return Issued(number, w.now, first_time=True)


NOTICE_KIND = "rectification_notice"


async def number_notice(actor: Actor, clock: Clock, notice_id: UUID, project_id: UUID, facts: dict[str, Any]) -> str:
    """The number of a 整改通知单 covering several orders, taken when it goes out (inside the issuing
    transaction): the same kind, and so the same ZGTZ sequence, as a lone order's notice. Its hash
    is of `facts`, which the printed notice hashes again (loaders/rectification.py)."""
    issued = await register(actor, clock, NOTICE_KIND, notice_id, project_id, rules.content_sha256(NOTICE_KIND, facts))
    return issued.number


@dataclass(frozen=True)
class Verification:
    """All the public page says: whether that number with that hash was issued, and when."""

    number: str
    issued: bool
    issued_at: datetime | None


async def verify(number: str, content_sha256: str) -> Verification:
    if len(number) > 40 or not SHA256_RE.match(content_sha256 or ""):
        return Verification(number[:40], False, None)
    row = await (
        ID.select(ID.issued_at)
        .where((ID.number == number) & (ID.content_sha256 == content_sha256) & ID.deleted.eq(False))
        .first()
    )
    return Verification(number, row is not None, row["issued_at"] if row else None)


async def latest_numbers(kind: str, subject_ids: list[UUID]) -> dict[UUID, str]:
    """The newest number each record's document of `kind` was issued under (the one the parties
    hold last), for pages that cite it. Records never printed are missing from the answer."""
    if not subject_ids:
        return {}
    rows = await ID.select(ID.subject_id, ID.number, ID.year, ID.serial).where(
        (ID.kind == kind) & ID.subject_id.is_in(list(set(subject_ids))) & ID.deleted.eq(False)
    )
    out: dict[UUID, tuple[int, int, str]] = {}
    for r in rows:
        key = (r["year"], r["serial"], r["number"])
        if r["subject_id"] not in out or key > out[r["subject_id"]]:
            out[r["subject_id"]] = key
    return {k: v[2] for k, v in out.items()}
