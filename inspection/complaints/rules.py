"""Pure rules for residents' complaints: topics, what a complaint must say, how often one address
may send, and the moves of triage."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from inspection.messages import Message, t


class Topic(StrEnum):
    quality = "quality"  # 工程质量
    safety = "safety"  # 施工安全
    disturbance = "disturbance"  # 噪音、扬尘、扰民
    access = "access"  # 出行与通道
    other = "other"  # 其他


class ComplaintState(StrEnum):
    new = "new"  # 待处理
    ordered = "ordered"  # 已转整改通知单
    dismissed = "dismissed"  # 不予处理（附理由）


class Triage(StrEnum):
    order = "order"
    dismiss = "dismiss"


TRANSITIONS: Mapping[tuple[ComplaintState, Triage], ComplaintState] = {
    (ComplaintState.new, Triage.order): ComplaintState.ordered,
    (ComplaintState.new, Triage.dismiss): ComplaintState.dismissed,
}

TEXT_MIN, TEXT_MAX = 5, 2000
CONTACT_MAX = 100
# A phone number or anything else a resident leaves for a call back; kept short and printable.
_CONTACT_RE = re.compile(r"^[\w\s@.+\-()（）:：/]*$")


def next_state(current: ComplaintState, move: Triage) -> ComplaintState | None:
    """The state after `move`, or None when the complaint was already triaged."""
    return TRANSITIONS.get((current, move))


def complaint_problem(text: str, contact: str) -> tuple[str, Message] | None:
    """(field, message) when a complaint cannot be accepted as written, else None."""
    body = text.strip()
    if len(body) < TEXT_MIN:
        return "text", t("complaints.describe_problem_at_least_characters", TEXT_MIN=TEXT_MIN)
    if len(body) > TEXT_MAX:
        return "text", t("complaints.keep_description_under_characters", TEXT_MAX=TEXT_MAX)
    if len(contact) > CONTACT_MAX or not _CONTACT_RE.match(contact):
        return "contact", t("complaints.leave_phone_number_mail_address_nothing")
    return None
