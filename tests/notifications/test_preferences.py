"""Each person's choice per kind: at once, the daily digest at their time, or off; mandatory kinds
refused; the digest job with the test clock, sent once by the real SMTP server on loopback; the
API's validation and the portal's 通知设置 page."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from inspection.clock import FixedClock
from inspection.notifications.outbox_tables import Notification
from inspection.projects.tables import User
from inspection.rectification import schemas as s
from inspection.rectification.rules import OrderState
from tests.alerts.conftest import Mailbox
from tests.alerts.helpers import relogin, run
from tests.alerts.test_delivery import with_delivery
from tests.factories import World
from tests.notifications.helpers import held, told
from tests.portal.helpers import browser, csrf_of, sign_in
from tests.rectification.helpers import actor_of, create_body, order_in

PREFS = "/api/v1/notifications/preferences"
DIGEST_ISSUED = {"kind": "order_issued", "mode": "digest"}


def local(clock: FixedClock, hour: int, minute: int = 0) -> datetime:
    """The test day's `hour:minute` in the programme's zone."""
    return datetime.combine(clock.today(), time(hour, minute), clock.tz)


async def put(world: World, who: str, body: Any) -> Any:
    return await world.client.put(PREFS, headers=world.headers(who), json=body)


async def test_defaults_everything_at_once_and_mandatory_kinds_marked(world: World) -> None:
    r = await world.get("contractor_a", PREFS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["digest_time"] == "08:00"
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert {k["mode"] for k in kinds.values()} == {"immediate"}
    assert {k for k, v in kinds.items() if v["mandatory"]} == {"stop_work", "work_resumed", "escalation"}
    assert kinds["order_issued"]["name"] == "整改通知单下发"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kinds": [{"kind": "stop_work", "mode": "off"}]}, "kinds[0].mode"),
        (
            {"kinds": [{"kind": "order_issued", "mode": "digest"}, {"kind": "escalation", "mode": "digest"}]},
            "kinds[1].mode",
        ),
        ({"kinds": [{"kind": "no_such_thing", "mode": "off"}]}, "kinds[0].kind"),
        ({"kinds": [{"kind": "order_issued", "mode": "weekly"}]}, "kinds[0].mode"),
        (
            {"kinds": [{"kind": "order_issued", "mode": "off"}, {"kind": "order_issued", "mode": "digest"}]},
            "kinds[1].kind",
        ),
        ({"digest_time": "25:00"}, "digest_time"),
        ({"digest_time": "8点"}, "digest_time"),
    ],
)
async def test_refusals_name_the_field_and_change_nothing(world: World, body: dict[str, Any], field: str) -> None:
    before = (await world.get("owner", PREFS)).json()
    r = await put(world, "owner", body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == field and re.search(r"[\u4e00-\u9fff]", problem["detail"])
    # all or nothing: the first kind of a refused list was not stored either
    assert (await world.get("owner", PREFS)).json() == before


async def test_unknown_fields_and_strangers_are_refused(world: World) -> None:
    r = await put(world, "owner", {"kinds": [], "colour": "red"})
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")
    r = await world.client.get(PREFS)
    assert r.status_code == 401


async def test_choices_are_kept_and_answered_back(world: World) -> None:
    r = await put(
        world,
        "contractor_a",
        {
            "digest_time": "18:30",
            "kinds": [{"kind": "order_issued", "mode": "digest"}, {"kind": "order_closed", "mode": "off"}],
        },
    )
    assert r.status_code == 200, r.text
    kinds = {k["kind"]: k["mode"] for k in r.json()["kinds"]}
    assert r.json()["digest_time"] == "18:30" and kinds["order_issued"] == "digest" and kinds["order_closed"] == "off"
    # a later change of one kind leaves the others and the time
    r = await put(world, "contractor_a", {"kinds": [{"kind": "order_issued", "mode": "immediate"}]})
    kinds = {k["kind"]: k["mode"] for k in r.json()["kinds"]}
    assert (
        r.json()["digest_time"] == "18:30" and kinds["order_issued"] == "immediate" and kinds["order_closed"] == "off"
    )
    # one person's choice is theirs only
    assert {k["mode"] for k in (await world.get("owner", PREFS)).json()["kinds"]} == {"immediate"}


async def test_off_means_nothing_and_other_kinds_still_come(world: World, clock: FixedClock) -> None:
    assert (await put(world, "contractor_a", {"kinds": [{"kind": "order_issued", "mode": "off"}]})).status_code == 200
    svc = world.services.rectification
    oid = await order_in(svc, world, clock, OrderState.responded)
    assert await told(world, "order_issued", oid) == []
    assert await held(world, "contractor_a") == []
    await svc.reject(
        actor_of(world, "inspector"), oid, s.RejectBody(reason="不合格", deadline=clock.now() + timedelta(days=2))
    )
    assert await told(world, "order_returned", oid) == ["contractor_a"]


async def test_the_daily_digest_once_at_the_chosen_time_by_email(
    world: World, clock: FixedClock, mailbox: Mailbox
) -> None:
    # contractor A's site manager has an address and takes new orders in a digest at 18:00
    await User.update({User.email: "li@contractor-a.test"}).where(User.id == world.users["contractor_a"].id)
    r = await put(
        world, "contractor_a", {"digest_time": "18:00", "kinds": [{"kind": "order_issued", "mode": "digest"}]}
    )
    assert r.status_code == 200, r.text
    settings = with_delivery(world.services.settings, mailbox)
    clock.set(local(clock, 9))
    svc, inspector = world.services.rectification, actor_of(world, "inspector")
    first = await svc.create_order(inspector, create_body(world, issue=True))
    second = await svc.create_order(inspector, create_body(world, issue=True, description="女儿墙泛水高度不足"))
    # held, not told
    assert await told(world, "order_issued") == []
    assert len(await held(world, "contractor_a")) == 2

    # before 18:00 nothing goes out; an empty digest never does
    clock.set(local(clock, 17, 59))
    await run("notification_digests", settings, clock)
    assert await Notification.count().where(Notification.kind == "digest") == 0

    clock.set(local(clock, 18, 1))
    for _ in range(2):  # the job runs twice: one digest
        await run("notification_digests", settings, clock)
    digests = await Notification.select().where(Notification.kind == "digest")
    assert len(digests) == 1 and digests[0]["recipient_user"] == world.users["contractor_a"].id
    text = digests[0]["message"]
    assert "共 2 条" in text and "女儿墙泛水高度不足" in text and "屋面防水卷材搭接宽度不足" in text
    assert f"/portal/orders/{first.order.id}" in text and f"/portal/orders/{second.order.id}" in text
    assert clock.today().isoformat() in text and not re.search(r"\d{2}:\d{2}:\d{2}|\+00:00", text)

    for _ in range(2):
        await run("deliveries", settings, clock)
    mails = [m for m in mailbox.messages if "li@contractor-a.test" in m[0]]
    assert len(mails) == 1
    parsed = email.message_from_bytes(mails[0][1], policy=email.policy.default)
    assert "通知汇总" in parsed["Subject"] and "digest" not in parsed["Subject"]
    body = parsed.get_content() if not parsed.is_multipart() else parsed.get_body().get_content()  # type: ignore[union-attr]
    assert "女儿墙泛水高度不足" in body

    # what arrives after today's digest waits for tomorrow's
    third = await svc.create_order(inspector, create_body(world, issue=True, description="檐沟找坡不足"))
    await run("notification_digests", settings, clock)
    assert await Notification.count().where(Notification.kind == "digest") == 1
    clock.advance(timedelta(days=1))
    await relogin(world, "contractor_a")
    await run("notification_digests", settings, clock)
    tomorrow = await Notification.select().where(
        (Notification.kind == "digest") & (Notification.occurrence == clock.today().toordinal())
    )
    assert len(tomorrow) == 1 and "檐沟找坡不足" in tomorrow[0]["message"] and "共 1 条" in tomorrow[0]["message"]
    assert f"/portal/orders/{third.order.id}" in tomorrow[0]["message"]


async def test_the_settings_page_saves_and_refuses(world: World, app: Any) -> None:
    async with browser(app) as b:
        r = await sign_in(b, world.users["contractor_a"].username)
        assert r.status_code in (302, 303), r.text
        page = await b.get("/portal/notifications/settings")
        assert page.status_code == 200 and "通知设置" in page.text and "停工通知" in page.text
        assert 'name="mode-stop_work" disabled' in page.text
        token = csrf_of(page.text)
        form = {"csrf_token": token, "digest_time": "07:45", "mode-order_issued": "digest", "mode-order_closed": "off"}
        r = await b.post("/portal/notifications/settings", data=form)
        assert r.status_code == 303
        page = await b.get(r.headers["location"])
        assert "已保存" in page.text and 'value="07:45"' in page.text
        kinds = {k["kind"]: k["mode"] for k in (await world.get("contractor_a", PREFS)).json()["kinds"]}
        assert kinds["order_issued"] == "digest" and kinds["order_closed"] == "off"
        # a bad time comes back with the refusal above the form, nothing changed
        r = await b.post("/portal/notifications/settings", data={**form, "digest_time": "99:99"})
        assert r.status_code == 422 and "时:分" in r.text
        # a mandatory kind posted anyway stays as the rules say
        r = await b.post("/portal/notifications/settings", data={**form, "mode-stop_work": "off"})
        assert r.status_code == 303
        kinds = {k["kind"]: k["mode"] for k in (await world.get("contractor_a", PREFS)).json()["kinds"]}
        assert kinds["stop_work"] == "immediate"
