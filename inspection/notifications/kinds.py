"""The kinds of event people are told about, which of them the rules make mandatory, and their names."""

from __future__ import annotations

from enum import StrEnum

from inspection.messages import Message, t


class Kind(StrEnum):
    order_issued = "order_issued"
    order_returned = "order_returned"
    order_answered = "order_answered"
    order_closed = "order_closed"
    order_cancelled = "order_cancelled"
    stop_work = "stop_work"
    work_resumed = "work_resumed"
    escalation = "escalation"
    complaint_filed = "complaint_filed"
    warranty_claim = "warranty_claim"
    sample_failed = "sample_failed"
    hold_point_waiting = "hold_point_waiting"
    inspection_today = "inspection_today"
    # the scheduler's alerts (inspection/alerts/jobs.py, schedules.py) and the programme's 日督导:
    # the value is the alert's rule, which is the outbox row's kind
    warranty_expiring = "warranty_expiring"
    retention_due = "retention_due"
    order_due_soon = "order_due_soon"
    inspection_missed = "inspection_missed"
    sample_awaiting_result = "sample_awaiting_result"
    daily_digest = "daily_digest"


class Mode(StrEnum):
    immediate = "immediate"
    digest = "digest"
    off = "off"


# A stop, a resumption and an escalation change who may work and who must answer to the authority:
# the rules (rectification/rules.toml's escalation, the stop-work articles) require that they reach
# their people, so nobody can delay or silence them.
MANDATORY = frozenset({Kind.stop_work, Kind.work_resumed, Kind.escalation})

NAMES: dict[Kind, Message] = {
    Kind.order_issued: t("notify.kind.order_issued"),
    Kind.order_returned: t("notify.kind.order_returned"),
    Kind.order_answered: t("notify.kind.order_answered"),
    Kind.order_closed: t("notify.kind.order_closed"),
    Kind.order_cancelled: t("notify.kind.order_cancelled"),
    Kind.stop_work: t("notify.kind.stop_work"),
    Kind.work_resumed: t("notify.kind.work_resumed"),
    Kind.escalation: t("notify.kind.escalation"),
    Kind.complaint_filed: t("notify.kind.complaint_filed"),
    Kind.warranty_claim: t("notify.kind.warranty_claim"),
    Kind.sample_failed: t("notify.kind.sample_failed"),
    Kind.hold_point_waiting: t("notify.kind.hold_point_waiting"),
    Kind.inspection_today: t("notify.kind.inspection_today"),
    Kind.warranty_expiring: t("notify.kind.warranty_expiring"),
    Kind.retention_due: t("notify.kind.retention_due"),
    Kind.order_due_soon: t("notify.kind.order_due_soon"),
    Kind.inspection_missed: t("notify.kind.inspection_missed"),
    Kind.sample_awaiting_result: t("notify.kind.sample_awaiting_result"),
    Kind.daily_digest: t("notify.kind.daily_digest"),
}
MODE_NAMES: dict[Mode, Message] = {
    Mode.immediate: t("notify.mode.immediate"),
    Mode.digest: t("notify.mode.digest"),
    Mode.off: t("notify.mode.off"),
}

# 08:00 local: before the site's day starts
DEFAULT_DIGEST_MINUTE = 8 * 60
