"""How other domains cite evidence: announce it, link it to their records, ask whether it is
stored, list it, and decide who may read it.

Every domain that links evidence registers a reader check for its record table, so that access to
a photo follows the records that cite it (a contractor never reads another contractor's photos).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import Conflict, ValidationFailed
from inspection.evidence.rules import SHA256_RE
from inspection.evidence.tables import Evidence, EvidenceLink
from inspection.records import Write, contractor_bucket, project_bucket

# record_table -> async check(actor, record_id) -> may this actor read that record?
ReaderCheck = Callable[[Actor, UUID], Awaitable[bool]]
_READERS: dict[str, ReaderCheck] = {}


def register_reader(record_table: str, check: ReaderCheck) -> None:
    """Called once by each domain that links evidence to its records."""
    _READERS[record_table] = check


def evidence_buckets(project_id: UUID, organisation_id: UUID | None) -> list[str]:
    buckets = [project_bucket(project_id)]
    if organisation_id is not None:
        buckets.append(contractor_bucket(project_id, organisation_id))
    return buckets


def check_sha256(value: str, field: str = "sha256") -> str:
    if not isinstance(value, str) or not SHA256_RE.match(value):
        raise ValidationFailed("must be a SHA-256 as 64 lower-case hexadecimal characters", field=field)
    return value


@dataclass(frozen=True)
class EvidenceInfo:
    sha256: str
    status: str
    content_type: str
    captured_at: datetime | None
    purpose: str


async def announce(
    w: Write,
    sha256: str,
    *,
    project_id: UUID,
    organisation_id: UUID | None,
    content_type: str = "",
    original_name: str = "",
    evidence_id: UUID | None = None,
) -> dict[str, Any]:
    """Make (or find) the metadata row for a photo before its bytes arrive. Announcing the same
    bytes twice returns the first row: the content, not the request, names the evidence."""
    check_sha256(sha256)
    row = await Evidence.select().where(Evidence.sha256 == sha256).first()
    if row is not None:
        if row["project"] != project_id:
            raise ValidationFailed("this photo was already filed under another project", field="sha256")
        return row
    values: dict[str, Any] = {
        "sha256": sha256,
        "status": "pending",
        "project": project_id,
        "organisation": organisation_id,
        "content_type": content_type,
        "original_name": original_name[:200],
    }
    if evidence_id is not None:
        values["id"] = evidence_id
    return await w.insert(Evidence, values, evidence_buckets(project_id, organisation_id))


async def attach(
    w: Write,
    shas: Sequence[str],
    *,
    record_table: str,
    record_id: UUID,
    project_id: UUID,
    organisation_id: UUID | None = None,
    purpose: str = "photo",
    field: str = "photos",
) -> None:
    """Link announced evidence to a record, inside the caller's transaction. Evidence may still be
    pending (the record saves and shows it pending); an unknown SHA-256 or one announced for
    another project is refused, and nothing is written."""
    wanted = list(dict.fromkeys(check_sha256(s, field) for s in shas))
    if not wanted:
        return
    rows = await Evidence.select(Evidence.id, Evidence.sha256, Evidence.project).where(Evidence.sha256.is_in(wanted))
    known = {r["sha256"]: r for r in rows}
    for sha in wanted:
        row = known.get(sha)
        if row is None:
            raise ValidationFailed(
                f"no evidence {sha[:12]}… has been announced; upload or announce it first", field=field
            )
        if row["project"] != project_id:
            raise ValidationFailed(f"evidence {sha[:12]}… belongs to another project", field=field)
    existing = await EvidenceLink.select(EvidenceLink.sha256).where(
        (EvidenceLink.record_table == record_table)
        & (EvidenceLink.record_id == record_id)
        & EvidenceLink.sha256.is_in(wanted)
        & EvidenceLink.deleted.eq(False)
    )
    already = {r["sha256"] for r in existing}
    buckets = evidence_buckets(project_id, organisation_id)
    for sha in wanted:
        if sha in already:
            continue
        await w.insert(
            EvidenceLink,
            {
                "evidence": known[sha]["id"],
                "sha256": sha,
                "record_table": record_table,
                "record_id": record_id,
                "purpose": purpose,
                "project": project_id,
                "organisation": organisation_id,
            },
            buckets,
        )


async def pending_among(shas: Iterable[str]) -> list[str]:
    """The SHA-256s among `shas` whose bytes have not been verified yet."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return []
    rows = await Evidence.select(Evidence.sha256).where(Evidence.sha256.is_in(wanted) & (Evidence.status == "stored"))
    stored = {r["sha256"] for r in rows}
    return [s for s in wanted if s not in stored]


async def require_stored(shas: Iterable[str], field: str = "photos") -> None:
    pending = await pending_among(shas)
    if pending:
        raise Conflict(
            f"{len(pending)} photo(s) have not finished uploading", field=field, pending=[p for p in pending]
        )


async def linked(record_table: str, record_ids: Sequence[UUID]) -> dict[UUID, list[EvidenceInfo]]:
    """Evidence cited by each record, in the order it was linked."""
    if not record_ids:
        return {}
    rows = await (
        EvidenceLink.select(
            EvidenceLink.record_id,
            EvidenceLink.sha256,
            EvidenceLink.purpose,
            EvidenceLink.evidence.status.as_alias("status"),
            EvidenceLink.evidence.content_type.as_alias("content_type"),
            EvidenceLink.evidence.captured_at.as_alias("captured_at"),
        )
        .where(
            (EvidenceLink.record_table == record_table)
            & EvidenceLink.record_id.is_in(list(record_ids))
            & EvidenceLink.deleted.eq(False)
        )
        .order_by(EvidenceLink.version)
    )
    out: dict[UUID, list[EvidenceInfo]] = {rid: [] for rid in record_ids}
    for r in rows:
        out.setdefault(r["record_id"], []).append(
            EvidenceInfo(r["sha256"], r["status"], r["content_type"], r["captured_at"], r["purpose"])
        )
    return out


async def may_read(actor: Actor, sha256: str) -> bool:
    """The uploader's organisation, an administrator, or anyone who may read a record citing it."""
    row = await Evidence.select(Evidence.created_by, Evidence.project).where(Evidence.sha256 == sha256).first()
    if row is None:
        return False
    if actor.is_admin or (actor.user_id is not None and row["created_by"] == actor.user_id):
        return True
    links = await EvidenceLink.select(EvidenceLink.record_table, EvidenceLink.record_id).where(
        (EvidenceLink.sha256 == sha256) & EvidenceLink.deleted.eq(False)
    )
    for link in links:
        check = _READERS.get(link["record_table"])
        if check is not None and await check(actor, link["record_id"]):
            return True
    return False


__all__: list[Any] = [
    "EvidenceInfo",
    "announce",
    "attach",
    "check_sha256",
    "evidence_buckets",
    "linked",
    "may_read",
    "pending_among",
    "register_reader",
    "require_stored",
]
