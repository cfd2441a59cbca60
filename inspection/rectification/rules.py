"""Pure rules for rectification orders: the state machine, who may make each move, deadline
arithmetic and escalation thresholds. No database, no clock, no settings: everything is passed in.

The whole state machine is the table `TRANSITIONS`; services, the API and (later) sync push all
call `decide`, so a stale tablet cannot reopen a closed order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from inspection.errors import RulebookError, ValidationFailed
from inspection.messages import Message, local_minute, t
from inspection.projects.rules import Role


class OrderKind(StrEnum):
    quality = "quality"  # 质量整改通知单
    safety = "safety"  # 安全隐患整改通知单
    stop_work = "stop_work"  # 工程暂停令 / 停工通知
    warranty = "warranty"  # 保修整改


class Severity(StrEnum):
    general = "general"  # 一般隐患 / 一般质量问题
    major = "major"  # 重大隐患


class Source(StrEnum):
    inspection_answer = "inspection_answer"
    failed_sample = "failed_sample"
    warranty_claim = "warranty_claim"
    complaint = "complaint"
    manual = "manual"


class OrderState(StrEnum):
    draft = "draft"
    issued = "issued"
    responded = "responded"
    rejected = "rejected"
    closed = "closed"  # the response was accepted
    cancelled = "cancelled"


class Action(StrEnum):
    issue = "issue"
    respond = "respond"
    accept = "accept"
    reject = "reject"
    cancel = "cancel"
    resume = "resume"  # 复工: lifts the stop of an accepted stop-work order; the state stays closed


# (state, action) -> next state. Anything missing is an illegal move.
TRANSITIONS: Mapping[tuple[OrderState, Action], OrderState] = {
    (OrderState.draft, Action.issue): OrderState.issued,
    (OrderState.issued, Action.respond): OrderState.responded,
    (OrderState.rejected, Action.respond): OrderState.responded,
    (OrderState.responded, Action.accept): OrderState.closed,
    (OrderState.responded, Action.reject): OrderState.rejected,
    (OrderState.draft, Action.cancel): OrderState.cancelled,
    (OrderState.issued, Action.cancel): OrderState.cancelled,
    (OrderState.responded, Action.cancel): OrderState.cancelled,
    (OrderState.rejected, Action.cancel): OrderState.cancelled,
    (OrderState.closed, Action.resume): OrderState.closed,
}

TERMINAL = frozenset({OrderState.closed, OrderState.cancelled})
# Waiting on the contractor: only these can be overdue (a responded order waits on the issuer).
AWAITING_CONTRACTOR = frozenset({OrderState.issued, OrderState.rejected})
# Issued and not finished: what "open" counts.
OPEN = frozenset({OrderState.issued, OrderState.responded, OrderState.rejected})

# 建设工程安全生产管理条例 §14 and GB/T 50319 give orders to the supervisor; owners and the
# authority (§43) may order too; inspectors act for any of them.
ISSUING_ROLES = frozenset({Role.inspector, Role.supervisor, Role.owner, Role.authority})


@dataclass(frozen=True)
class Party:
    """How the acting user stands towards one order."""

    roles: frozenset[Role]
    is_issuer_side: bool  # the issuer in person, or a colleague of the issuer's organisation
    is_addressee: bool  # a contractor-role member of the organisation the order is addressed to
    wrote_response: bool = False  # wrote the response now under review
    order_has_issuer: bool = True  # False for a draft opened by the system, which any issuer may take

    @property
    def may_issue_orders(self) -> bool:
        return bool(self.roles & ISSUING_ROLES)


class MoveRefused(Exception):
    """`status` is 403 (this party may not make the move) or 409 (not from this state)."""

    def __init__(self, status: int, message: Message) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def permission_problem(action: Action, party: Party) -> Message | None:
    """None when `party` may make `action`, else why not."""
    if action is Action.respond:
        if not party.is_addressee:
            return t("rectification.only_contractor_order_addressed_may_answer")
        return None
    if party.is_addressee:
        return t("rectification.contractor_may_not_own_order", value=action.value)
    if not party.may_issue_orders:
        return t("rectification.only_inspectors_supervisors_owners_authority_project_2")
    if action is Action.issue and not party.order_has_issuer:
        return None
    if not party.is_issuer_side:
        return t("rectification.only_issuer_issuer_s_organisation_may", value=action.value)
    if action is Action.accept and party.wrote_response:
        return t("rectification.nobody_may_accept_their_own_answer")
    return None


def decide(state: OrderState, action: Action, party: Party, kind: OrderKind) -> OrderState:
    """The next state, or MoveRefused: 403 for the wrong party, 409 for the wrong state."""
    problem = permission_problem(action, party)
    if problem:
        raise MoveRefused(403, problem)
    if action is Action.resume and kind is not OrderKind.stop_work:
        raise MoveRefused(409, t("rectification.only_stop_work_resumed"))
    nxt = TRANSITIONS.get((state, action))
    if nxt is None:
        raise MoveRefused(409, t("rectification.cannot_move_from_state", action=action.value, state=state.value))
    return nxt


# Deadlines


class DayCount(StrEnum):
    calendar = "calendar"
    working = "working"  # Monday to Friday, minus holidays, plus make-up working days (调休)


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    count: DayCount
    source: str = ""
    unverified: bool = True


@dataclass(frozen=True)
class EscalationRule:
    """Threshold 1 fires once the deadline passes; threshold 2 (the authority) this many days later."""

    authority_after_days: int
    source: str = ""
    unverified: bool = True


@dataclass(frozen=True)
class Calendar:
    tz: tzinfo
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class RuleBook:
    deadlines: Mapping[tuple[OrderKind, Severity], DeadlineRule]
    escalation: Mapping[Severity, EscalationRule]
    calendar: Calendar

    def deadline_rule(self, kind: OrderKind, severity: Severity) -> DeadlineRule:
        return self.deadlines[(kind, severity)]


def _days_added(start: date, rule: DeadlineRule, cal: Calendar) -> date:
    if rule.count is DayCount.calendar:
        return start + timedelta(days=rule.days)
    day, left = start, rule.days
    while left > 0:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            left -= 1
    return day


def rule_deadline(issued_at: datetime, rule: DeadlineRule, cal: Calendar) -> datetime:
    """The latest deadline the rule allows: the end of the Nth (working) day after the local date
    of issue. N = 0 means the end of the day of issue (immediate)."""
    local = issued_at.astimezone(cal.tz).date()
    last = _days_added(local, rule, cal)
    return datetime.combine(last, time(23, 59, 59), tzinfo=cal.tz)


def deadline_problem(
    requested: datetime | None, allowed: datetime, now: datetime, reason: str
) -> tuple[str, Message] | None:
    """(field, message) when a requested deadline may not be used; None when it may (None =
    take the rule's). Shorter than the rule is always fine; longer needs a reason."""
    if requested is None:
        return None
    if requested.tzinfo is None:
        return "deadline", t("rectification.give_deadline_time_zone_offset_2026")
    if requested <= now:
        return "deadline", t("rectification.deadline_past")
    if requested > allowed and not reason.strip():
        return (
            "deadline_reason",
            t("rectification.deadline_later_than_rule_allows_give", value=local_minute(allowed)),
        )
    return None


def choose_deadline(
    requested: datetime | None, kind: OrderKind, severity: Severity, now: datetime, reason: str, book: RuleBook
) -> datetime:
    """The deadline an order gets when it is issued or sent back at `now`."""
    allowed = rule_deadline(now, book.deadline_rule(kind, severity), book.calendar)
    problem = deadline_problem(requested, allowed, now, reason)
    if problem:
        raise ValidationFailed(problem[1], field=problem[0])
    return requested if requested is not None else allowed


def is_overdue(state: OrderState, deadline: datetime | None, now: datetime) -> bool:
    """Derived, never stored: the contractor still owes an answer and the deadline has passed."""
    return state in AWAITING_CONTRACTOR and deadline is not None and now > deadline


def answered_late(
    responded_at: datetime,
    deadline: datetime | None,
    *,
    device_responded_at: datetime | None = None,
    device_clock_skew_ms: int | None = None,
    grace: timedelta = timedelta(0),
) -> bool:
    """Was an answer late? Server time decides; the device's clock is only evidence. An answer
    made offline before the deadline by the device's clock (corrected by the skew the server
    measured when the device synced) that reaches the server within `grace` after the deadline
    counts as on time. Nothing arriving after deadline + grace is on time, whatever a clock says."""
    if deadline is None or responded_at <= deadline:
        return False
    if device_responded_at is None or responded_at > deadline + grace:
        return True
    corrected = device_responded_at + timedelta(milliseconds=device_clock_skew_ms or 0)
    return corrected > deadline


# Escalation


class Audience(StrEnum):
    issuer_and_owner = "issuer_and_owner"  # threshold 1: the issuer's organisation and the project owner
    authority = "authority"  # threshold 2: 质监站


@dataclass(frozen=True)
class EscalationStep:
    threshold: int
    audience: Audience


def escalation_steps(
    state: OrderState, deadline: datetime | None, severity: Severity, now: datetime, book: RuleBook
) -> list[EscalationStep]:
    """Every step an order has reached at `now` (the service makes each notification once)."""
    if not is_overdue(state, deadline, now):
        return []
    assert deadline is not None
    steps = [EscalationStep(1, Audience.issuer_and_owner)]
    if now > deadline + timedelta(days=book.escalation[severity].authority_after_days):
        steps.append(EscalationStep(2, Audience.authority))
    return steps


# The rules file


def _flag(entry: Mapping[str, Any]) -> tuple[str, bool]:
    return str(entry.get("source", "")), bool(entry.get("unverified", True))


def parse_rulebook(data: Mapping[str, Any]) -> RuleBook:
    """Build the rule book from rules.toml's parsed content; ValueError names what is missing."""
    cal_data = data.get("calendar", {})
    cal = Calendar(
        tz=ZoneInfo(cal_data.get("timezone", "Asia/Shanghai")),
        holidays=frozenset(date.fromisoformat(str(d)) for d in cal_data.get("holidays", [])),
        extra_working_days=frozenset(date.fromisoformat(str(d)) for d in cal_data.get("extra_working_days", [])),
    )
    deadlines: dict[tuple[OrderKind, Severity], DeadlineRule] = {}
    for kind in OrderKind:
        for severity in Severity:
            try:
                entry = data["deadline"][kind.value][severity.value]
            except KeyError:
                raise RulebookError(t("rulebook.no_table", table=f"[deadline.{kind.value}.{severity.value}]")) from None
            days = int(entry["days"])
            if days < 0:
                raise RulebookError(t("rulebook.not_negative", where=f"[deadline.{kind.value}.{severity.value}].days"))
            source, unverified = _flag(entry)
            deadlines[(kind, severity)] = DeadlineRule(
                days, DayCount(entry.get("count", "calendar")), source, unverified
            )
    escalation: dict[Severity, EscalationRule] = {}
    for severity in Severity:
        try:
            entry = data["escalation"][severity.value]
        except KeyError:
            raise RulebookError(t("rulebook.no_table", table=f"[escalation.{severity.value}]")) from None
        source, unverified = _flag(entry)
        escalation[severity] = EscalationRule(int(entry["authority_after_days"]), source, unverified)
    return RuleBook(deadlines, escalation, cal)


# Counts


@dataclass(frozen=True)
class OrderFacts:
    state: OrderState
    deadline: datetime | None
    issued_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Tally:
    open: int
    overdue: int
    closed: int
    cancelled: int
    drafts: int
    average_days_to_close: float | None


def tally(orders: list[OrderFacts], now: datetime) -> Tally:
    """Open, overdue, closed, cancelled and draft counts; days to close averaged over closed orders
    (issue to acceptance, in days with two decimals)."""
    spans = [
        (o.closed_at - o.issued_at).total_seconds() / 86400
        for o in orders
        if o.state is OrderState.closed and o.closed_at is not None and o.issued_at is not None
    ]
    return Tally(
        open=sum(o.state in OPEN for o in orders),
        overdue=sum(is_overdue(o.state, o.deadline, now) for o in orders),
        closed=sum(o.state is OrderState.closed for o in orders),
        cancelled=sum(o.state is OrderState.cancelled for o in orders),
        drafts=sum(o.state is OrderState.draft for o in orders),
        average_days_to_close=round(sum(spans) / len(spans), 2) if spans else None,
    )
