"""The outbox's tables (persistence only): notifications, their deliveries and webhook subscriptions.

They were made by the rectification app (`notification`) and the alerts app (`alert_delivery`,
`webhook_subscription`), whose migrations still own them: those apps list these classes, so moving
the code here needed no data migration. Only the notifications domain reads or writes them.
`notification` and `alert_delivery` are written by the scheduler from several processes at once
with insert-or-ignore on a unique key; they are server records and do not sync to tablets.
"""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspection.projects.tables import Organisation, Project, User


class Notification(Table):
    """通知 — the outbox of messages to people or organisations. delivery.py hands them on
    by webhook and e-mail (`delivered_at`); the in-app feed reads them. One row per (subject, rule, occurrence,
    threshold, recipient): see the unique index in this app's migrations, which makes a job that
    runs twice create each notification once."""

    id = UUID(primary_key=True)
    recipient_user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    recipient_organisation = ForeignKey(
        references=Organisation, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    # "user:<id>" or "org:<id>": one column for the unique index, whichever recipient it is
    recipient_key = Varchar(length=60)
    project = ForeignKey(references=Project, null=True, default=None, on_delete=OnDelete.restrict)
    kind = Varchar(length=40)
    subject_table = Varchar(length=60)
    subject_id = UUID()
    rule = Varchar(length=40)
    # which occurrence of the rule: for an overdue order, the deadline round it missed
    occurrence = Integer(default=0)
    threshold = Integer(default=0)
    message = Text(default="")
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)


class AlertDelivery(Table, tablename="alert_delivery"):
    """One notification sent (or being retried) over one channel to one target: a webhook
    subscription or an e-mail address. Unique per (notification, channel, target)."""

    id = UUID(primary_key=True)
    notification = ForeignKey(references=Notification, null=False, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=20)  # webhook | email
    target = Varchar(length=300)  # the subscription id or the address
    status = Varchar(length=20, default="pending", index=True)  # pending | sent | failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class WebhookSubscription(Table, tablename="webhook_subscription"):
    """A URL that receives, HMAC-signed, every notification to an organisation (or a user).
    The secret never leaves the server except once, when the subscription is made."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    url = Varchar(length=500)
    secret = Varchar(length=100, secret=True)
    description = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
