"""Form posts read as they arrive: text fields kept in memory (small), each file spooled to the
evidence staging folder while it is hashed, so a photo of any allowed size never sits in memory
and its SHA-256 is known the moment its last byte lands."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl

import anyio.to_thread
from litestar import Request
from litestar.exceptions import InternalServerException
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from api.deps import services_of
from inspection.errors import TooLarge, ValidationFailed
from inspection.messages import t

MAX_FIELD_BYTES = 20_000
MAX_FIELDS = 30
WRITE_BATCH_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    path: Path
    size: int
    sha256: str

    async def chunks(self) -> AsyncIterator[bytes]:
        with self.path.open("rb") as f:
            while True:
                block = await anyio.to_thread.run_sync(f.read, READ_CHUNK_BYTES)
                if not block:
                    return
                yield block


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


def _write(f: BinaryIO, digest: Any, batch: list[bytes]) -> None:
    for chunk in batch:
        f.write(chunk)
        digest.update(chunk)


async def _stream(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except InternalServerException as exc:  # the browser went away mid-upload
        raise ValidationFailed(t("portal.upload_was_cut_off_before_ended"), field="photos") from exc


async def read_form(
    request: Request[Any, Any, Any],
    stack: ExitStack,
    *,
    max_files: int = 0,
    max_fields: int = MAX_FIELDS,
    file_limit: int | None = None,
    into: Form | None = None,
) -> Form:
    """Parse an urlencoded or multipart form. Files (at most `max_files`, each up to
    `file_limit` bytes, default storage.max_upload_bytes) go to staging files that `stack` removes.
    Fields are put in `into` as they arrive, so when a photo is refused half-way (too large, wrong
    count) the caller still has the text typed before it and can show the form again with it."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == "application/x-www-form-urlencoded":
        body = await request.body()
        if len(body) > max_fields * MAX_FIELD_BYTES:
            raise TooLarge(t("portal.form_too_large"), field="body", limit=max_fields * MAX_FIELD_BYTES)
        form = into if into is not None else Form()
        form.fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return form
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise ValidationFailed(t("portal.send_form_as_multipart_form_data"), field="content-type")
    services = services_of(request)
    limit = file_limit or services.settings.storage.max_upload_bytes
    store = services.evidence.store
    form = into if into is not None else Form()
    segment: MultipartSegment | None = None
    text = bytearray()
    f: BinaryIO | None = None
    digest: Any = None
    batch: list[bytes] = []
    batched = 0
    size = 0
    path: Path | None = None
    try:
        with PushMultipartParser(options["boundary"], max_segment_count=max_fields + max_files) as parser:
            async for chunk in _stream(request):
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text, size, batch, batched = event, bytearray(), 0, [], 0
                        if event.filename is not None:
                            if not event.filename:  # an empty file input
                                f = None
                                continue
                            if len(form.files) >= max_files:
                                raise ValidationFailed(
                                    t("portal.send_at_most_photos_at_once", max_files=max_files), field="photos"
                                )
                            path = stack.enter_context(store.staging())
                            f = stack.enter_context(path.open("wb"))
                            digest = hashlib.sha256()
                    elif isinstance(event, (bytes, bytearray)):
                        assert segment is not None
                        if segment.filename is None:
                            text += event
                            if len(text) > MAX_FIELD_BYTES:
                                raise TooLarge(
                                    t("portal.field_too_long", name=segment.name), field=segment.name, limit=0
                                )
                        elif f is not None:
                            size += len(event)
                            if size > limit:
                                raise TooLarge(
                                    t(
                                        "portal.photo_larger_than_limit_bytes",
                                        limit=limit,
                                        limit_mb=f"{limit / 1048576:g}",
                                    ),
                                    field="photos",
                                    limit=limit,
                                )
                            batch.append(bytes(event))
                            batched += len(event)
                            if batched >= WRITE_BATCH_BYTES:
                                await anyio.to_thread.run_sync(_write, f, digest, batch)
                                batch, batched = [], 0
                    else:  # end of the segment
                        assert segment is not None
                        if segment.filename is None:
                            if len(form.fields) >= max_fields:
                                raise ValidationFailed(t("portal.form_has_too_many_fields"), field="body")
                            form.fields[segment.name or ""] = text.decode(segment.charset or "utf-8", "replace")
                        elif f is not None and path is not None:
                            await anyio.to_thread.run_sync(_write, f, digest, batch)
                            f.close()
                            if size:
                                form.files.append(
                                    UploadedFile(
                                        field=segment.name or "",
                                        filename=(segment.filename or "")[-200:],
                                        content_type=segment.content_type or "",
                                        path=path,
                                        size=size,
                                        sha256=digest.hexdigest(),
                                    )
                                )
                            f = None
                        segment = None
    except MultipartError as exc:
        raise ValidationFailed(t("portal.form_could_not_read", exc=exc), field="body") from exc
    return form
