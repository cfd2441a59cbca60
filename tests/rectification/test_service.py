"""Order workflows through the service on the real database (SQLite and PostgreSQL): every move
from every state, concurrency, photos, stops, escalation, deadlines, cross-contractor access."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from inspection.actor import SYSTEM
from inspection.audit.tables import AuditEntry
from inspection.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from inspection.evidence import links
from inspection.notifications.outbox_tables import Notification
from inspection.projects.rules import OrgKind
from inspection.records import write
from inspection.rectification import schemas as s
from inspection.rectification.rules import TRANSITIONS, Action, OrderKind, OrderState, Severity, Source
from inspection.rectification.service import OrderSpec, RectificationService, active_stops, open_order
from inspection.rectification.tables import RectificationOrder
from tests.factories import World, make_org
from tests.rectification.helpers import actor_of, announce, create_body, order_in, row_counts, store


@pytest.fixture
def svc(world: World) -> RectificationService:
    return world.services.rectification  # type: ignore[no-any-return]


async def test_full_life_with_photos_and_history(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    evidence = await announce(world, clock, "defect.jpg")
    draft = await svc.create_order(inspector, create_body(world, photos=[evidence]))
    assert draft.order.status is OrderState.draft and draft.order.deadline is None
    assert draft.order.contractor_id == world.orgs["contractor_a"].id  # from the work item
    assert draft.order.site_id == world.id_of("site1") and draft.order.building_id == world.id_of("building1")
    assert [(p.sha256, p.pending) for p in draft.order.photos] == [(evidence, True)]

    issued = await svc.issue(inspector, draft.order.id, s.IssueBody())
    # quality/general: 7 calendar days (rules.toml), end of the local day
    assert issued.order.status is OrderState.issued and issued.order.deadline is not None
    assert timedelta(days=7) <= issued.order.deadline - clock.now() < timedelta(days=8)

    answer = await announce(world, clock, "fixed.jpg", org="contractor_a")
    clock.advance(timedelta(days=1))
    responded = await svc.respond(contractor, draft.order.id, s.RespondBody(text="已整改", photos=[answer]))
    assert responded.order.status is OrderState.responded
    assert responded.responses[0].photos[0].pending and not responded.responses[0].late

    with pytest.raises(Conflict) as info:  # the answer's photo has not finished uploading
        await svc.accept(inspector, draft.order.id, s.AcceptBody())
    assert info.value.field == "photos" and info.value.extra["pending"] == [answer]
    await store(answer)
    closed = await svc.accept(inspector, draft.order.id, s.AcceptBody(note="复查合格"))
    assert closed.order.status is OrderState.closed and closed.order.closed_at == clock.now()
    assert closed.responses[0].review == "accepted"
    assert closed.responses[0].reviewed_by_id == world.users["inspector"].id
    history = [(e.action, e.from_state, e.to_state, e.actor_id) for e in closed.history]
    assert history == [
        ("create", None, "draft", world.users["inspector"].id),
        ("issue", "draft", "issued", world.users["inspector"].id),
        ("respond", "issued", "responded", world.users["contractor_a"].id),
        ("accept", "responded", "closed", world.users["inspector"].id),
    ]
    audited = (
        await AuditEntry.select(AuditEntry.action)
        .where((AuditEntry.table_name == "rectification_order") & (AuditEntry.record_id == str(draft.order.id)))
        .order_by(AuditEntry.scope_no)  # without an order PostgreSQL returns heap order, whatever it is
    )
    assert [a["action"] for a in audited] == ["create", "transition", "transition", "transition"]


async def test_rejected_answers_go_round_again(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    oid = await order_in(svc, world, clock, OrderState.rejected)
    detail = await svc.get_order(inspector, oid)
    assert detail.order.deadline_round == 2 and detail.responses[0].review == "rejected"
    assert detail.history[-1].reason == "照片不清" and detail.history[-1].deadline == detail.order.deadline
    await svc.respond(contractor, oid, s.RespondBody(text="补拍照片"))
    done = await svc.accept(actor_of(world, "supervisor"), oid, s.AcceptBody())  # a colleague of the issuer
    assert [r.round for r in done.responses] == [1, 2]
    assert done.order.status is OrderState.closed


ALL_STATES = list(OrderState)


async def test_every_move_from_every_state_on_the_database(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """Table-driven over the full transition table: legal moves land in the next state, illegal
    ones answer InvalidTransition carrying the current state, and change nothing."""
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    for state, action in itertools.product(ALL_STATES, Action):
        oid = await order_in(svc, world, clock, state, kind=OrderKind.stop_work)
        who = contractor if action is Action.respond else inspector
        call: dict[Action, Any] = {
            Action.issue: lambda: svc.issue(who, oid, s.IssueBody()),
            Action.respond: lambda: svc.respond(who, oid, s.RespondBody(text="答复")),
            Action.accept: lambda: svc.accept(who, oid, s.AcceptBody()),
            Action.reject: lambda: svc.reject(
                who, oid, s.RejectBody(reason="不合格", deadline=clock.now() + timedelta(days=1))
            ),
            Action.cancel: lambda: svc.cancel(who, oid, s.CancelBody(reason="撤销")),
            Action.resume: lambda: svc.resume(who, oid, s.ResumeBody()),
        }
        expected = TRANSITIONS.get((state, action))
        before = await RectificationOrder.select(RectificationOrder.version).where(RectificationOrder.id == oid).first()
        if (state, action) == (OrderState.draft, Action.respond):
            with pytest.raises(NotFound):  # a draft is not yet the contractor's to see
                await call[action]()
        elif expected is None:
            with pytest.raises(InvalidTransition) as info:
                await call[action]()
            assert info.value.extra["current_state"] == state.value, (state, action)
            after = (
                await RectificationOrder.select(RectificationOrder.version).where(RectificationOrder.id == oid).first()
            )
            assert after == before
        else:
            result = await call[action]()
            assert result.order.status is expected, (state, action)


REFUSALS: list[tuple[str, Action, type]] = [
    ("contractor_a", Action.accept, Forbidden),  # the contractor never accepts
    ("contractor_a", Action.reject, Forbidden),
    ("contractor_a", Action.cancel, Forbidden),
    ("authority", Action.accept, Forbidden),  # an issuing role, but not the issuer's side
    ("owner", Action.cancel, Forbidden),
    ("viewer", Action.accept, Forbidden),
    ("resident", Action.reject, Forbidden),
    ("inspector", Action.respond, Forbidden),  # only the addressed contractor answers
    ("contractor_b", Action.respond, NotFound),  # another contractor does not see it at all
    ("contractor_b", Action.accept, NotFound),
    ("outsider", Action.accept, NotFound),
    ("admin", Action.accept, Forbidden),  # administrators read but make no moves
]


async def test_who_may_not_move(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    """One order, every refused (person, move): 403 for members without the right, 404 for those
    who may not know it exists, and nothing written either way."""
    oid = await order_in(svc, world, clock, OrderState.responded)
    for who, action, error in REFUSALS:
        actor = actor_of(world, who)
        calls = {
            Action.accept: lambda: svc.accept(actor, oid, s.AcceptBody()),
            Action.reject: lambda: svc.reject(
                actor, oid, s.RejectBody(reason="x", deadline=clock.now() + timedelta(days=1))
            ),
            Action.cancel: lambda: svc.cancel(actor, oid, s.CancelBody(reason="x")),
            Action.respond: lambda: svc.respond(actor, oid, s.RespondBody(text="x")),
        }
        before = await row_counts()
        with pytest.raises(error):
            await calls[action]()
        assert await row_counts() == before, (who, action)


async def test_stale_version_is_refused(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(svc, world, clock, OrderState.responded)
    old = (await svc.get_order(actor_of(world, "inspector"), oid)).order.version
    with pytest.raises(VersionConflict) as info:
        await svc.accept(actor_of(world, "inspector"), oid, s.AcceptBody(version=old - 1))
    assert info.value.extra["current_state"] == "responded"
    done = await svc.accept(actor_of(world, "inspector"), oid, s.AcceptBody(version=old))
    assert done.order.status is OrderState.closed


# Concurrency: two people at once leave exactly one outcome.


async def _race(*calls: Any) -> tuple[list[Any], list[BaseException]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    return ok, failed


async def test_accept_and_cancel_at_once(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        oid = await order_in(svc, world, clock, OrderState.responded)
        ok, failed = await _race(
            svc.accept(actor_of(world, "inspector"), oid, s.AcceptBody()),
            svc.cancel(actor_of(world, "supervisor"), oid, s.CancelBody(reason="重复下发")),
        )
        assert len(ok) == 1 and len(failed) == 1, failed
        assert isinstance(failed[0], InvalidTransition)
        final = await svc.get_order(actor_of(world, "owner"), oid)
        assert final.order.status is ok[0].order.status
        assert failed[0].extra["current_state"] == final.order.status.value
        moves = [e.action for e in final.history if e.action in ("accept", "cancel")]
        assert len(moves) == 1


async def test_two_responses_at_once(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(svc, world, clock, OrderState.issued)
    contractor = actor_of(world, "contractor_a")
    ok, failed = await _race(
        svc.respond(contractor, oid, s.RespondBody(text="第一次答复")),
        svc.respond(contractor, oid, s.RespondBody(text="第二次答复")),
    )
    assert len(ok) == 1 and len(failed) == 1 and isinstance(failed[0], InvalidTransition)
    detail = await svc.get_order(contractor, oid)
    assert len(detail.responses) == 1 and detail.order.status is OrderState.responded


# Bad input: 4xx naming the field, nothing partial stored.


async def test_bad_input_writes_nothing(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    stranger = await make_org(world.services, OrgKind.contractor)
    closed = await order_in(svc, world, clock, OrderState.closed)
    issued = await order_in(svc, world, clock, OrderState.issued)
    pending_photo = await announce(world, clock, "ok.jpg")
    hour, a = timedelta(hours=1), world.orgs["contractor_a"].id

    def create(issue: bool = False, **kw: Any) -> Any:
        return lambda: svc.create_order(inspector, create_body(world, issue=issue, **kw))

    def respond(oid: UUID, **kw: Any) -> Any:
        return lambda: svc.respond(contractor, oid, s.RespondBody(**kw))

    cases: list[tuple[str, Any, type, str]] = [
        ("deadline in the past", create(True, deadline=clock.now() - hour), ValidationFailed, "deadline"),
        ("draft deadline in the past", create(deadline=clock.now() - hour), ValidationFailed, "deadline"),
        ("later than the rule, no reason", create(True, deadline=clock.now() + 30 * 24 * hour),
         ValidationFailed, "deadline_reason"),
        ("contractor not on the project", create(work_item_id=None, site_id=world.id_of("site1"),
                                                 contractor_id=stranger.id), ValidationFailed, "contractor_id"),
        ("addressee is not a contractor", create(contractor_id=world.orgs["supervisor"].id),
         ValidationFailed, "contractor_id"),
        ("no addressee at all", create(work_item_id=None), ValidationFailed, "contractor_id"),
        ("work item not on that site", create(site_id=world.id_of("p1")), ValidationFailed, "work_item_id"),
        ("photo that does not exist", create(True, photos=[pending_photo, "a" * 64]), ValidationFailed, "photos"),
        ("stop-work without a place", create(kind=OrderKind.stop_work, work_item_id=None, contractor_id=a),
         ValidationFailed, "site_id"),
        ("half a source reference", create(source=Source.failed_sample, source_table="sample"),
         ValidationFailed, "source_id"),
        ("response with neither text nor photo", respond(issued, text="  "), ValidationFailed, "text"),
        ("response to a closed order", respond(closed, text="再答复"), InvalidTransition, "status"),
        ("response photo that does not exist", respond(issued, text="见照片", photos=["b" * 64]),
         ValidationFailed, "photos"),
        ("reject a closed order", lambda: svc.reject(inspector, closed, s.RejectBody(
            reason="x", deadline=clock.now() + hour)), InvalidTransition, "status"),
    ]  # fmt: skip
    for name, call, error, field in cases:
        before = await row_counts()
        with pytest.raises(error) as info:
            await call()
        assert isinstance(info.value, DomainError)
        assert info.value.field == field, name
        assert await row_counts() == before, name


async def test_reject_deadline_rules(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector = actor_of(world, "inspector")
    oid = await order_in(svc, world, clock, OrderState.responded)
    before = await row_counts()
    for deadline, field in [
        (clock.now() - timedelta(minutes=1), "deadline"),
        (clock.now() + timedelta(days=40), "deadline_reason"),
    ]:
        with pytest.raises(ValidationFailed) as info:
            await svc.reject(inspector, oid, s.RejectBody(reason="不合格", deadline=deadline))
        assert info.value.field == field
    assert await row_counts() == before
    later = await svc.reject(
        inspector,
        oid,
        s.RejectBody(reason="不合格", deadline=clock.now() + timedelta(days=40), deadline_reason="冬季停工"),
    )
    assert later.order.status is OrderState.rejected and later.order.deadline_reason == "冬季停工"


async def test_who_may_open_orders(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    for who in ("inspector", "supervisor", "owner", "authority"):
        await svc.create_order(actor_of(world, who), create_body(world))
    for who, error in [
        ("contractor_a", Forbidden),
        ("viewer", Forbidden),
        ("resident", Forbidden),
        ("outsider", NotFound),
    ]:
        with pytest.raises(error):
            await svc.create_order(actor_of(world, who), create_body(world))


# Other domains open orders inside their own transaction.


async def test_open_order_from_another_domain_commits_or_rolls_back_with_it(
    svc: RectificationService, world: World, clock
) -> None:  # type: ignore[no-untyped-def]
    inspector = actor_of(world, "inspector")
    answer_id = UUID(int=42)
    spec = OrderSpec(
        project_id=world.id_of("p1"),
        kind=OrderKind.safety,
        severity=Severity.major,
        source=Source.inspection_answer,
        source_table="inspection_answer",
        source_id=answer_id,
        description="临边无防护栏杆",
        work_item_id=world.id_of("work_b"),
        issue=True,
    )
    before = await row_counts()
    with pytest.raises(RuntimeError):
        async with write(inspector, clock) as w:
            await open_order(w, inspector, spec)
            raise RuntimeError("the checklist's own write failed")
    assert await row_counts() == before
    async with write(inspector, clock) as w:
        row = await open_order(w, inspector, spec)
    assert row["status"] == "issued" and row["contractor"] == world.orgs["contractor_b"].id
    assert row["source_id"] == answer_id
    # safety/major: 1 calendar day
    assert row["deadline"] - clock.now() < timedelta(days=2)
    # the system may open drafts for an inspector to issue, not issue them itself
    draft = OrderSpec(**{**spec.__dict__, "issue": False})
    async with write(SYSTEM, clock) as w:
        sys_row = await open_order(w, SYSTEM, draft)
    issued = await svc.issue(actor_of(world, "authority"), sys_row["id"], s.IssueBody())
    assert issued.order.issuer_id == world.users["authority"].id
    with pytest.raises(Forbidden):
        async with write(SYSTEM, clock) as w:
            await open_order(w, SYSTEM, spec)


# Cross-contractor: each sees and answers only its own.


async def test_contractors_see_only_their_own(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    for_a = await order_in(svc, world, clock, OrderState.issued)
    draft_a = await order_in(svc, world, clock, OrderState.draft)
    for_b = await order_in(svc, world, clock, OrderState.issued, work_item_id=world.id_of("work_b"))
    a, b = actor_of(world, "contractor_a"), actor_of(world, "contractor_b")
    assert {o.id for o in (await svc.list_orders(a)).items} == {for_a}
    assert {o.id for o in (await svc.list_orders(b)).items} == {for_b}
    assert {o.id for o in (await svc.list_orders(actor_of(world, "viewer"))).items} == {for_a, draft_a, for_b}
    assert (await svc.list_orders(actor_of(world, "outsider"))).total == 0
    for oid in (for_b, draft_a):
        with pytest.raises(NotFound):
            await svc.get_order(a, oid)
        with pytest.raises(NotFound):
            await svc.respond(a, oid, s.RespondBody(text="x"))
    with pytest.raises(NotFound):
        await svc.get_order(actor_of(world, "outsider"), for_a)


async def test_photo_access_follows_the_order(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    photo = await announce(world, clock, "hazard.jpg")
    detail = await svc.create_order(actor_of(world, "inspector"), create_body(world, photos=[photo]))
    a, b = actor_of(world, "contractor_a"), actor_of(world, "contractor_b")
    assert not await links.may_read(a, photo)  # a draft is not yet the contractor's
    await svc.issue(actor_of(world, "inspector"), detail.order.id, s.IssueBody())
    assert await links.may_read(a, photo)
    assert not await links.may_read(b, photo)
    assert await links.may_read(actor_of(world, "viewer"), photo)
    answer = await announce(world, clock, "answer.jpg", org="contractor_a")
    await svc.respond(a, detail.order.id, s.RespondBody(photos=[answer]))
    assert await links.may_read(actor_of(world, "owner"), answer)
    assert not await links.may_read(b, answer)


# Stop-work


async def test_stop_work_until_resumed(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    inspector, contractor = actor_of(world, "inspector"), actor_of(world, "contractor_a")
    work_a, work_b, site = world.id_of("work_a"), world.id_of("work_b"), world.id_of("site1")
    oid = await order_in(svc, world, clock, OrderState.issued, kind=OrderKind.stop_work, severity=Severity.major)
    assert [st.order_id for st in await active_stops(work_item_id=work_a)] == [oid]
    assert [st.order_id for st in await active_stops(site_id=site)] == [oid]
    assert [st.order_id for st in await active_stops(project_id=world.id_of("p1"))] == [oid]
    assert await active_stops(work_item_id=work_b) == []  # only work item A was stopped
    with pytest.raises(ValueError):
        await active_stops()

    with pytest.raises(InvalidTransition):  # no accepted response yet
        await svc.resume(inspector, oid, s.ResumeBody())
    await svc.respond(contractor, oid, s.RespondBody(text="已加固"))
    with pytest.raises(InvalidTransition):
        await svc.resume(inspector, oid, s.ResumeBody())
    await svc.accept(inspector, oid, s.AcceptBody())
    assert len(await active_stops(work_item_id=work_a)) == 1  # accepting does not by itself resume
    with pytest.raises(Forbidden):
        await svc.resume(contractor, oid, s.ResumeBody())
    resumed = await svc.resume(actor_of(world, "supervisor"), oid, s.ResumeBody(note="同意复工"))
    assert resumed.stops[0].resumed_by_id == world.users["supervisor"].id and not resumed.stops[0].active
    assert resumed.history[-1].action == "resume"
    assert await active_stops(work_item_id=work_a) == []
    with pytest.raises(InvalidTransition):
        await svc.resume(inspector, oid, s.ResumeBody())
    history = await svc.list_stops(actor_of(world, "owner"), world.id_of("p1"))
    assert [(st.order_id, st.active) for st in history.items] == [(oid, False)]


async def test_a_site_stop_shows_on_every_work_item_and_ends_with_cancel(
    svc: RectificationService, world: World, clock
) -> None:  # type: ignore[no-untyped-def]
    inspector = actor_of(world, "inspector")
    detail = await svc.create_order(
        inspector,
        create_body(
            world,
            kind=OrderKind.stop_work,
            work_item_id=None,
            site_id=world.id_of("site1"),
            contractor_id=world.orgs["contractor_b"].id,
            issue=True,
        ),
    )
    assert len(await active_stops(work_item_id=world.id_of("work_a"))) == 1
    assert len(await active_stops(work_item_id=world.id_of("work_b"))) == 1
    assert (await svc.list_stops(actor_of(world, "contractor_a"), world.id_of("p1"))).items == []
    await svc.cancel(inspector, detail.order.id, s.CancelBody(reason="下错单位"))
    assert await active_stops(site_id=world.id_of("site1")) == []
    stops = (await svc.list_stops(actor_of(world, "contractor_b"), world.id_of("p1"))).items
    assert len(stops) == 1 and stops[0].resume_note.startswith("停工通知单已撤销：")


# Escalation


async def _notified(oid: UUID) -> list[tuple[int, str, str]]:
    # the escalations only (the order's moves tell its people too: tests/notifications)
    rows = await Notification.select().where((Notification.subject_id == oid) & (Notification.rule == "order_overdue"))
    return sorted((r["threshold"], r["recipient_key"], r["kind"]) for r in rows)


async def test_escalation_past_each_threshold_once(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(svc, world, clock, OrderState.issued)  # quality/general: 7 days, authority after 7 more
    deadline = (await svc.get_order(actor_of(world, "inspector"), oid)).order.deadline
    assert deadline is not None
    issuer_org, owner_org = world.orgs["supervisor"].id, world.orgs["owner"].id
    authority_org = world.orgs["authority"].id

    clock.set(deadline)
    assert (await svc.escalate()).notifications_created == 0
    clock.set(deadline + timedelta(seconds=1))
    report = await svc.escalate()
    assert report.notifications_created == 2
    first = [(1, f"org:{issuer_org}", "order_overdue"), (1, f"org:{owner_org}", "order_overdue")]
    assert await _notified(oid) == sorted(first)
    assert (await svc.escalate()).notifications_created == 0  # twice: each once
    assert (await svc.get_order(actor_of(world, "inspector"), oid)).order.overdue

    clock.set(deadline + timedelta(days=7, seconds=1))
    assert (await svc.escalate()).notifications_created == 1
    assert (await svc.escalate()).notifications_created == 0
    assert await _notified(oid) == sorted([*first, (2, f"org:{authority_org}", "order_overdue_authority")])
    history = (await svc.get_order(actor_of(world, "inspector"), oid)).history
    assert [e.reason.split(" (")[0] for e in history if e.action == "escalate"] == ["threshold 1", "threshold 2"]

    # an answer stops the clock; a rejection with a new deadline starts a new round of notices
    contractor, inspector = actor_of(world, "contractor_a"), actor_of(world, "inspector")
    await svc.respond(contractor, oid, s.RespondBody(text="迟到的答复"))
    assert (await svc.escalate(clock.now() + timedelta(days=30))).notifications_created == 0
    new_deadline = clock.now() + timedelta(days=2)
    await svc.reject(inspector, oid, s.RejectBody(reason="仍不合格", deadline=new_deadline))
    assert (await svc.escalate(new_deadline + timedelta(hours=1))).notifications_created == 2
    assert len(await _notified(oid)) == 5


async def test_escalation_of_a_major_order_without_an_authority_member(
    svc: RectificationService, world: World, clock
) -> None:  # type: ignore[no-untyped-def]
    p1 = world.id_of("p1")
    members = await world.services.projects.list_members(SYSTEM, p1, 100, 0)
    authority = next(m for m in members.items if m.role.value == "authority")
    await world.services.projects.remove_member(SYSTEM, p1, authority.id)
    oid = await order_in(svc, world, clock, OrderState.issued, severity=Severity.major)
    deadline = (await svc.get_order(actor_of(world, "inspector"), oid)).order.deadline
    assert deadline is not None
    # quality/major: authority after 1 day
    await svc.escalate(deadline + timedelta(days=1, seconds=1))
    kinds = {k for _, _, k in await _notified(oid)}
    assert kinds == {"order_overdue", "order_overdue_no_authority"}


async def test_notification_feed_and_mark_read(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = await order_in(svc, world, clock, OrderState.issued)
    deadline = (await svc.get_order(actor_of(world, "inspector"), oid)).order.deadline
    assert deadline is not None
    await svc.escalate(deadline + timedelta(minutes=5))
    supervisor_feed = await svc.notifications(actor_of(world, "supervisor"))  # the issuer's organisation
    assert supervisor_feed.total == 1 and supervisor_feed.unread == 1
    assert (await svc.notifications(actor_of(world, "owner"))).total == 1
    # the contractor heard of the order when it was issued, and of no escalation
    assert [n.kind for n in (await svc.notifications(actor_of(world, "contractor_a"))).items] == ["order_issued"]
    note = supervisor_feed.items[0]
    with pytest.raises(NotFound):
        await svc.mark_read(actor_of(world, "contractor_a"), note.id)
    read = await svc.mark_read(actor_of(world, "inspector"), note.id)  # same organisation
    assert read.read_at == clock.now()
    assert (await svc.notifications(actor_of(world, "supervisor"), unread_only=True)).total == 0


# Lists and counts


async def test_list_puts_overdue_first_then_by_deadline(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    late = await order_in(svc, world, clock, OrderState.issued)  # 7 days
    soon = await order_in(svc, world, clock, OrderState.issued, kind=OrderKind.safety)  # 3 days
    closed = await order_in(svc, world, clock, OrderState.closed, kind=OrderKind.safety)
    draft = await order_in(svc, world, clock, OrderState.draft)
    clock.set(start + timedelta(days=8, hours=1))
    fresh = await order_in(svc, world, clock, OrderState.issued, kind=OrderKind.safety)
    a = actor_of(world, "contractor_a")
    listed = [o.id for o in (await svc.list_orders(a)).items]
    # soon and late are both overdue (soonest deadline first); closed's deadline passed but it is done
    assert listed == [soon, late, closed, fresh]
    everyone = [o.id for o in (await svc.list_orders(actor_of(world, "owner"))).items]
    assert everyone == [soon, late, closed, fresh, draft]
    paged = [
        o.id for p in range(3) for o in (await svc.list_orders(actor_of(world, "owner"), limit=2, offset=2 * p)).items
    ]
    assert paged == everyone
    overdue = await svc.list_orders(a, overdue=True)
    assert [o.id for o in overdue.items] == [soon, late] and all(o.overdue for o in overdue.items)
    assert [o.id for o in (await svc.list_orders(a, overdue=False)).items] == [closed, fresh]
    assert [o.id for o in (await svc.list_orders(a, status=OrderState.closed)).items] == [closed]
    assert [o.id for o in (await svc.list_orders(a, kind=OrderKind.quality)).items] == [late]
    due = await svc.list_orders(a, due_before=start + timedelta(days=5))
    assert [o.id for o in due.items] == [soon, closed]


async def test_counts_per_project_and_contractor(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    await order_in(svc, world, clock, OrderState.issued)
    await order_in(svc, world, clock, OrderState.issued, work_item_id=world.id_of("work_b"))
    clock.advance(timedelta(days=1))
    closing = await order_in(svc, world, clock, OrderState.responded)
    clock.advance(timedelta(days=2))
    await svc.accept(actor_of(world, "inspector"), closing, s.AcceptBody())
    await order_in(svc, world, clock, OrderState.draft)
    clock.set(start + timedelta(days=10))
    counts = await svc.counts(actor_of(world, "owner"), world.id_of("p1"))
    assert (counts.totals.open, counts.totals.overdue, counts.totals.closed, counts.totals.drafts) == (2, 2, 1, 1)
    assert counts.totals.average_days_to_close == 2.0
    per = {c.contractor_id: c for c in counts.contractors}
    assert per[world.orgs["contractor_a"].id].open == 1 and per[world.orgs["contractor_a"].id].closed == 1
    assert per[world.orgs["contractor_b"].id].overdue == 1
    mine = await svc.counts(actor_of(world, "contractor_b"), world.id_of("p1"))
    assert [c.contractor_id for c in mine.contractors] == [world.orgs["contractor_b"].id]
    assert mine.totals.open == 1 and mine.totals.drafts == 0
    with pytest.raises(NotFound):
        await svc.counts(actor_of(world, "outsider"), world.id_of("p1"))


async def test_a_client_made_id_is_used_once(svc: RectificationService, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    oid = UUID("0190a3c4-0000-7000-8000-000000000001")
    await svc.create_order(actor_of(world, "inspector"), create_body(world, id=oid))
    with pytest.raises(Conflict) as info:
        await svc.create_order(actor_of(world, "inspector"), create_body(world, id=oid))
    assert info.value.field == "id"
