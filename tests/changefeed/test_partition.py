"""The data is partitioned by project: every table of project data names its project, and a
transaction writes to one project unless it says otherwise (on a sharded database such a
transaction is a two-phase commit; see docs/scaling.md)."""

from __future__ import annotations

import uuid

import pytest
from piccolo.conf.apps import Finder

from inspection import db
from inspection.actor import SYSTEM
from inspection.changefeed.pending import CrossProjectWrite
from inspection.changefeed.scopes import PROJECT_COLUMNS
from inspection.projects.tables import Building
from inspection.records import write
from tests.changefeed.conftest import Land

# Tables that hold no project's data, each with why. Reviewed: a new table lands here only on purpose.
NOT_PROJECT_DATA = {
    "organisation": "reference data (scope ref), sent to every tablet",
    "checklist_template": "reference data (scope ref)",
    "app_user": "people (scope sys)",
    "device_session": "a person's sign-ins",
    "retired_refresh_token": "a sign-in's used refresh tokens (keyed by the session)",
    "rate_event": "rate limits by address or account",
    "webhook_subscription": "an organisation's or a person's endpoints",
    "alert_delivery": "a notification's sending, keyed by the notification (which names its project)",
    "scheduler_run": "the scheduler's log",
    "document_counter": "document numbers per kind and year, across projects",
    "sync_scope": "the scopes themselves (a project's scope is keyed by its id)",
    "sync_change": "keyed by scope, which is the project's id",
    "sync_device": "a device of a person, across the projects it syncs",
    "sync_mutation": "a device's stored outcomes (keyed by device)",
    "audit_entry": "keyed by scope, which is the project's id",
    "audit_head": "the closed global chain",
    "audit_checkpoint": "signatures over all scopes",
    "project": "keyed by the project's own id",
    # a programme spans many projects (its placements, which name their project, say which)
    "area": "districts, streets and communities above the projects (scope sys)",
    "area_office": "an area office's person (scope sys)",
    "programme": "a year's renovation programme of an area, over many projects (scope sys)",
    "programme_batch": "a programme's batches (scope sys)",
    "evaluation_revision": "a programme's monthly evaluation, over its projects (scope sys)",
    "credit_grade": "an organisation's grade in a programme's month (scope sys)",
    "notification_preference": "a person's choice per kind of notification, across projects",
    "notification_digest_time": "when a person's daily digest goes out",
}


def test_every_table_of_project_data_names_its_project() -> None:
    missing = []
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        columns = {c._meta.name for c in table._meta.columns}
        if name not in NOT_PROJECT_DATA and not columns & set(PROJECT_COLUMNS):
            missing.append(name)
    assert missing == [], "tables of project data without a project column"


async def test_a_transaction_writing_two_projects_must_say_so(land: Land, clock) -> None:  # type: ignore[no-untyped-def]
    a, b = land.projects[0], land.projects[1]
    with pytest.raises(CrossProjectWrite):
        async with write(SYSTEM, clock) as w:
            await land.add_building(w, a, "a")
            await land.add_building(w, b, "b")
    assert await Building.count().where(Building.name.is_in(["a", "b"])) == 0, "nothing of it committed"
    async with write(SYSTEM, clock) as w:
        w.allow_projects(a, b)
        await land.add_building(w, a, "a")
        await land.add_building(w, b, "b")
    assert await Building.count().where(Building.name.is_in(["a", "b"])) == 2


async def test_a_push_spanning_projects_commits_per_project(land: Land) -> None:
    """Mutations of projects A, B, A: three transactions, each in one project, all applied."""
    a, b = land.projects[0], land.projects[1]

    def edit(seq: int, project: uuid.UUID) -> dict[str, object]:
        return {
            "seq": seq,
            "id": uuid.uuid4(),
            "name": "site.update@1",
            "entity_id": str(land.sites[project]),
            "args": {"set": {"households": 10 + seq}},
        }

    async with db.trace_statements() as seen:
        results, last = await land.sync.push(land.reader, "tab", 1, [edit(1, a), edit(2, b), edit(3, a)])
    assert [r["status"] for r in results] == ["applied"] * 3 and last == 3
    assert sum(1 for s in seen if s.strip().upper().startswith("COMMIT")) == 3
