"""Request and response shapes for evidence (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from inspection.projects.schemas import Input, Output, Synced

Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lower-case hex")]
ContentType = Annotated[str, Meta(min_length=1, max_length=60)]
OriginalName = Annotated[str, Meta(max_length=200)]


class UploadStart(Input, kw_only=True):
    """Announce a photo or document and ask where to send its bytes."""

    sha256: Sha256
    project_id: UUID
    content_type: ContentType
    size: Annotated[int, Meta(ge=1)]
    original_name: OriginalName = ""
    id: UUID | None = None


class UploadTarget(Output, kw_only=True):
    """Send the bytes with this method to this URL, with these headers. `via` is `api` (add your
    bearer token) or `s3` (a presigned URL: send no token)."""

    via: str
    method: str
    url: str
    headers: dict[str, str] = {}
    expires_at: datetime | None = None


class EvidenceOut(Synced, kw_only=True):
    id: UUID
    sha256: str
    status: str
    project_id: UUID
    organisation_id: UUID | None = None
    content_type: str = ""
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    captured_at: datetime | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    original_name: str = ""
    stored_at: datetime | None = None
    url: str = ""
    thumbnails: dict[str, str] = {}


class UploadTicket(Output, kw_only=True):
    """The announced evidence, and (while its bytes are missing) where to upload them and which
    call confirms the upload."""

    evidence: EvidenceOut
    upload: UploadTarget | None = None
    complete_url: str = ""


class MissingPhoto(msgspec.Struct, kw_only=True):
    """Evidence cited by records whose bytes never arrived."""

    sha256: str
    project_id: UUID
    announced_at: datetime
    uploader_id: UUID | None
    records: list[str]
