"""Every portal page, by its URL, opened by someone who must not see contractor A's records: a
member of another project only, and contractor B on the same project. The routes come from the app,
so a new page with a path parameter fails here until the sweep names a record for it."""

from __future__ import annotations

import re
from datetime import timedelta

from inspection import db
from inspection.checklists.catalogue import import_shipped
from inspection.complaints.schemas import ComplaintIn
from inspection.rectification import schemas as rs
from inspection.warranty.schemas import ClaimCreate
from tests.checklists.helpers import ROOF, answer, answers_for, draft, submit
from tests.portal.helpers import actor_from, browser, csrf_of, sign_in
from tests.portal.test_conflict_pages import households_conflict
from tests.portal.test_pages import issue_order
from tests.rectification.helpers import issued_notice
from tests.security.test_route_sweep import programme_of_p1
from tests.sync.conftest import tablets  # noqa: F401  (the fixture)
from tests.warranty.helpers import accept_site, photo

# Public by design (the site's notice page, poster and complaint form): they must still never show the secrets.
PUBLIC = {
    "/portal/notice/{site_id:uuid}",
    "/portal/notice/{site_id:uuid}/poster",
    "/portal/notice/{site_id:uuid}/qr.svg",
    "/portal/notice/{site_id:uuid}/complaints",
    "/portal/notice/{site_id:uuid}/survey",
    "/portal/notice/{site_id:uuid}/progress",
}
# Project pages contractor B, a member of the project, may open (without A's records) or is refused
# by role (403, as the API answers a member), by method.
MEMBER_PAGES = {
    "/portal/projects/{project_id:uuid}": {"GET": 200},
    "/portal/projects/{project_id:uuid}/warranty": {"GET": 200},
    "/portal/projects/{project_id:uuid}/warranty/claims": {"POST": 403},
    "/portal/projects/{project_id:uuid}/acceptance": {"GET": 403, "POST": 403},
    # the site's acceptance record is the project's, as the API shows it; A's warranty items left out
    "/portal/acceptances/{acceptance_id:uuid}": {"GET": 200},
}


async def test_no_portal_page_shows_or_changes_another_partys_records(app, world, clock, tablets) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    services = app.state.services
    acceptance = await accept_site(world, services.warranty.today())
    item = next(i for i in acceptance.warranty_items if i.contractor_id == world.orgs["contractor_a"].id)
    claim = await services.warranty.report_claim(
        actor_from(world, "resident"),
        ClaimCreate(
            warranty_item_id=item.id,
            reporter_party="resident",
            location="甲方独有：1号楼 602",
            description="甲方独有：顶层渗水",
            photos=[await photo(world, clock, "leak.jpg")],
        ),
    )
    order = await issue_order(app, world, description="甲方独有：三号楼屋面空鼓")
    await services.rectification.respond(
        actor_from(world, "contractor_a"), order.id, rs.RespondBody(text="甲方回复：已返工")
    )
    await issue_order(app, world, description="甲方独有：女儿墙泛水")  # stays open, so it escalates
    await services.complaints.submit(
        world.id_of("site1"), ComplaintIn(text="居民私信：楼下堆放钢筋", contact="13600009999")
    )
    complaint = (await services.complaints.list_complaints(actor_from(world, "supervisor"), world.id_of("p1"))).items[0]
    await services.rectification.escalate(clock.now() + timedelta(days=366))  # a year on, even from 29 February
    note = (await services.rectification.notifications(actor_from(world, "owner"))).items[0]
    await import_shipped(clock)
    inspection = (await draft(world, template_code=ROOF, lot_size=40))["inspection"]["id"]
    await answer(world, inspection, answers_for(ROOF, M1={"value": "pass", "note": "甲方独有：檐沟找坡"}))
    assert (await submit(world, clock, inspection)).status_code == 200
    conflict = await households_conflict(world, tablets)
    notice = (await issued_notice(world, clock))["notice"]
    params = {
        "notice_id": notice["id"],
        "acceptance_id": acceptance.id,
        "claim_id": claim.id,
        "conflict_id": conflict,
        "inspection_id": inspection,
        "programme_id": (await programme_of_p1(world))["programme"],
        "order_id": order.id,
        "project_id": world.id_of("p1"),
        "complaint_id": complaint.id,
        "notification_id": note.id,
        "site_id": world.id_of("site1"),
    }
    secrets = ["甲方独有", "甲方回复", "居民私信", "13600009999"]
    routes: list[tuple[str, str]] = [
        (method, route.path)
        for route in app.routes
        if route.path.startswith("/portal") and "{" in route.path and "static" not in route.path
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"})
    ]
    assert routes, "no portal routes found"
    for who in ("outsider", "contractor_b"):
        async with browser(app) as b:
            await sign_in(b, world.users[who].username)
            token = csrf_of((await b.get("/portal/orders/")).text)
            for method, path in routes:
                names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
                missing = [n for n in names if n not in params]
                assert not missing, f"{method} {path}: name a record for {missing} in this sweep"
                url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(params[m.group(1)]), path)
                if method == "GET":
                    r = await b.get(url)
                else:
                    r = await b.post(url, data={"csrf_token": token, "text": "x", "reason": "x", "move": "dismiss"})
                body = r.text
                for secret in secrets:
                    assert secret not in body, f"{who} {method} {path} shows {secret!r}"
                if path in PUBLIC:
                    continue
                if who == "contractor_b" and path in MEMBER_PAGES:
                    # a member of the project: the page without A's records, or refused outright
                    assert r.status_code == MEMBER_PAGES[path][method], f"{method} {path} {r.status_code}"
                    continue
                assert r.status_code == 404, f"{who} {method} {path} answered {r.status_code}"
    # nothing changed
    after = await services.rectification.get_order(actor_from(world, "inspector"), order.id)
    assert after.order.status.value == "responded"
    still = await services.complaints.get_complaint(actor_from(world, "supervisor"), complaint.id)
    assert still.status.value == "new"
    assert not (await services.rectification.notifications(actor_from(world, "owner"))).items[0].read_at
    assert (await services.projects.get_site(actor_from(world, "owner"), world.id_of("site1"))).households == 222
    rows = await db.raw("SELECT resolved_at FROM sync_conflict WHERE id = {}", conflict)
    assert rows[0]["resolved_at"] is None
