"""The reference tablet client: a local SQLite copy of the user's buckets and an ordered outbox.

It is what the tests (and the `simulate` command) use as a tablet, and a specification in code
for app developers:

- every change the user makes is a named mutation appended to the outbox with the next sequence
  number; nothing is lost when the app dies, the network drops or the user signs out;
- push sends the outbox in order and stores each outcome; a retry after a lost answer gets the
  server's stored outcome, never a second application;
- pull applies each page and its cursor in ONE local transaction, so a crash between pages
  resumes from the last page applied;
- several people may use one tablet: rows, cursors and outboxes are kept per user;
- photos are kept on the tablet until the server has verified their bytes: records cite them by
  SHA-256 at once (the server shows them as pending), the bytes go up when the link allows, and an
  interrupted upload is simply sent again on the next sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import msgspec

from inspection.clock import Clock, SystemClock

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (user TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (user, key));
CREATE TABLE IF NOT EXISTS rows (
    user TEXT NOT NULL, tbl TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, project TEXT,
    PRIMARY KEY (user, tbl, id)
);
CREATE TABLE IF NOT EXISTS outbox (
    user TEXT NOT NULL, seq INTEGER NOT NULL, mutation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', result TEXT, PRIMARY KEY (user, seq)
);
CREATE TABLE IF NOT EXISTS photos (
    user TEXT NOT NULL, sha256 TEXT NOT NULL, project TEXT NOT NULL, content_type TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '', data BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    announced INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT, PRIMARY KEY (user, sha256)
);
"""

# Upload answers that mean "try again later" rather than "these bytes will never be accepted".
RETRYABLE = {401, 408, 409, 425, 429, 500, 502, 503, 504}


class SyncFailed(Exception):
    """The server could not be reached or kept refusing after the retries allowed."""


@dataclass
class SyncReport:
    pushed: int = 0
    pulled_pages: int = 0
    upserts: int = 0
    deletes: int = 0
    purged: int = 0
    reset: bool = False
    photos_sent: int = 0


class TabletClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        db_path: str,
        device_id: str | None = None,
        *,
        schema_version: int = 1,
        page_limit: int = 500,
        push_batch: int = 100,
        retries: int = 5,
        backoff_s: float = 0.05,
        clock_offset: timedelta = timedelta(0),
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.http = http
        self.db = sqlite3.connect(db_path, isolation_level=None)
        # A write-ahead log: a commit (a pulled page with its cursor, an outbox entry) appends to
        # the log and syncs it once, instead of syncing a rollback journal and the database file;
        # as durable (synchronous stays FULL), and readers never wait for the writer.
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)
        self.device_id = device_id or self._meta("", "device_id") or f"tablet-{uuid.uuid4().hex[:12]}"
        self._set_meta("", "device_id", self.device_id)
        self.schema_version = schema_version
        self.page_limit = page_limit
        self.push_batch = push_batch
        self.retries = retries
        self.backoff_s = backoff_s
        self.clock = clock or SystemClock()  # the device's own clock
        self.clock_offset = clock_offset  # a tablet whose clock is wrong
        # the retry jitter's own source: a test seeds it, and nothing else draws from it
        self.rng = rng or random.Random()
        self.user: str = self._meta("", "current_user") or ""

    # local storage

    def _meta(self, user: str, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE user = ? AND key = ?", (user, key)).fetchone()
        return row[0] if row else None

    def _set_meta(self, user: str, key: str, value: str | None) -> None:
        self.db.execute(
            "INSERT INTO meta (user, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (user, key) DO UPDATE SET value = excluded.value",
            (user, key, value),
        )

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        found = self.db.execute("SELECT id, data FROM rows WHERE user = ? AND tbl = ?", (self.user, table))
        return {rid: json.loads(data) for rid, data in found}

    def row(self, table: str, row_id: Any) -> dict[str, Any] | None:
        found = self.db.execute(
            "SELECT data FROM rows WHERE user = ? AND tbl = ? AND id = ?", (self.user, table, str(row_id))
        ).fetchone()
        return json.loads(found[0]) if found else None

    def outbox(self, status: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, mutation, status, result FROM outbox WHERE user = ?"
        args: tuple[Any, ...] = (self.user,)
        if status:
            sql += " AND status = ?"
            args += (status,)
        out = []
        for seq, mutation, st, result in self.db.execute(sql + " ORDER BY seq", args):
            out.append(
                {"seq": seq, "mutation": json.loads(mutation), "status": st, "result": json.loads(result or "null")}
            )
        return out

    def rejected(self) -> list[dict[str, Any]]:
        """Outbox entries the server refused, with its reason, for the user to see."""
        return self.outbox("rejected")

    def conflicts(self) -> list[dict[str, Any]]:
        return list(self.rows("sync_conflict").values())

    # session

    def _now(self) -> str:
        return (self.clock.now() + self.clock_offset).isoformat()

    async def login(self, username: str, password: str) -> None:
        r = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password, "device_id": self.device_id}
        )
        if r.status_code != 200:
            raise SyncFailed(f"login failed: {r.status_code} {r.text[:200]}")
        body = r.json()
        self.user = body["user"]["id"]
        self._set_meta("", "current_user", self.user)
        self._set_meta(self.user, "access_token", body["access_token"])
        self._set_meta(self.user, "refresh_token", body["refresh_token"])

    async def logout(self) -> None:
        """Signs out but keeps this user's unsent outbox on the tablet for their next sign-in."""
        token = self._meta(self.user, "access_token")
        if token:
            try:
                await self.http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError:
                pass
        self._set_meta(self.user, "access_token", None)
        self._set_meta(self.user, "refresh_token", None)
        self._set_meta("", "current_user", "")
        self.user = ""

    async def _refresh(self) -> bool:
        token = self._meta(self.user, "refresh_token")
        if not token:
            return False
        r = await self.http.post("/api/v1/auth/refresh", json={"refresh_token": token, "device_id": self.device_id})
        if r.status_code != 200:
            return False
        body = r.json()
        self._set_meta(self.user, "access_token", body["access_token"])
        self._set_meta(self.user, "refresh_token", body["refresh_token"])
        return True

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST with retries: transport errors and 503 back off with full jitter."""
        for attempt in range(self.retries + 1):
            headers = {"Authorization": f"Bearer {self._meta(self.user, 'access_token') or ''}"}
            try:
                r = await self.http.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise SyncFailed(f"{path}: {type(exc).__name__}") from exc
            else:
                if r.status_code == 401 and attempt < self.retries and await self._refresh():
                    continue
                if r.status_code not in (429, 502, 503, 504):
                    return r
                if attempt == self.retries:
                    raise SyncFailed(f"{path}: {r.status_code} after {self.retries} retries: {r.text[:300]}")
            await asyncio.sleep(self.rng.uniform(0, self.backoff_s * 2**attempt))
        raise SyncFailed(path)

    # outbox

    def enqueue(
        self,
        name: str,
        entity_id: Any,
        args: dict[str, Any],
        *,
        base_version: int | None = None,
        base_values: dict[str, Any] | None = None,
    ) -> int:
        """Record a change for the server. Survives crashes and sign-outs; sent in order."""
        if not self.user:
            raise SyncFailed("sign in first")
        row = self.db.execute("SELECT MAX(seq) FROM outbox WHERE user = ?", (self.user,)).fetchone()
        seq = int(self._meta(self.user, "last_seq_made") or 0)
        seq = max(seq, row[0] or 0) + 1
        mutation = {
            "seq": seq,
            "id": str(uuid.uuid4()),
            "name": name,
            "entity_id": str(entity_id) if entity_id is not None else None,
            "base_version": base_version,
            "base_values": base_values or {},
            "args": args,
            "device_ts": self._now(),
        }
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO outbox (user, seq, mutation) VALUES (?, ?, ?)", (self.user, seq, json.dumps(mutation))
        )
        self._set_meta(self.user, "last_seq_made", str(seq))
        self.db.execute("COMMIT")
        return seq

    def edit(self, table: str, row_id: Any, changes: dict[str, Any], name: str) -> int:
        """Enqueue a field edit against the local copy, with the base the user saw."""
        current = self.row(table, row_id) or {}
        return self.enqueue(
            name,
            row_id,
            {"set": changes},
            base_version=current.get("version"),
            base_values={k: current.get(k) for k in changes},
        )

    async def push(self) -> int:
        sent = 0
        while True:
            pending = self.outbox("pending")[: self.push_batch]
            if not pending:
                return sent
            body = {
                "device_id": self.device_id,
                "schema_version": self.schema_version,
                "device_now": self._now(),
                "mutations": [p["mutation"] for p in pending],
            }
            r = await self._post("/api/v1/sync/push", body)
            if r.status_code != 200:
                raise SyncFailed(f"push refused: {r.status_code} {r.text[:300]}")
            self.db.execute("BEGIN IMMEDIATE")
            for result in r.json()["results"]:
                status = "rejected" if result["status"] == "rejected" else "done"
                self.db.execute(
                    "UPDATE outbox SET status = ?, result = ? WHERE user = ? AND seq = ?",
                    (status, json.dumps(result), self.user, result["seq"]),
                )
            self.db.execute("COMMIT")
            sent += len(r.json()["results"])

    # photos

    def add_photo(self, data: bytes, project_id: Any, content_type: str = "image/jpeg", name: str = "") -> str:
        """Keep a photo on the tablet for upload; returns the SHA-256 that records cite."""
        if not self.user:
            raise SyncFailed("sign in first")
        sha256 = hashlib.sha256(data).hexdigest()
        self.db.execute(
            "INSERT INTO photos (user, sha256, project, content_type, name, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user, sha256) DO NOTHING",
            (self.user, sha256, str(project_id), content_type, name, data),
        )
        return sha256

    def photos(self, status: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT sha256, project, status, attempts, error FROM photos WHERE user = ?"
        args: tuple[Any, ...] = (self.user,)
        if status:
            sql += " AND status = ?"
            args += (status,)
        keys = ("sha256", "project", "status", "attempts", "error")
        return [dict(zip(keys, row, strict=True)) for row in self.db.execute(sql, args)]

    def _photo_state(self, sha256: str, status: str, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE photos SET status = ?, error = ?, attempts = attempts + 1 WHERE user = ? AND sha256 = ?",
            (status, error, self.user, sha256),
        )

    async def _send_bytes(self, target: dict[str, Any], data: bytes) -> httpx.Response:
        headers = dict(target.get("headers") or {})
        if target.get("via") == "api":
            headers["Authorization"] = f"Bearer {self._meta(self.user, 'access_token') or ''}"
            return await self.http.request(target["method"], target["url"], content=data, headers=headers)
        # a presigned URL on the object store: no bearer token, and not through the API's client
        async with httpx.AsyncClient(timeout=60) as direct:
            return await direct.request(target["method"], target["url"], content=data, headers=headers)

    async def _announce(self, sha256: str, project: str, content_type: str, name: str, size: int) -> httpx.Response:
        r = await self._post(
            "/api/v1/evidence/uploads",
            {
                "sha256": sha256,
                "project_id": project,
                "content_type": content_type,
                "size": size,
                "original_name": name,
            },
        )
        if r.status_code in (200, 201):
            self.db.execute("UPDATE photos SET announced = 1 WHERE user = ? AND sha256 = ?", (self.user, sha256))
        return r

    async def announce_photos(self) -> None:
        """Tell the server about photos before the records that cite them are pushed, so those
        records save with the photo pending. Needs no object store: works while it is down."""
        rows = self.db.execute(
            "SELECT sha256, project, content_type, name, length(data) FROM photos "
            "WHERE user = ? AND status = 'pending' AND announced = 0",
            (self.user,),
        ).fetchall()
        for sha256, project, content_type, name, size in rows:
            r = await self._announce(sha256, project, content_type, name, size)
            if r.status_code >= 300 and r.status_code not in RETRYABLE:
                self._photo_state(sha256, "refused", r.text[:500])

    async def upload_photos(self) -> int:
        """Send and confirm every photo still pending. A photo the link drops stays pending for
        the next sync; one the server refuses for good is marked refused, with the server's
        reason, for the user to see."""
        sent = 0
        rows = self.db.execute(
            "SELECT sha256, project, content_type, name, data FROM photos WHERE user = ? AND status = 'pending'",
            (self.user,),
        ).fetchall()
        for sha256, project, content_type, name, data in rows:
            try:
                # announcing again is harmless and gives a fresh upload target (presigned URLs expire)
                r = await self._announce(sha256, project, content_type, name, len(data))
                if r.status_code in (200, 201) and r.json().get("upload"):
                    ticket = r.json()
                    r = await self._send_bytes(ticket["upload"], data)
                    if r.status_code < 300:
                        r = await self._post(ticket["complete_url"], {})
            except (httpx.TransportError, SyncFailed) as exc:
                self._photo_state(sha256, "pending", f"link lost: {type(exc).__name__}")
                continue
            if r.status_code < 300:
                self._photo_state(sha256, "stored")
                sent += 1
            elif r.status_code in RETRYABLE:
                self._photo_state(sha256, "pending", f"server answered {r.status_code}")
            else:
                self._photo_state(sha256, "refused", r.text[:500])
        return sent

    # pull

    def _apply_page(self, page: _Page, report: SyncReport) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for purge in page.purge:
                project = purge.get("project_id")
                if project:
                    gone = self.db.execute(
                        "DELETE FROM rows WHERE user = ? AND (project = ? OR (tbl = 'project' AND id = ?))",
                        (self.user, project, project),
                    )
                    report.purged += gone.rowcount
            for table, change in page.changes.items():
                # The rows go into the local database as the server wrote them, a table's at once:
                # SQLite takes them apart itself (no Python object per row, nothing encoded again).
                stored = self.db.execute(_STORE_ROWS, (self.user, table, table, bytes(change.upsert).decode()))
                report.upserts += stored.rowcount
                for rid in change.delete:
                    self.db.execute("DELETE FROM rows WHERE user = ? AND tbl = ? AND id = ?", (self.user, table, rid))
                    report.deletes += 1
            self._set_meta(self.user, "cursor", page.cursor)
            self._set_meta(self.user, "server_mutation_seq", str(page.last_mutation_seq))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _pull_request(self, cursor: str | None) -> asyncio.Task[httpx.Response]:
        body = {
            "device_id": self.device_id,
            "schema_version": self.schema_version,
            "cursor": cursor,
            "limit": self.page_limit,
            "device_now": self._now(),
        }
        return asyncio.ensure_future(self._post("/api/v1/sync/pull", body))

    async def pull(self, max_pages: int = 10_000) -> SyncReport:
        """Pull until the server has nothing more. Each page is applied with its cursor in one
        local transaction (a crash between pages resumes after the last one applied); the next
        page is asked for before this one is written, as the tablet app does."""
        report = SyncReport()
        request = self._pull_request(self._meta(self.user, "cursor"))
        try:
            for _ in range(max_pages):
                r = await request
                if r.status_code != 200:
                    raise SyncFailed(f"pull refused: {r.status_code} {r.text[:300]}")
                page = _decode_page(r.content)
                if page.reset_required:
                    # Replacement sync: forget the local copy, keep the outbox, start again.
                    self.db.execute("DELETE FROM rows WHERE user = ?", (self.user,))
                    self._set_meta(self.user, "cursor", None)
                    report.reset = True
                    request = self._pull_request(None)
                    continue
                if page.has_more:
                    request = self._pull_request(page.cursor)
                    await asyncio.sleep(0)  # let it go out before this page is written
                self._apply_page(page, report)
                report.pulled_pages += 1
                if not page.has_more:
                    return report
        finally:
            if not request.done():
                request.cancel()
                with contextlib.suppress(BaseException):
                    await request
        raise SyncFailed("pull did not finish within max_pages")

    async def sync(self) -> SyncReport:
        """Announce new photos, push the outbox (its records may cite those photos), send the
        photos' bytes, then pull what changed."""
        await self.announce_photos()
        pushed = await self.push()
        photos_sent = await self.upload_photos()
        report = await self.pull()
        report.pushed = pushed
        report.photos_sent = photos_sent
        return report

    def close(self) -> None:
        self.db.close()


class _Change(msgspec.Struct):
    upsert: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"[]"))
    delete: list[str] = msgspec.field(default_factory=list)


class _Page(msgspec.Struct):
    """A pull's answer as the client reads it: the rows stay the JSON the server wrote."""

    cursor: str | None = None
    has_more: bool = False
    changes: dict[str, _Change] = msgspec.field(default_factory=dict)
    purge: list[dict[str, Any]] = msgspec.field(default_factory=list)
    last_mutation_seq: int = 0
    reset_required: bool = False


_decode_page = msgspec.json.Decoder(_Page).decode
# A table's rows of a page, one JSON array, stored row by row (a project's own row is its project).
_STORE_ROWS = (
    "INSERT INTO rows (user, tbl, id, data, project)"
    " SELECT ?, ?, json_extract(value, '$.id'), value,"
    " COALESCE(json_extract(value, '$.project'), CASE WHEN ? = 'project' THEN json_extract(value, '$.id') END)"
    " FROM json_each(?) WHERE true"
    " ON CONFLICT (user, tbl, id) DO UPDATE SET data = excluded.data, project = excluded.project"
)


def ids(rows: Iterable[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}
