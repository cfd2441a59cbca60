"""The kinds of event people are told about, which of them the rules make mandatory, and their names."""

from __future__ import annotations

from enum import StrEnum

from inspection.messages import Message, t


class Kind(StrEnum):
    order_issued = "order_issued"
    order_returned = "order_returned"
    order_answered = "order_answered"
    order_closed = "order_closed"
    stop_work = "stop_work"
    work_resumed = "work_resumed"
    escalation = "escalation"
    complaint_filed = "complaint_filed"
    warranty_claim = "warranty_claim"
    sample_failed = "sample_failed"
    hold_point_waiting = "hold_point_waiting"
    inspection_today = "inspection_today"


class Mode(StrEnum):
    immediate = "immediate"
    digest = "digest"
    off = "off"


# A stop, a resumption and an escalation change who may work and who must answer to the authority:
# the rules (rectification/rules.toml's escalation, the stop-work articles) require that they reach
# their people, so nobody can delay or silence them.
MANDATORY = frozenset({Kind.stop_work, Kind.work_resumed, Kind.escalation})

NAMES: dict[Kind, Message] = {kind: t(f"notify.kind.{kind.value}") for kind in Kind}
MODE_NAMES: dict[Mode, Message] = {mode: t(f"notify.mode.{mode.value}") for mode in Mode}

# 08:00 local: before the site's day starts
DEFAULT_DIGEST_MINUTE = 8 * 60
