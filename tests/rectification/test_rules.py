"""The pure rules: every (state, action) pair of the state machine, who may move, deadline
arithmetic, overdue, escalation thresholds and counts. No database."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inspection.errors import ValidationFailed
from inspection.projects.rules import Role
from inspection.rectification.rulebook import load_rulebook
from inspection.rectification.rules import (
    TRANSITIONS,
    Action,
    Audience,
    Calendar,
    DayCount,
    DeadlineRule,
    MoveRefused,
    OrderFacts,
    OrderKind,
    OrderState,
    Party,
    Severity,
    answered_late,
    choose_deadline,
    deadline_problem,
    decide,
    escalation_steps,
    is_overdue,
    parse_rulebook,
    permission_problem,
    rule_deadline,
    tally,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = Calendar(tz=SH)
BOOK = load_rulebook()

ISSUER = Party(roles=frozenset({Role.inspector}), is_issuer_side=True, is_addressee=False)
COLLEAGUE = Party(roles=frozenset({Role.supervisor}), is_issuer_side=True, is_addressee=False)
OTHER_INSPECTOR = Party(roles=frozenset({Role.inspector}), is_issuer_side=False, is_addressee=False)
OWNER = Party(roles=frozenset({Role.owner}), is_issuer_side=False, is_addressee=False)
ADDRESSEE = Party(roles=frozenset({Role.contractor}), is_issuer_side=False, is_addressee=True)
OTHER_CONTRACTOR = Party(roles=frozenset({Role.contractor}), is_issuer_side=False, is_addressee=False)
VIEWER = Party(roles=frozenset({Role.viewer, Role.resident_supervisor}), is_issuer_side=False, is_addressee=False)
NOBODY = Party(roles=frozenset(), is_issuer_side=False, is_addressee=False)


def _rightful(action: Action) -> Party:
    return ADDRESSEE if action is Action.respond else ISSUER


# The whole transition table, written out by hand from the issue: draft → issued → responded →
# closed | rejected → responded …; cancel from draft/issued/responded/rejected; resume (stop-work
# only) from closed; closed and cancelled are terminal.
EXPECTED: dict[tuple[OrderState, Action], OrderState] = {
    (OrderState.draft, Action.issue): OrderState.issued,
    (OrderState.draft, Action.cancel): OrderState.cancelled,
    (OrderState.issued, Action.respond): OrderState.responded,
    (OrderState.issued, Action.cancel): OrderState.cancelled,
    (OrderState.responded, Action.accept): OrderState.closed,
    (OrderState.responded, Action.reject): OrderState.rejected,
    (OrderState.responded, Action.cancel): OrderState.cancelled,
    (OrderState.rejected, Action.respond): OrderState.responded,
    (OrderState.rejected, Action.cancel): OrderState.cancelled,
    (OrderState.closed, Action.resume): OrderState.closed,
}


def test_table_is_the_documented_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(itertools.product(OrderState, Action)))
def test_every_move_from_every_state(state: OrderState, action: Action) -> None:
    """The rightful party gets the next state for a legal move and a 409 for any other."""
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(MoveRefused) as info:
            decide(state, action, _rightful(action), OrderKind.stop_work)
        assert info.value.status == 409
    else:
        assert decide(state, action, _rightful(action), OrderKind.stop_work) is expected


def test_terminal_states_allow_nothing_but_resume() -> None:
    for state in (OrderState.closed, OrderState.cancelled):
        for action in Action:
            if (state, action) == (OrderState.closed, Action.resume):
                continue
            with pytest.raises(MoveRefused):
                decide(state, action, _rightful(action), OrderKind.stop_work)


def test_resume_needs_a_stop_work_order() -> None:
    with pytest.raises(MoveRefused) as info:
        decide(OrderState.closed, Action.resume, ISSUER, OrderKind.quality)
    assert info.value.status == 409


# (party, action) -> allowed? Issue, accept, reject, cancel, resume: the issuer or the issuer's
# organisation (GB/T 50319: the supervisor who ordered reviews the answer); respond: the
# addressed contractor only; the contractor never accepts.
PERMISSIONS = [
    (ISSUER, {Action.issue, Action.accept, Action.reject, Action.cancel, Action.resume}),
    (COLLEAGUE, {Action.issue, Action.accept, Action.reject, Action.cancel, Action.resume}),
    (OTHER_INSPECTOR, set()),
    (OWNER, set()),
    (ADDRESSEE, {Action.respond}),
    (OTHER_CONTRACTOR, set()),
    (VIEWER, set()),
    (NOBODY, set()),
]


@pytest.mark.parametrize(("who", "allowed"), PERMISSIONS)
def test_who_may_make_each_move(who: Party, allowed: set[Action]) -> None:
    for action in Action:
        problem = permission_problem(action, who)
        assert (problem is None) == (action in allowed), (who, action, problem)


def test_nobody_accepts_their_own_answer() -> None:
    wrote = Party(roles=frozenset({Role.inspector}), is_issuer_side=True, is_addressee=False, wrote_response=True)
    assert permission_problem(Action.accept, wrote) is not None
    assert permission_problem(Action.reject, wrote) is None


def test_a_system_draft_may_be_issued_by_any_issuing_member() -> None:
    anyone = Party(roles=frozenset({Role.authority}), is_issuer_side=False, is_addressee=False, order_has_issuer=False)
    assert permission_problem(Action.issue, anyone) is None
    assert permission_problem(Action.cancel, anyone) is not None
    assert permission_problem(Action.issue, VIEWER) is not None


def test_wrong_party_is_403_before_state() -> None:
    with pytest.raises(MoveRefused) as info:
        decide(OrderState.closed, Action.accept, ADDRESSEE, OrderKind.quality)
    assert info.value.status == 403


# Deadlines: the rule's deadline is the end of the Nth day after the local (Shanghai) day of issue.
DEADLINE_CASES = [
    # Monday 10:00 local, 7 calendar days -> Monday next week, end of day
    ("calendar 7", datetime(2026, 11, 23, 10, 0, tzinfo=SH), DeadlineRule(7, DayCount.calendar), CAL,
     datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)),
    # 01:00 local on Monday is still Sunday in UTC: the local day counts
    ("local day", datetime(2026, 11, 22, 17, 0, tzinfo=ZoneInfo("UTC")), DeadlineRule(1, DayCount.calendar), CAL,
     datetime(2026, 11, 24, 23, 59, 59, tzinfo=SH)),
    # 0 days: the end of the day of issue
    ("immediate", datetime(2026, 11, 23, 10, 0, tzinfo=SH), DeadlineRule(0, DayCount.calendar), CAL,
     datetime(2026, 11, 23, 23, 59, 59, tzinfo=SH)),
    # Friday + 3 working days skips the weekend: Mon, Tue, Wed
    ("working over weekend", datetime(2026, 11, 27, 9, 0, tzinfo=SH), DeadlineRule(3, DayCount.working), CAL,
     datetime(2026, 12, 2, 23, 59, 59, tzinfo=SH)),
    # a holiday on Tuesday pushes it to Thursday
    ("working over holiday", datetime(2026, 11, 27, 9, 0, tzinfo=SH), DeadlineRule(3, DayCount.working),
     Calendar(tz=SH, holidays=frozenset({date(2026, 12, 1)})), datetime(2026, 12, 3, 23, 59, 59, tzinfo=SH)),
    # a make-up working Saturday (调休) counts: Sat, Mon, Tue
    ("make-up Saturday", datetime(2026, 11, 27, 9, 0, tzinfo=SH), DeadlineRule(3, DayCount.working),
     Calendar(tz=SH, extra_working_days=frozenset({date(2026, 11, 28)})), datetime(2026, 12, 1, 23, 59, 59, tzinfo=SH)),
]  # fmt: skip


@pytest.mark.parametrize(("issued", "rule", "cal", "expected"), [c[1:] for c in DEADLINE_CASES],
                         ids=[c[0] for c in DEADLINE_CASES])  # fmt: skip
def test_rule_deadline(issued: datetime, rule: DeadlineRule, cal: Calendar, expected: datetime) -> None:
    assert rule_deadline(issued, rule, cal) == expected


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
ALLOWED = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)
DEADLINE_PROBLEMS = [
    ("none: take the rule's", None, "", None),
    ("shorter", NOW + timedelta(days=2), "", None),
    ("exactly the rule", ALLOWED, "", None),
    ("past", NOW - timedelta(minutes=1), "", "deadline"),
    ("now", NOW, "", "deadline"),
    ("past even with a reason", NOW - timedelta(days=1), "weather", "deadline"),
    ("longer without reason", ALLOWED + timedelta(seconds=1), "", "deadline_reason"),
    ("longer with blank reason", ALLOWED + timedelta(days=3), "   ", "deadline_reason"),
    ("longer with reason", ALLOWED + timedelta(days=3), "materials on order", None),
    ("no time zone", datetime(2026, 11, 25, 12, 0), "", "deadline"),
]


@pytest.mark.parametrize(("requested", "reason", "field"), [c[1:] for c in DEADLINE_PROBLEMS],
                         ids=[c[0] for c in DEADLINE_PROBLEMS])  # fmt: skip
def test_deadline_problem(requested: datetime | None, reason: str, field: str | None) -> None:
    problem = deadline_problem(requested, ALLOWED, NOW, reason)
    assert (problem[0] if problem else None) == field


def test_choose_deadline_defaults_to_rule_and_raises_naming_the_field() -> None:
    # quality/general is 7 calendar days in rules.toml
    assert choose_deadline(None, OrderKind.quality, Severity.general, NOW, "", BOOK) == ALLOWED
    with pytest.raises(ValidationFailed) as info:
        choose_deadline(NOW - timedelta(hours=1), OrderKind.quality, Severity.general, NOW, "", BOOK)
    assert info.value.field == "deadline"


DL = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)
OVERDUE_CASES = [
    (OrderState.issued, DL, DL, False),  # at the deadline itself: not yet late
    (OrderState.issued, DL, DL + timedelta(seconds=1), True),
    (OrderState.rejected, DL, DL + timedelta(days=1), True),
    (OrderState.responded, DL, DL + timedelta(days=9), False),  # waiting on the issuer, not the contractor
    (OrderState.closed, DL, DL + timedelta(days=9), False),
    (OrderState.cancelled, DL, DL + timedelta(days=9), False),
    (OrderState.draft, None, DL, False),
]


@pytest.mark.parametrize(("state", "deadline", "now", "expected"), OVERDUE_CASES)
def test_is_overdue(state: OrderState, deadline: datetime | None, now: datetime, expected: bool) -> None:
    assert is_overdue(state, deadline, now) is expected


# Escalation per rules.toml: threshold 1 once late; threshold 2 after authority_after_days more
# (general 7, major 1).
ESCALATION_CASES = [
    (OrderState.issued, Severity.general, timedelta(0), []),
    (OrderState.issued, Severity.general, timedelta(seconds=1), [1]),
    (OrderState.issued, Severity.general, timedelta(days=7), [1]),
    (OrderState.issued, Severity.general, timedelta(days=7, seconds=1), [1, 2]),
    (OrderState.rejected, Severity.major, timedelta(days=1, seconds=1), [1, 2]),
    (OrderState.issued, Severity.major, timedelta(hours=23), [1]),
    (OrderState.responded, Severity.major, timedelta(days=30), []),
    (OrderState.closed, Severity.general, timedelta(days=30), []),
]


@pytest.mark.parametrize(("state", "severity", "late", "thresholds"), ESCALATION_CASES)
def test_escalation_steps(state: OrderState, severity: Severity, late: timedelta, thresholds: list[int]) -> None:
    steps = escalation_steps(state, DL, severity, DL + late, BOOK)
    assert [st.threshold for st in steps] == thresholds
    assert [st.audience for st in steps] == [Audience.issuer_and_owner, Audience.authority][: len(thresholds)]


def test_tally() -> None:
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=SH)
    now = datetime(2026, 11, 20, 9, 0, tzinfo=SH)
    orders = [
        OrderFacts(OrderState.issued, now - timedelta(days=1), t0, None),  # open, overdue
        OrderFacts(OrderState.rejected, now + timedelta(days=1), t0, None),  # open
        OrderFacts(OrderState.responded, now - timedelta(days=5), t0, None),  # open, waits on issuer
        OrderFacts(OrderState.closed, t0 + timedelta(days=7), t0, t0 + timedelta(days=2)),  # 2 days
        OrderFacts(OrderState.closed, t0 + timedelta(days=7), t0, t0 + timedelta(days=3, hours=12)),  # 3.5 days
        OrderFacts(OrderState.cancelled, None, t0, None),
        OrderFacts(OrderState.draft, None, None, None),
    ]
    t = tally(orders, now)
    assert (t.open, t.overdue, t.closed, t.cancelled, t.drafts) == (3, 1, 2, 1, 1)
    assert t.average_days_to_close == 2.75
    assert tally([], now).average_days_to_close is None


def test_shipped_rules_cover_every_kind_and_severity_and_are_marked() -> None:
    for kind in OrderKind:
        for severity in Severity:
            rule = BOOK.deadline_rule(kind, severity)
            assert rule.days >= 0
            assert rule.source and rule.unverified  # REFERENCE.md §5: no national figure
    assert BOOK.escalation[Severity.major].authority_after_days < BOOK.escalation[Severity.general].authority_after_days


def test_rules_file_errors_name_the_missing_entry() -> None:
    with pytest.raises(ValueError, match=r"deadline\.quality\.general"):
        parse_rulebook({"deadline": {}, "escalation": {}})


_DL = datetime(2026, 5, 10, 16, 0, tzinfo=UTC)  # the deadline
_H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("arrived", "device_at", "skew_h", "grace_h", "late"),
    [
        (_DL - _H, None, 0, 72, False),  # arrived before the deadline: on time, whatever else
        (_DL + _H, None, 0, 72, True),  # online answer after the deadline: late
        (_DL + 5 * _H, _DL - 2 * _H, 0, 72, False),  # made offline before, arrived within the grace
        (_DL + 80 * _H, _DL - 2 * _H, 0, 72, True),  # made before, but arrived after deadline + grace
        (_DL + 5 * _H, _DL - 2 * _H, 0, 0, True),  # grace turned off: only server time counts
        (_DL + 5 * _H, _DL + _H, 0, 72, True),  # the device itself says it was after the deadline
        # the tablet's clock runs 3 h slow (skew +3 h): "2 h before" was really 1 h after
        (_DL + 5 * _H, _DL - 2 * _H, 3, 72, True),
        # the tablet's clock runs 4 h fast (skew -4 h): "1 h after" was really 3 h before
        (_DL + 5 * _H, _DL + _H, -4, 72, False),
    ],
)
def test_answer_lateness_and_the_offline_grace(arrived, device_at, skew_h, grace_h, late) -> None:  # type: ignore[no-untyped-def]
    assert (
        answered_late(
            arrived,
            _DL,
            device_responded_at=device_at,
            device_clock_skew_ms=skew_h * 3_600_000,
            grace=timedelta(hours=grace_h),
        )
        is late
    )
