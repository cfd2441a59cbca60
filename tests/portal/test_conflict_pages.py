"""同步冲突 pages: conflicts made by two real tablets' pushes, read by the project's supervisors and
inspectors in Chinese, resolved keeping either value (the overwritten one written back through the
domain's own update), and hidden (404) from everyone else."""

from __future__ import annotations

import re

from inspection import db
from inspection.checklists import catalogue
from inspection.records import new_id
from tests.checklists.conftest import templates  # noqa: F401  (the fixture)
from tests.checklists.helpers import ROOF, answers_for
from tests.checklists.test_sync import edit_answer, enqueue_answers
from tests.factories import World
from tests.portal.helpers import actor_from, browser, csrf_of, sign_in
from tests.sync.conftest import (
    Tablets,
    tablets,  # noqa: F401  (the fixture)
)


async def households_conflict(world: World, tablets: Tablets) -> str:  # noqa: F811
    """The supervisor's tablet and the owner's both change 户数 of site1 offline; the supervisor's
    222 arrives last and wins, so the owner's 111 is the overwritten value."""
    one = await tablets("supervisor")
    two = await tablets("owner")
    await one.sync()
    await two.sync()
    site = str(world.id_of("site1"))
    one.edit("site", site, {"households": 222}, "site.update@1")
    two.edit("site", site, {"households": 111}, "site.update@1")
    await two.sync()
    await one.sync()
    rows = await db.raw("SELECT id FROM sync_conflict WHERE record_id = {}", world.id_of("site1"))
    assert len(rows) == 1
    return str(rows[0]["id"])


async def test_supervisor_reads_the_conflict_and_keeps_the_current_value(app, world, tablets) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    conflict = await households_conflict(world, tablets)
    p1 = world.id_of("p1")
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        project = await b.get(f"/portal/projects/{p1}")
        assert 'data-testid="conflicts-tile"' in project.text and "待处理同步冲突" in project.text
        page = await b.get(f"/portal/projects/{p1}/conflicts")
        assert page.status_code == 200
        text = page.text
        assert "户数" in text and "小区" in text and world.site1.name in text
        assert re.search(r'data-testid="conflict-kept"><strong>222</strong>', text)
        assert re.search(r'data-testid="conflict-lost"><strong>111</strong>', text)
        assert re.search(r'data-testid="conflict-who">' + re.escape(world.users["supervisor"].display_name), text)
        visible = re.sub(r"<[^>]+>", " ", text)  # no table, field or reason code and no id in what is read
        for code in ("households", "overwritten", "site", conflict):
            assert code not in visible, code
        r = await b.post(
            f"/portal/conflicts/{conflict}/resolve",
            data={"csrf_token": csrf_of(text), "choice": "kept", "note": "以业主核实的户数为准"},
        )
        assert r.status_code == 303
        after = await b.get(r.headers["location"])
        assert "已标为已解决" in after.text and "没有待处理的同步冲突" in after.text
        every = await b.get(f"/portal/projects/{p1}/conflicts?show=all")
        assert "已解决：保留现值“222”" in every.text and "以业主核实的户数为准" in every.text
        # deciding twice: 409, said in Chinese, nothing changes
        again = await b.post(
            f"/portal/conflicts/{conflict}/resolve",
            data={"csrf_token": csrf_of(every.text), "choice": "lost"},
        )
        assert again.status_code == 409 and "已由他人处理" in again.text
    row = (await db.raw("SELECT * FROM sync_conflict WHERE id = {}", conflict))[0]
    assert (row["resolution"], row["chosen_value"], row["resolution_note"]) == ("kept", "222", "以业主核实的户数为准")
    assert row["resolved_by"] == world.users["supervisor"].id and row["resolved_at"] is not None
    site = await app.state.services.projects.get_site(actor_from(world, "owner"), world.id_of("site1"))
    assert site.households == 222


async def test_keeping_the_overwritten_value_writes_it_back(app, world, tablets) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    conflict = await households_conflict(world, tablets)
    async with browser(app) as b:
        await sign_in(b, world.users["supervisor"].username)
        page = await b.get(f"/portal/projects/{world.id_of('p1')}/conflicts")
        r = await b.post(
            f"/portal/conflicts/{conflict}/resolve", data={"csrf_token": csrf_of(page.text), "choice": "lost"}
        )
        assert r.status_code == 303
    site = await app.state.services.projects.get_site(actor_from(world, "owner"), world.id_of("site1"))
    assert site.households == 111
    # the resolution reaches the tablets like any other change
    viewer = await tablets("supervisor")
    await viewer.sync()
    (synced,) = viewer.conflicts()
    assert (synced["resolution"], synced["chosen_value"]) == ("lost", "111")


async def test_refusals_are_chinese_and_leave_nothing_behind(app, world, tablets) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    conflict = await households_conflict(world, tablets)
    async with browser(app) as b:
        # an inspector may resolve, but writing 户数 back is the owner's and supervisor's to do (403)
        await sign_in(b, world.users["inspector"].username)
        page = await b.get(f"/portal/projects/{world.id_of('p1')}/conflicts")
        assert page.status_code == 200
        token = csrf_of(page.text)
        bad = await b.post(f"/portal/conflicts/{conflict}/resolve", data={"csrf_token": token, "choice": "both"})
        assert bad.status_code == 422 and "请选择保留哪一个值" in bad.text
        no_token = await b.post(f"/portal/conflicts/{conflict}/resolve", data={"choice": "kept"})
        assert no_token.status_code == 403
        stale = await b.post(
            f"/portal/conflicts/{conflict}/resolve", data={"csrf_token": token, "choice": "kept", "version": "99"}
        )
        assert stale.status_code == 409 and "请刷新" in stale.text
        # an inspector may decide, but writing 户数 back is for the owner and supervisor (403):
        # the refusal is shown and neither the site nor the conflict changes
        write_back = await b.post(f"/portal/conflicts/{conflict}/resolve", data={"csrf_token": token, "choice": "lost"})
        assert write_back.status_code == 403 and 'data-testid="conflict-error"' in write_back.text
    row = (await db.raw("SELECT resolved_at, resolution FROM sync_conflict WHERE id = {}", conflict))[0]
    assert row["resolved_at"] is None and row["resolution"] == ""
    site = await app.state.services.projects.get_site(actor_from(world, "owner"), world.id_of("site1"))
    assert site.households == 222


async def test_other_members_and_outsiders_get_404(app, world, tablets) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    conflict = await households_conflict(world, tablets)
    p1 = world.id_of("p1")
    for who in ("owner", "contractor_a", "authority", "resident", "outsider"):
        async with browser(app) as b:
            await sign_in(b, world.users[who].username)
            home = await b.get("/portal/orders/")
            page = await b.get(f"/portal/projects/{p1}/conflicts")
            assert page.status_code == 404, who
            # the value as the page would show it: a bare "111" also turns up in the page's
            # random CSRF token (40 hex digits) about once in a hundred pages
            assert "<strong>111</strong>" not in page.text and 'data-testid="conflict-lost"' not in page.text
            r = await b.post(
                f"/portal/conflicts/{conflict}/resolve", data={"csrf_token": csrf_of(home.text), "choice": "kept"}
            )
            assert r.status_code == 404, who
            if who != "outsider":
                project = await b.get(f"/portal/projects/{p1}")
                assert "待处理同步冲突" not in project.text
    row = (await db.raw("SELECT resolved_at FROM sync_conflict WHERE id = {}", conflict))[0]
    assert row["resolved_at"] is None


async def test_an_answer_conflict_names_the_checklist_item_and_writes_back_while_a_draft(  # type: ignore[no-untyped-def]
    app,
    world,
    tablets,  # noqa: F811
    templates,  # noqa: F811
) -> None:
    """Two devices of the inspector change one answer's note from the same base: the page names the
    inspection's 小区, building and work item and the checklist item, and keeping the overwritten
    note writes it back through the checklist's own answer update."""
    first = await tablets("inspector")
    second = await tablets("inspector", device="inspector-phone")
    iid = new_id()
    first.enqueue(
        "inspection.create@1",
        iid,
        {"project_id": str(world.id_of("p1")), "work_item_id": str(world.id_of("work_a")), "template_code": ROOF},
    )
    enqueue_answers(first, iid, answers_for(ROOF))
    await first.sync()
    await second.sync()
    edit_answer(first, iid, "N1", {"note": "抽查10处"})
    edit_answer(second, iid, "N1", {"note": "抽查10处,1处起鼓"})
    await first.sync()
    await second.sync()
    inspection = (await app.state.services.checklists.get(actor_from(world, "inspector"), iid)).inspection
    template = catalogue.template_of(await catalogue.get_version(inspection.template))
    item_text = next(i.text for i in template.items if i.code == "N1")
    async with browser(app) as b:
        await sign_in(b, world.users["inspector"].username)
        page = await b.get(f"/portal/projects/{world.id_of('p1')}/conflicts")
        text = page.text
        assert "检查项" in text and "备注" in text and world.work_a.name in text
        assert item_text[:20] in text
        assert "抽查10处,1处起鼓" in text and "抽查10处" in text
        conflict = re.search(r'action="/portal/conflicts/([0-9a-f-]+)/resolve"', text)
        assert conflict
        r = await b.post(
            f"/portal/conflicts/{conflict.group(1)}/resolve", data={"csrf_token": csrf_of(text), "choice": "lost"}
        )
        assert r.status_code == 303, r.text
    answer = await app.state.services.checklists.answer_for_edit(actor_from(world, "inspector"), iid, "N1")
    assert answer is not None and answer.note == "抽查10处"
