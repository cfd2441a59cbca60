"""Evidence metadata (persistence only). The bytes live in the object store under their SHA-256."""

from piccolo.columns import UUID, BigInt, Float, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project
from inspection.records import SyncColumns


class Evidence(SyncColumns, Table):
    """证据 — one photo or document, named by the SHA-256 of its bytes. The row exists (status
    `pending`) as soon as a client announces it, so records can name it before the bytes arrive;
    it counts as `stored` only after the server has hashed the bytes itself."""

    id = UUID(primary_key=True)
    sha256 = Varchar(length=64, unique=True)
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


class EvidenceLink(SyncColumns, Table):
    """A record that cites a piece of evidence (an inspection answer, an order, a response, a
    sample, a batch, a claim, an acceptance). Who may read the evidence follows these records."""

    id = UUID(primary_key=True)
    evidence = ForeignKey(references=Evidence, null=False, on_delete=OnDelete.restrict, index=True)
    sha256 = Varchar(length=64, index=True)
    record_table = Varchar(length=60)
    record_id = UUID(index=True)
    purpose = Varchar(length=40, default="photo")
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.restrict, index=True)
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
