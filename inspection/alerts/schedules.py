"""Recurring inspections (巡检计划): making each due occurrence (which syncs to the inspector's
tablet through the project bucket), noticing the missed ones, and fulfilling one when its
inspection is submitted.

The checklists domain links an inspection to an occurrence when it is created (`linkable_occurrence`
checks the link) or, without a link, finds the open one it carries out at submission
(`open_occurrences`); the submit transaction then calls `fulfil_occurrence`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.alerts.outbox import AlertSpec, raise_alert
from inspection.alerts.rules import Frequency, Recurrence, due_days
from inspection.alerts.tables import InspectionOccurrence, InspectionSchedule
from inspection.errors import Conflict, NotFound, ValidationFailed
from inspection.messages import t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, portal_link
from inspection.notifications.recipients import Recipient, members_with_role, people
from inspection.projects.names import place_names
from inspection.projects.rules import Role
from inspection.projects.tables import Site
from inspection.records import Write, project_bucket
from inspection.rectification.rulebook import default_rulebook as rectification_rules
from inspection.submission import Submitted
from inspection.warranty.tables import Acceptance

OCCURRENCE_TABLE = InspectionOccurrence._meta.tablename
IO = InspectionOccurrence


def recurrence_of(row: dict[str, Any]) -> Recurrence:
    return Recurrence(
        frequency=Frequency(row["frequency"]),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        interval=row["interval"],
        weekday=row["weekday"],
        day_of_month=row["day_of_month"],
        working_days_only=row["working_days_only"],
    )


async def _sites(schedule: dict[str, Any]) -> list[UUID]:
    """The schedule's site, or every active site of its project: not deleted and not yet
    through a passed joint acceptance (after which the warranty, not inspections, applies)."""
    if schedule["site"] is not None:
        return [schedule["site"]]
    rows = await Site.select(Site.id).where((Site.project == schedule["project"]) & Site.deleted.eq(False))
    accepted = await Acceptance.select(Acceptance.site).where(
        (Acceptance.project == schedule["project"]) & (Acceptance.result == "passed") & Acceptance.deleted.eq(False)
    )
    if any(a["site"] is None for a in accepted):
        return []
    done = {a["site"] for a in accepted}
    return [r["id"] for r in rows if r["id"] not in done]


async def generate(w: Write, today: date, horizon_days: int = 7) -> int:
    """Make every occurrence due from today to today + horizon that does not exist yet. Runs
    inside the write transaction (the change counter's lock), so two runs never race."""
    end = today + timedelta(days=horizon_days)
    schedules = await InspectionSchedule.select().where(
        InspectionSchedule.active.eq(True)
        & InspectionSchedule.deleted.eq(False)
        & (InspectionSchedule.starts_on <= end)
        & (InspectionSchedule.ends_on.is_null() | (InspectionSchedule.ends_on >= today))
    )
    calendar = rectification_rules().calendar
    made = 0
    for schedule in schedules:
        days = due_days(recurrence_of(schedule), today, end, calendar)
        if not days:
            continue
        existing = await IO.select(IO.site, IO.due_on).where(
            (IO.schedule == schedule["id"]) & (IO.due_on >= days[0]) & (IO.due_on <= days[-1])
        )
        have = {(r["site"], r["due_on"]) for r in existing}
        for site in await _sites(schedule):
            for day in days:
                if (site, day) in have:
                    continue
                await w.insert(
                    IO,
                    {
                        "schedule": schedule["id"],
                        "project": schedule["project"],
                        "site": site,
                        "due_on": day,
                        "inspector": schedule["inspector"],
                        "role": schedule["role"],
                        "status": "due",
                    },
                    [project_bucket(schedule["project"])],
                )
                made += 1
    return made


async def _responsible(occurrence: dict[str, Any]) -> list[Recipient]:
    """The inspector named (or everyone holding the schedule's role) and the project's supervisors."""
    people: list[Recipient] = []
    if occurrence["inspector"] is not None:
        people.append(("user", occurrence["inspector"]))
    elif occurrence["role"]:
        people += await members_with_role(occurrence["project"], Role(occurrence["role"]))
    people += await members_with_role(occurrence["project"], Role.supervisor)
    return list(dict.fromkeys(people))


async def mark_missed(w: Write, today: date, grace_days: int = 0) -> int:
    """Occurrences still due after their day (plus grace) become missed, each alerted once."""
    cutoff = today - timedelta(days=grace_days)
    rows = await IO.select(*IO.all_columns(), IO.schedule.title.as_alias("title")).where(
        (IO.status == "due") & (IO.due_on < cutoff) & IO.deleted.eq(False)
    )
    for row in rows:
        title = row.pop("title")
        row = await w.update(IO, row["id"], {"status": "missed"}, [project_bucket(row["project"])], current=row)
        await raise_alert(
            AlertSpec(
                rule="inspection_missed",
                subject_table=OCCURRENCE_TABLE,
                subject_id=row["id"],
                threshold=0,
                project_id=row["project"],
                message=t("alerts.inspection_missed", title=title, due_on=row["due_on"].isoformat()).render(),
                due_on=row["due_on"],
            ),
            await _responsible(row),
            w.now,
        )
    return len(rows)


async def announce_today(w: Write, today: date) -> int:
    """每日提醒: whoever is to carry out an inspection due today (the inspector named, or everyone
    holding the schedule's role) is told once per occurrence, as each chose."""
    rows = await IO.select(*IO.all_columns(), IO.schedule.title.as_alias("title")).where(
        (IO.status == "due") & (IO.due_on == today) & IO.deleted.eq(False)
    )
    places = await place_names(rows)
    told = 0
    for row, place in zip(rows, places, strict=True):
        if row["inspector"] is not None:
            users = [row["inspector"]]
        elif row["role"]:
            users = await people(row["project"], [Role(row["role"])])
        else:
            continue
        told += await notify(
            w,
            Event(
                kind=Kind.inspection_today,
                project_id=row["project"],
                subject_table=OCCURRENCE_TABLE,
                subject_id=row["id"],
                text=t(
                    "notify.inspection_today",
                    day=today.isoformat(),
                    title=row["title"],
                    place=place,
                    link=portal_link(f"/portal/projects/{row['project']}"),
                ),
                users=users,
            ),
        )
    return told


async def on_inspection_submitted(w: Write, actor: Actor, submitted: Submitted) -> None:
    """A submit handler: the scheduled occurrence the inspection carries out is fulfilled."""
    if submitted.occurrence is not None:
        await fulfil_occurrence(w, submitted.occurrence, submitted.inspection["id"], replaces=submitted.replaces)


async def linkable_occurrence(occurrence_id: UUID, project_id: UUID, site_id: UUID | None) -> dict[str, Any]:
    """The occurrence an inspection being started says it carries out, if it may: one of the same
    project (an unknown id reads the same, so other projects' schedules stay unknown), of the same
    site when the inspection names one, and not fulfilled yet."""
    row = await IO.select().where((IO.id == occurrence_id) & IO.deleted.eq(False)).first()
    if row is None or row["project"] != project_id:
        raise ValidationFailed(t("alerts.scheduled_occurrence_not_part_project"), field="occurrence_id")
    if site_id is not None and row["site"] != site_id:
        raise ValidationFailed(t("alerts.scheduled_occurrence_another_site"), field="occurrence_id")
    if row["status"] == "fulfilled":
        raise Conflict(
            t("alerts.occurrence_was_already_fulfilled_inspection", inspection_id=row["inspection_id"]),
            field="occurrence_id",
        )
    return row  # type: ignore[no-any-return]


async def open_occurrences(project_id: UUID, site_id: UUID, kinds: Sequence[str], today: date) -> list[dict[str, Any]]:
    """Occurrences an inspection of one of `kinds` (a schedule's `kind` names a template kind or a
    template code) on `site_id` carries out when it names none: those still due on or before
    `today`, i.e. inside their window (a day past it, plus the grace, they are marked missed; a
    missed one is fulfilled late only by naming it). Oldest first."""
    return await (  # type: ignore[no-any-return]
        IO.select()
        .where(
            (IO.project == project_id)
            & (IO.site == site_id)
            & (IO.status == "due")
            & (IO.due_on <= today)
            & IO.deleted.eq(False)
            & IO.schedule.kind.is_in(list(kinds))
            & IO.schedule._.deleted.eq(False)
        )
        .order_by(IO.due_on)
        .order_by(IO.id)
    )


async def fulfil_occurrence(
    w: Write, occurrence_id: UUID, inspection_id: UUID, replaces: UUID | None = None
) -> dict[str, Any]:
    """Mark a due (or missed, done late) occurrence fulfilled by an inspection, inside the
    caller's transaction. Fulfilling it again with the same inspection changes nothing; a revision
    of the inspection that fulfilled it (`replaces`) takes its place."""
    row = await IO.select().where((IO.id == occurrence_id) & IO.deleted.eq(False)).first()
    if row is None:
        raise NotFound(
            t("alerts.inspection_occurrence_does_not_exist", occurrence_id=occurrence_id), field="occurrence_id"
        )
    if row["status"] == "fulfilled":
        if row["inspection_id"] == inspection_id:
            return row  # type: ignore[no-any-return]
        if replaces is None or row["inspection_id"] != replaces:
            raise Conflict(
                t("alerts.occurrence_was_already_fulfilled_inspection", inspection_id=row["inspection_id"]),
                field="occurrence_id",
            )
        return await w.update(
            IO, occurrence_id, {"inspection_id": inspection_id}, [project_bucket(row["project"])], current=row
        )
    return await w.update(
        IO,
        occurrence_id,
        {"status": "fulfilled", "inspection_id": inspection_id, "fulfilled_at": w.now},
        [project_bucket(row["project"])],
        current=row,
    )
