"""Evidence metadata (persistence only). The bytes live in the object store under their SHA-256."""

from piccolo.columns import UUID, BigInt, Boolean, Float, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project
from inspection.records import SyncColumns


class Evidence(SyncColumns, Table):
    """证据 — one party's filing of a photo or document in a project, named by the SHA-256 of its
    bytes (the bytes are stored once, under that hash). The row exists (status `pending`) as soon
    as its party announces it, so records can name it before the bytes arrive; it counts as
    `stored` only once the server has hashed the bytes from that party itself (or the party could
    already read stored bytes). Another party announcing the same bytes gets a filing of its own:
    knowing a hash gives access to nothing (inspection/evidence/links.py)."""

    id = UUID(primary_key=True)
    # Not unique: one row per filing. (The first migration made it unique; evidence migration
    # 2026-12-03T10:00 dropped that in SQL, which Piccolo cannot do on SQLite.)
    sha256 = Varchar(length=64, index=True)
    status = Varchar(length=20, default="pending", index=True)  # pending | stored
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    # the uploader's organisation: a contractor's photos stay in that contractor's bucket
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    content_type = Varchar(length=60, default="")
    size_bytes = BigInt(null=True, default=None)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    captured_at = Timestamptz(null=True, default=None)
    gps_lat = Float(null=True, default=None)
    gps_lon = Float(null=True, default=None)
    original_name = Varchar(length=200, default="")
    stored_at = Timestamptz(null=True, default=None)
    # Residents' complaint photos: among the project's members only the office roles read them.
    office_only = Boolean(default=False)


class EvidenceLink(SyncColumns, Table):
    """A record that cites one filing of evidence (an inspection answer, an order, a response, a
    sample, a batch, a claim, an acceptance, a complaint). Who may read a filing follows these
    records; a record cites only filings its writer could read or had filed."""

    id = UUID(primary_key=True)
    evidence = ForeignKey(references=Evidence, null=False, on_delete=OnDelete.restrict, index=True)
    sha256 = Varchar(length=64, index=True)
    record_table = Varchar(length=60)
    record_id = UUID(index=True)
    purpose = Varchar(length=40, default="photo")
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
