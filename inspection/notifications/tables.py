"""Per-user notification preferences and the events held for a daily digest (persistence only)."""

from piccolo.columns import UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Project, User


class NotificationPreference(Table, tablename="notification_preference"):
    """How one user hears about one kind of event: immediate | digest | off. No row: immediate.
    Unique per (user, kind) (see this app's migrations)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    mode = Varchar(length=20)
    updated_at = Timestamptz()


class DigestTime(Table, tablename="notification_digest_time"):
    """When a user's daily digest goes out: minutes after local midnight. No row: 08:00."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, unique=True, on_delete=OnDelete.cascade)
    minute = Integer(default=480)
    updated_at = Timestamptz()


class HeldNotification(Table, tablename="notification_held"):
    """An event kept for a user's next digest; `digest_day` is the local day of the digest that
    listed it (null until then). Unique per (user, kind, subject_table, subject_id, occurrence),
    like the outbox, so an event held twice is listed once."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade, index=True)
    project = ForeignKey(references=Project, null=True, default=None, on_delete=OnDelete.cascade)
    kind = Varchar(length=40)
    subject_table = Varchar(length=60)
    subject_id = UUID()
    occurrence = Integer(default=0)
    message = Text(default="")
    created_at = Timestamptz()
    digest_day = Date(null=True, default=None, index=True)
