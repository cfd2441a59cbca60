"""The document register (persistence only)."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import User
from inspection.records import SyncColumns


class IssuedDocument(SyncColumns, Table, tablename="issued_document"):
    """发文登记 — one numbered PDF document: which report of which record, the SHA-256 of the data it
    shows, when it was first issued and by whom. The same content printed again keeps its number;
    changed content gets a new one. The public verification page answers from this table alone."""

    id = UUID(primary_key=True)
    number = Varchar(length=40, unique=True)
    kind = Varchar(length=40, index=True)
    # the record the document is about (an order, an inspection, a project, a programme); a plain
    # UUID because some of those tables belong to apps built in parallel
    subject_id = UUID(index=True)
    project_id = UUID(null=True, default=None)
    content_sha256 = Varchar(length=64, index=True)
    year = Integer()
    serial = Integer()
    issued_at = Timestamptz()
    issuer = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)


class DocumentCounter(Table, tablename="document_counter"):
    """The last serial handed out per document kind and year. A registration locks its row until
    it commits, so two documents issued at once get two numbers, and the same content printed
    twice at once gets one."""

    kind = Varchar(length=40)
    year = Integer()
    last = Integer(default=0)
