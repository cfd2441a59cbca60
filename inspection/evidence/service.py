"""证据上传 — use cases for photo and document evidence: announce, upload through the API or
straight to S3, confirm, read, and list what never arrived.

Nothing counts as evidence until the server has hashed the bytes itself and they match the
SHA-256 that names them; until then the row is `pending` and records that cite it still save.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import anyio.to_thread

from inspection.actor import Actor
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, NotFound, TooLarge, UnsupportedMediaType, ValidationFailed
from inspection.evidence import links, rules
from inspection.evidence import schemas as s
from inspection.evidence.images import Inspection, inspect_file, readable_kinds
from inspection.evidence.store import ObjectMissing, ObjectStore, build_store, unavailable
from inspection.evidence.tables import Evidence, EvidenceLink
from inspection.messages import Message, t
from inspection.projects.access import project_access
from inspection.projects.rules import Role
from inspection.records import write
from inspection.settings import Settings

API_PREFIX = "/api/v1/evidence"
# Writes to the staging file are batched so that one hop to the writer thread carries about 1 MiB.
WRITE_BATCH_BYTES = 1024 * 1024
WRITES_IN_FLIGHT = 4
_START_WRITEBACK = hasattr(os, "posix_fadvise")
PRESIGNED_UPLOAD_TTL_S = 15 * 60
PRESIGNED_DOWNLOAD_TTL_S = 5 * 60
IMMUTABLE = "private, max-age=31536000, immutable"
# Roles that may add evidence to a project; viewers only look.
UPLOADING_ROLES = frozenset(Role) - {Role.viewer}


@dataclass(frozen=True)
class Download:
    """What to send for a GET: a redirect to `url`, or the bytes streamed from the store."""

    etag: str
    content_type: str
    size: int | None
    url: str | None
    chunks: AsyncIterator[bytes] | None
    cache_control: str
    disposition: str


def evidence_url(sha256: str) -> str:
    return f"{API_PREFIX}/{sha256}"


def _out(row: dict[str, Any]) -> s.EvidenceOut:
    sha = row["sha256"]
    stored = row["status"] == "stored"
    has_thumbnails = stored and row["content_type"].startswith("image/")
    return s.EvidenceOut(
        id=row["id"],
        sha256=sha,
        status=row["status"],
        project_id=row["project"],
        organisation_id=row["organisation"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        width=row["width"],
        height=row["height"],
        captured_at=row["captured_at"],
        gps_lat=row["gps_lat"],
        gps_lon=row["gps_lon"],
        original_name=row["original_name"],
        stored_at=row["stored_at"],
        version=row["version"],
        updated_at=row["updated_at"],
        deleted=row["deleted"],
        url=evidence_url(sha) if stored else "",
        thumbnails={str(side): f"{evidence_url(sha)}?size={side}" for side in rules.THUMBNAIL_SIDES}
        if has_thumbnails
        else {},
    )


async def _row(evidence_id: UUID) -> dict[str, Any] | None:
    return await Evidence.select().where(Evidence.id == evidence_id).first()


def too_large(limit: int, field: str) -> TooLarge:
    return TooLarge(
        t("evidence.file_larger_than_limit_bytes", limit=limit, limit_mb=f"{limit / 1048576:g}"),
        field=field,
        limit=limit,
    )


def _append(f: BinaryIO, digest: Any, chunks: list[bytes]) -> None:
    start = f.tell()
    for chunk in chunks:
        f.write(chunk)
        digest.update(chunk)
    if _START_WRITEBACK:
        # Linux starts writing these dirty pages out on this advice without waiting for them, so
        # the disk works while the rest of the body arrives and the fsync before commit finds
        # little left to do (measured: 28 ms down to 2 ms for 50 MB).
        f.flush()
        os.posix_fadvise(f.fileno(), start, f.tell() - start, os.POSIX_FADV_DONTNEED)


async def spool(chunks: AsyncIterable[bytes], path: Path, limit: int) -> tuple[int, str]:
    """Write `chunks` to `path` while hashing them; stop at the first byte past `limit`.

    Batches of about 1 MiB go to one writer thread of this upload's own, which hashes and writes
    them in order while the event loop keeps receiving. Up to WRITES_IN_FLIGHT batches may wait
    for it, so the network is not paused each time the disk is slow, and memory stays bounded."""
    loop = asyncio.get_running_loop()
    digest = hashlib.sha256()
    size = 0
    batch: list[bytes] = []
    batched = 0
    in_flight: deque[asyncio.Future[None]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-spool") as writer, path.open("wb") as f:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise too_large(limit, "body")
                    batch.append(chunk)
                    batched += len(chunk)
                    if batched >= WRITE_BATCH_BYTES:
                        if len(in_flight) >= WRITES_IN_FLIGHT:
                            await in_flight.popleft()
                        in_flight.append(loop.run_in_executor(writer, _append, f, digest, batch))
                        batch, batched = [], 0
                in_flight.append(loop.run_in_executor(writer, _append, f, digest, batch))
                while in_flight:
                    await in_flight.popleft()
            finally:
                if in_flight:  # the thread must be done with the file before it closes
                    await asyncio.wait(in_flight)
    except OSError as exc:  # the staging disk is full or gone: to the client, the store is down
        raise unavailable("staging write", exc) from exc
    return size, digest.hexdigest()


class EvidenceService:
    def __init__(self, settings: Settings, clock: Clock, store: ObjectStore | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store or build_store(settings)
        self.limit = settings.storage.max_upload_bytes

    # Who may do what

    async def _may_upload_to(self, actor: Actor, project_id: UUID) -> None:
        access = await project_access(actor, project_id)  # NotFound for non-members
        if not access.has(*UPLOADING_ROLES):
            raise Forbidden(t("evidence.viewers_may_not_add_evidence_project"))

    async def _readable(self, actor: Actor, sha256: str) -> list[dict[str, Any]]:
        """The filings of these bytes the actor may read (links.readable_filings: its own, its
        project's as an office-side member, what the records it may read cite). None at all is
        404 for everyone alike, so neither a photo's existence nor its filer leaks."""
        links.check_sha256(sha256)
        rows = await links.readable_filings(actor, sha256)
        if not rows:
            raise NotFound(t("evidence.evidence_does_not_exist_not_yours", sha256=sha256))
        return rows

    @staticmethod
    async def _reload(evidence_id: UUID) -> dict[str, Any]:
        row = await _row(evidence_id)
        assert row is not None  # read inside the transaction that wrote it
        return row

    # Announcing and uploading

    def _kind_problem(self, content_type: str) -> Message | None:
        accepted = [k.value for k in readable_kinds()]
        if content_type not in accepted:
            return t("evidence.not_accepted_here_send_one", content_type=content_type, items=", ".join(accepted))
        return None

    async def start_upload(self, actor: Actor, data: s.UploadStart) -> s.UploadTicket:
        """Announce the evidence (pending) and say where its bytes go: a presigned PUT on S3, or
        this API's own PUT on disk. Works while the store is down: nothing here touches it."""
        problem = self._kind_problem(data.content_type)
        if problem:
            raise UnsupportedMediaType(problem, field="content_type")
        if data.size > self.limit:
            raise too_large(self.limit, "size")
        await self._may_upload_to(actor, data.project_id)
        async with write(actor, self.clock) as w:
            row = await links.announce(
                w,
                data.sha256,
                project_id=data.project_id,
                organisation_id=actor.organisation_id,
                content_type=data.content_type,
                original_name=data.original_name,
                evidence_id=data.id,
            )
            row = await self._reload(row["id"])
        ticket = s.UploadTicket(evidence=_out(row))
        if row["status"] == "stored":
            return ticket
        # A presigned upload goes to a key of this filing's own, never to the stored object: the
        # server verifies it and only then puts it in place (`complete`).
        key = rules.upload_key(row["id"])
        direct = self.store.direct_upload(
            key, sha256=data.sha256, content_type=data.content_type, size=data.size, ttl_s=PRESIGNED_UPLOAD_TTL_S
        )
        if direct is not None:
            target = s.UploadTarget(
                via="s3",
                method=direct.method,
                url=direct.url,
                headers=direct.headers,
                expires_at=self.clock.now() + timedelta(seconds=PRESIGNED_UPLOAD_TTL_S),
            )
        else:
            target = s.UploadTarget(via="api", method="PUT", url=evidence_url(data.sha256))
        return s.UploadTicket(
            evidence=ticket.evidence, upload=target, complete_url=f"{evidence_url(data.sha256)}/complete"
        )

    async def upload(
        self,
        actor: Actor,
        sha256: str,
        body: AsyncIterable[bytes],
        *,
        declared_size: int | None = None,
        project_id: UUID | None = None,
        original_name: str = "",
        office_only: bool = False,
    ) -> s.EvidenceOut:
        """The bytes through the API: streamed to a staging file while hashed, checked, then
        committed. The acting party's filing is marked stored; without one, a filing is made for
        it (in `project_id`) in the same transaction, so a refused upload writes nothing at all.
        Bytes the party may already read, stored, answer at once without the body being read;
        bytes it may not read must be sent whole, like any new bytes (that is the proof)."""
        links.check_sha256(sha256)
        readable = await links.readable_filings(actor, sha256, project_id)
        project = project_id if project_id is not None else (readable[0]["project"] if readable else None)
        if project is None:
            raise NotFound(
                t("evidence.evidence_has_not_been_announced_post", sha256=sha256, API_PREFIX=API_PREFIX),
                field="sha256",
            )
        await self._may_upload_to(actor, project)
        found_row = links.usable(actor, readable)
        if found_row is not None and found_row["status"] == "stored":
            return _out(found_row)  # sent twice: the first copy counts, the body is not read
        if declared_size is not None and declared_size > self.limit:
            raise too_large(self.limit, "body")
        problem = await self.store.check()
        if problem:  # fail before the client spends its weak link on bytes we cannot keep
            raise unavailable("check", RuntimeError(problem))
        with self.store.staging() as staged:
            size, digest = await spool(body, staged, self.limit)
            if declared_size is not None and size != declared_size:
                raise ValidationFailed(
                    t("evidence.body_ended_after_bytes_announced", size=size, declared_size=declared_size), field="body"
                )
            if size == 0:
                raise ValidationFailed(t("evidence.body_empty"), field="body")
            if digest != sha256:
                raise ValidationFailed(
                    t("evidence.body_s_sha_256_not_url", digest=digest, sha256=sha256), field="sha256"
                )
            found = await anyio.to_thread.run_sync(inspect_file, staged)
            await self._put_thumbnails(sha256, found)
            await self.store.commit(rules.object_key(sha256), staged, content_type=found.kind.value, sha256=sha256)
        return await self._mark_stored(
            actor,
            sha256,
            found,
            size,
            project_id=project,
            original_name=original_name,
            office_only=office_only,
        )

    async def complete(self, actor: Actor, sha256: str) -> s.EvidenceOut:
        """After a direct upload: read the object back from the filing's upload key, hash it here
        (a store's own checksum is not trusted), check it, make thumbnails, put it in place and
        only then count it. Wrong bytes are deleted."""
        links.check_sha256(sha256)
        readable = await links.readable_filings(actor, sha256)
        row = links.usable(actor, readable)
        if row is None:
            raise NotFound(t("evidence.evidence_has_not_been_announced", sha256=sha256), field="sha256")
        await self._may_upload_to(actor, row["project"])
        if row["status"] == "stored":
            return _out(row)
        upload_key = rules.upload_key(row["id"])
        with self.store.staging() as staged:
            try:
                size, digest = await spool(self.store.chunks(upload_key), staged, self.limit)
            except ObjectMissing as exc:
                raise Conflict(t("evidence.bytes_have_not_arrived_store_yet"), field="sha256") from exc
            except TooLarge:
                await self.store.delete(upload_key)
                raise
            try:
                if digest != sha256:
                    raise ValidationFailed(
                        t("evidence.uploaded_bytes_hash_not_they_were", digest=digest, sha256=sha256), field="sha256"
                    )
                found = await anyio.to_thread.run_sync(inspect_file, staged)
            except (ValidationFailed, UnsupportedMediaType):
                await self.store.delete(upload_key)
                raise
            await self._put_thumbnails(sha256, found)
            await self.store.commit(rules.object_key(sha256), staged, content_type=found.kind.value, sha256=sha256)
        await self.store.delete(upload_key)
        return await self._mark_stored(actor, sha256, found, size, project_id=row["project"])

    async def _put_thumbnails(self, sha256: str, found: Inspection) -> None:
        for side, data in found.thumbnails.items():
            await self.store.put_bytes(rules.thumbnail_key(sha256, side), data, content_type="image/jpeg")

    async def _mark_stored(
        self,
        actor: Actor,
        sha256: str,
        found: Inspection,
        size: int,
        *,
        project_id: UUID,
        original_name: str = "",
        office_only: bool = False,
    ) -> s.EvidenceOut:
        """Count the bytes for the acting party's filing in `project_id` (made now if it has
        none). Only the party's own filing is marked: another party's pending filing of the same
        bytes stays pending until that party sends them itself."""
        async with write(actor, self.clock) as w:
            row = await links.announce(
                w,
                sha256,
                project_id=project_id,
                organisation_id=actor.organisation_id,
                content_type=found.kind.value,
                original_name=original_name,
                office_only=office_only,
            )
            if row["status"] == "stored":  # a concurrent upload of the same bytes got there first
                return _out(row)
            await w.update(
                Evidence,
                row["id"],
                {
                    "status": "stored",
                    "content_type": found.kind.value,
                    "size_bytes": size,
                    "width": found.width,
                    "height": found.height,
                    "captured_at": found.captured_at,
                    "gps_lat": found.gps_lat,
                    "gps_lon": found.gps_lon,
                    "stored_at": w.now,
                },
                links.filing_buckets(row),
                current=row,
            )
            row = await self._reload(row["id"])
        return _out(row)

    # Reading

    async def meta(self, actor: Actor, sha256: str) -> s.EvidenceOut:
        """The facts of the filing the actor reads: its own if it has one, else one it may see."""
        return _out((await self._readable(actor, sha256))[0])

    async def download(self, actor: Actor, sha256: str, size: int | None = None) -> Download:
        """The bytes, when a filing the actor may read has them: another party's stored filing of
        the same bytes opens nothing to someone who may not read that filing."""
        readable = await self._readable(actor, sha256)
        row = next((r for r in readable if r["status"] == "stored"), readable[0])
        if row["status"] != "stored":
            raise Conflict(
                t("evidence.bytes_evidence_have_not_been_uploaded"), field="sha256", evidence_status="pending"
            )
        if size is None:
            key, content_type, etag, length = rules.object_key(sha256), row["content_type"], sha256, row["size_bytes"]
        elif size not in rules.THUMBNAIL_SIDES:
            raise ValidationFailed(
                t("evidence.thumbnails_come_px", items=" and ".join(map(str, rules.THUMBNAIL_SIDES))), field="size"
            )
        elif not row["content_type"].startswith("image/"):
            raise ValidationFailed(t("evidence.documents_have_no_thumbnails_leave_out"), field="size")
        else:
            key, content_type, etag, length = rules.thumbnail_key(sha256, size), "image/jpeg", f"{sha256}-{size}", None
        disposition = rules.content_disposition(sha256, content_type)
        url = await self.store.download_url(
            key,
            content_type=content_type,
            ttl_s=PRESIGNED_DOWNLOAD_TTL_S,
            cache_control=IMMUTABLE,
            disposition=disposition,
        )
        if url is not None:
            # the redirect must not outlive the signature it carries
            return Download(
                etag, content_type, length, url, None, f"private, max-age={PRESIGNED_DOWNLOAD_TTL_S // 2}", disposition
            )
        if not await self.store.exists(key):
            raise Conflict(t("evidence.stored_bytes_evidence_cannot_found_report"), field="sha256")
        return Download(etag, content_type, length, None, self.store.chunks(key), IMMUTABLE, disposition)


async def missing_uploads(now: datetime, days: int) -> list[s.MissingPhoto]:
    """Evidence that records cite but whose bytes never arrived, announced more than `days` ago.
    A pending row is written once, when announced, so its `updated_at` is that time."""
    if days < 0:
        raise ValidationFailed(t("evidence.days_must_not_negative"), field="days")
    cutoff = now - timedelta(days=days)
    rows = await (
        EvidenceLink.select(
            EvidenceLink.sha256,
            EvidenceLink.record_table,
            EvidenceLink.record_id,
            EvidenceLink.evidence.project.as_alias("project"),
            EvidenceLink.evidence.updated_at.as_alias("announced_at"),
            EvidenceLink.evidence.created_by.as_alias("uploader"),
        )
        .where(
            (EvidenceLink.evidence.status == "pending")
            & (EvidenceLink.evidence.updated_at < cutoff)
            & EvidenceLink.deleted.eq(False)
        )
        .order_by(EvidenceLink.evidence.updated_at)
    )
    found: dict[str, s.MissingPhoto] = {}
    for r in rows:
        item = found.setdefault(
            r["sha256"],
            s.MissingPhoto(
                sha256=r["sha256"],
                project_id=r["project"],
                announced_at=r["announced_at"],
                uploader_id=r["uploader"],
                records=[],
            ),
        )
        item.records.append(f"{r['record_table']}:{r['record_id']}")
    return list(found.values())
