"""Photo and document evidence over HTTP: announce, upload (through the API or presigned to S3),
confirm, download and metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import InternalServerException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_302_FOUND, HTTP_304_NOT_MODIFIED

from api.deps import PROVIDERS, EvidenceDep
from api.openapi import BINARY
from inspection.actor import Actor
from inspection.errors import ValidationFailed
from inspection.evidence import schemas as s
from inspection.evidence.rules import Kind
from inspection.evidence.service import Download
from inspection.messages import t

Me = NamedDependency[Actor]
OriginalName = Annotated[str, QueryParameter(name="name", max_length=200, description="the file's name on the device")]

# Litestar's app-wide body limit (server.max_body_bytes, 1 MiB) is for JSON. This route lifts it
# to the highest value storage.max_upload_bytes may take; the configured limit itself is enforced
# by the service while it streams, so it follows whatever settings the app was built with.
UPLOAD_ROUTE_CEILING = 5 * 1024**3


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except InternalServerException as exc:  # the client went away mid-body
        raise ValidationFailed(t("api.upload_was_cut_off_before_body"), field="body") from exc


def _download_response(request: Request[Any, Any, Any], found: Download) -> Response[Any]:
    etag = f'"{found.etag}"'
    headers = {"ETag": etag, "Cache-Control": found.cache_control}
    wanted = request.headers.get("if-none-match", "")
    if etag in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*":
        return Response(content=None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    if found.url is not None:
        return Redirect(path=found.url, status_code=HTTP_302_FOUND, headers=headers)
    if found.size is not None:
        headers["Content-Length"] = str(found.size)
    assert found.chunks is not None
    # images inline, anything else as a download (api/security.py adds the sandbox CSP)
    headers["Content-Disposition"] = found.disposition
    return Stream(content=found.chunks, media_type=found.content_type, headers=headers)


class EvidenceController(Controller):
    path = "/evidence"
    dependencies = {"evidence": PROVIDERS["evidence"]}
    tags = ["evidence"]

    @post("/uploads", operation_id="start_evidence_upload")
    async def start(self, data: JSONBody[s.UploadStart], actor: Me, evidence: EvidenceDep) -> s.UploadTicket:
        """Announce a photo or document by its SHA-256 (it shows as pending at once, even while the
        object store is down) and get where to send the bytes: a presigned S3 PUT that requires
        the SHA-256 checksum, or this API's PUT on the disk backend. Then call `complete_url`."""
        return await evidence.start_upload(actor, data)

    @put(
        "/{sha256:str}",
        operation_id="upload_evidence",
        request_max_body_size=UPLOAD_ROUTE_CEILING,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        sha256: FromPath[str],
        actor: Me,
        evidence: EvidenceDep,
        project_id: FromQuery[UUID | None] = None,
        name: OriginalName = "",
    ) -> s.EvidenceOut:
        """Send the raw bytes as the body. The server hashes them while streaming and refuses a
        body whose SHA-256 is not the one in the URL. Evidence must be announced first, or name
        its `project_id` here. Sending bytes already stored answers at once."""
        return await evidence.upload(
            actor,
            sha256,
            _body(request),
            declared_size=request.content_length,
            project_id=project_id,
            original_name=name,
        )

    @post("/{sha256:str}/complete", operation_id="complete_evidence_upload", status_code=200)
    async def complete(self, sha256: FromPath[str], actor: Me, evidence: EvidenceDep) -> s.EvidenceOut:
        """Confirm a direct upload: the server reads the object back, hashes and checks it, and
        only then counts it. Wrong bytes are deleted and refused."""
        return await evidence.complete(actor, sha256)

    @get("/{sha256:str}/meta", operation_id="get_evidence_meta")
    async def meta(self, sha256: FromPath[str], actor: Me, evidence: EvidenceDep) -> s.EvidenceOut:
        """Status, type, size, EXIF capture time and position."""
        return await evidence.meta(actor, sha256)

    @get(
        "/{sha256:str}",
        operation_id="download_evidence",
        opt={
            "responses": {
                200: {
                    "description": "the bytes as stored, or a JPEG thumbnail",
                    "content": dict.fromkeys((kind.value for kind in Kind), BINARY),
                },
                302: {"description": "on S3: a short-lived presigned URL of the bytes (Location)"},
                304: {"description": "the ETag sent in If-None-Match: the content never changes"},
            }
        },
    )
    async def download(
        self,
        request: Request[Any, Any, Any],
        sha256: FromPath[str],
        actor: Me,
        evidence: EvidenceDep,
        size: FromQuery[int | None] = None,
    ) -> Response[Any]:
        """The bytes (or a 1280 or 320 px JPEG thumbnail with `size`): a short-lived redirect to
        the store on S3, streamed from disk otherwise. The ETag is the SHA-256; content never
        changes."""
        return _download_response(request, await evidence.download(actor, sha256, size))
