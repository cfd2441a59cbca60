"""How other domains cite evidence: announce it, link it to their records, ask whether it is
stored, list it, and decide who may read it.

Evidence is filed per party (an organisation, or a person without one): the bytes are stored once
under their SHA-256, but each party that announces them has an `evidence` row of its own. A party
reads a filing when it is its own, when it is an office-side member of the filing's project (a
contractor sees only its own organisation's; a resident's complaint photo only the office roles),
or when it may read a record that cites that filing: every domain that links evidence registers a
reader check for its record table. Knowing a hash is worth nothing: announcing the bytes of a
filing one may not read makes a new filing of one's own, pending until one sends the bytes
themselves, and a record can cite only filings its writer may read or filed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import Conflict, NotFound, ValidationFailed
from inspection.evidence.rules import SHA256_RE
from inspection.evidence.tables import Evidence, EvidenceLink
from inspection.messages import t
from inspection.projects.access import project_access
from inspection.projects.rules import OFFICE_ROLES
from inspection.records import Write, contractor_bucket, office_bucket, project_bucket

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


def filing_buckets(row: dict[str, Any]) -> list[str]:
    """Where a filing syncs: its project and its party's bucket, or the office bucket alone."""
    if row.get("office_only"):
        return [office_bucket(row["project"])]
    return evidence_buckets(row["project"], row["organisation"])


def check_sha256(value: str, field: str = "sha256") -> str:
    if not isinstance(value, str) or not SHA256_RE.match(value):
        raise ValidationFailed(t("evidence.must_sha_256_as_64_lower"), field=field)
    return value


@dataclass(frozen=True)
class EvidenceInfo:
    sha256: str
    status: str
    content_type: str
    captured_at: datetime | None
    purpose: str


# Who may read which filing


def same_party(actor: Actor, row: dict[str, Any]) -> bool:
    """The filing is the actor's own: its organisation's, or (without one) the person's. The
    server's own actors (no user: the demo loader, the public notice page) share one party."""
    if actor.user_id is None:
        return row["created_by"] is None and row["organisation"] == actor.organisation_id
    return row["created_by"] == actor.user_id or (
        actor.organisation_id is not None and row["organisation"] == actor.organisation_id
    )


async def _cited_for(actor: Actor, evidence_id: UUID) -> bool:
    links = await EvidenceLink.select(EvidenceLink.record_table, EvidenceLink.record_id).where(
        (EvidenceLink.evidence == evidence_id) & EvidenceLink.deleted.eq(False)
    )
    for link in links:
        check = _READERS.get(link["record_table"])
        if check is not None and await check(actor, link["record_id"]):
            return True
    return False


async def entitled(actor: Actor, row: dict[str, Any]) -> bool:
    """May `actor` read this filing: its facts, and its bytes once it is stored?"""
    if actor.is_admin or same_party(actor, row):
        return True
    try:
        access = await project_access(actor, row["project"])
    except NotFound:
        access = None
    if access is not None and not access.contractor_only:
        if not row["office_only"] or access.has(*OFFICE_ROLES):
            return True
    return await _cited_for(actor, row["id"])


async def readable_filings(actor: Actor, sha256: str, project_id: UUID | None = None) -> list[dict[str, Any]]:
    """The filings of these bytes (in one project, if given) that `actor` may read: the actor's
    own first, then stored before pending. Empty means: as far as the actor can tell, there are
    no such bytes."""
    where: Any = (Evidence.sha256 == sha256) & Evidence.deleted.eq(False)
    if project_id is not None:
        where &= Evidence.project == project_id
    rows = await Evidence.select().where(where).order_by(Evidence.version)
    found = [r for r in rows if await entitled(actor, r)]
    found.sort(key=lambda r: (not same_party(actor, r), r["status"] != "stored"))
    return found


async def may_read(actor: Actor, sha256: str) -> bool:
    """Whether the actor may read some filing of these bytes (see `readable_filings`)."""
    return bool(await readable_filings(actor, sha256))


def usable(actor: Actor, rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Of the readable filings, the one the actor works with: its own, or one already stored.
    Another party's pending filing is not taken over: its bytes are that party's to send."""
    return next((r for r in rows if same_party(actor, r) or r["status"] == "stored"), None)


async def _new_filing(
    w: Write,
    sha256: str,
    *,
    project_id: UUID,
    organisation_id: UUID | None,
    content_type: str,
    original_name: str,
    evidence_id: UUID | None,
    office_only: bool,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sha256": sha256,
        "status": "pending",
        "project": project_id,
        "organisation": organisation_id,
        "content_type": content_type,
        "original_name": original_name[:200],
        "office_only": office_only,
    }
    if evidence_id is not None:
        values["id"] = evidence_id
    return await w.insert(Evidence, values, filing_buckets(values))


async def announce(
    w: Write,
    sha256: str,
    *,
    project_id: UUID,
    organisation_id: UUID | None,
    content_type: str = "",
    original_name: str = "",
    evidence_id: UUID | None = None,
    office_only: bool = False,
) -> dict[str, Any]:
    """The acting party's filing of these bytes in `project_id`, made (pending) before the bytes
    arrive when it has none. Announcing twice returns the same filing, and bytes the party may
    already read (stored) are not asked for again. Bytes filed by someone the party may not read
    are answered exactly like new bytes: a pending filing of its own, and nothing about the other."""
    check_sha256(sha256)
    if evidence_id is not None:
        same = await Evidence.select().where(Evidence.id == evidence_id).first()
        if same is not None:
            if same["sha256"] == sha256 and same["project"] == project_id and await entitled(w.actor, same):
                return same
            raise Conflict(t("evidence.evidence_already_exists_give_new_photo", evidence_id=evidence_id), field="id")
    found = usable(w.actor, await readable_filings(w.actor, sha256, project_id))
    if found is not None:
        return found
    return await _new_filing(
        w,
        sha256,
        project_id=project_id,
        organisation_id=organisation_id,
        content_type=content_type,
        original_name=original_name,
        evidence_id=evidence_id,
        office_only=office_only,
    )


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
    buckets: Sequence[str] | None = None,
) -> None:
    """Link evidence to a record, inside the caller's transaction. A record cites only what its
    writer may read in the record's project (its own filings, stored ones it may see, or another
    party's filing it may see, through a pending filing of its own); any other SHA-256 is refused
    exactly like one never announced, and nothing is written. Evidence may still be pending (the
    record saves and shows it pending). `buckets`: where the links sync, if not the project's and
    `organisation_id`'s."""
    wanted = list(dict.fromkeys(check_sha256(s, field) for s in shas))
    if not wanted:
        return
    cited: dict[str, dict[str, Any]] = {}
    for sha in wanted:
        readable = await readable_filings(w.actor, sha, project_id)
        if not readable:
            raise ValidationFailed(t("evidence.no_evidence_has_been_announced_upload", value=sha[:12]), field=field)
        found = usable(w.actor, readable)
        if found is None:
            found = await _new_filing(
                w,
                sha,
                project_id=project_id,
                organisation_id=w.actor.organisation_id,
                content_type=readable[0]["content_type"],
                original_name="",
                evidence_id=None,
                office_only=False,
            )
        cited[sha] = found
    existing = await EvidenceLink.select(EvidenceLink.sha256).where(
        (EvidenceLink.record_table == record_table)
        & (EvidenceLink.record_id == record_id)
        & EvidenceLink.sha256.is_in(wanted)
        & EvidenceLink.deleted.eq(False)
    )
    already = {r["sha256"] for r in existing}
    link_buckets = list(buckets) if buckets is not None else evidence_buckets(project_id, organisation_id)
    for sha in wanted:
        if sha in already:
            continue
        await w.insert(
            EvidenceLink,
            {
                "evidence": cited[sha]["id"],
                "sha256": sha,
                "record_table": record_table,
                "record_id": record_id,
                "purpose": purpose,
                "project": project_id,
                "organisation": organisation_id,
            },
            link_buckets,
        )


async def pending_among(shas: Iterable[str]) -> list[str]:
    """The SHA-256s among `shas` whose bytes have not been verified in any filing yet."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return []
    rows = await Evidence.select(Evidence.sha256).where(Evidence.sha256.is_in(wanted) & (Evidence.status == "stored"))
    stored = {r["sha256"] for r in rows}
    return [s for s in wanted if s not in stored]


async def require_stored(photos: Iterable[str | EvidenceInfo], field: str = "photos") -> None:
    """Every photo has arrived: for a linked one (EvidenceInfo), the filing the record cites."""
    items = list(photos)
    pending = [p.sha256 for p in items if isinstance(p, EvidenceInfo) and p.status != "stored"]
    pending += await pending_among([p for p in items if isinstance(p, str)])
    if pending:
        raise Conflict(
            t("evidence.photo_s_have_not_finished_uploading", count=len(pending)),
            field=field,
            pending=[p for p in pending],
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


__all__: list[Any] = [
    "EvidenceInfo",
    "announce",
    "attach",
    "check_sha256",
    "entitled",
    "evidence_buckets",
    "filing_buckets",
    "linked",
    "may_read",
    "pending_among",
    "readable_filings",
    "register_reader",
    "require_stored",
    "same_party",
    "usable",
]
