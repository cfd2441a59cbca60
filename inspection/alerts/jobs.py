"""The alert jobs the scheduler runs, and the list of them (`JOBS`).

Adding a job is one entry in JOBS. The samples domain's "waiting too long for a lab result" job,
for example, is

    Job("samples_awaiting_result", guard_job(
        "inspection.samples.queries:samples_awaiting_result", rule="sample_awaiting_result",
        older_than=timedelta(days=7))),

where `samples_awaiting_result(cutoff)` returns the samples taken before the cutoff time that still
wait for a result, each (an object or a dict) with `project_id`, `id` (or `subject_id` or
`sample_id`) and optionally `subject_table`, `message`, `recipients` and `occurrence`;
`guard_job` turns each into one alert to the project's owner and supervisors (or the recipients
given), once per sample.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from inspection import db
from inspection.actor import SYSTEM
from inspection.alerts import schedules
from inspection.alerts.outbox import AlertSpec, raise_alert, raise_alerts
from inspection.alerts.rules import tightest_threshold
from inspection.alerts.runner import Job, JobContext
from inspection.audit.service import checkpoint, latest_checkpoint
from inspection.clock import FixedClock
from inspection.messages import t
from inspection.notifications import delivery
from inspection.notifications.recipients import members_with_role, project_owner
from inspection.projects.names import organisation_names, place_names
from inspection.projects.rules import Role
from inspection.records import write
from inspection.rectification import escalation
from inspection.rectification.rulebook import default_rulebook as rectification_rules
from inspection.rectification.rules import AWAITING_CONTRACTOR, OrderKind
from inspection.rectification.tables import RectificationOrder
from inspection.rectification.texts import KIND_NAMES
from inspection.settings import secret_key
from inspection.warranty.service import ITEM_TABLE, end_of_local_day, escalate_due_claims
from inspection.warranty.tables import WarrantyItem

PAGE = 2000


def _case_threshold(column: str, today: date, leads: list[int]) -> tuple[str, list[Any]]:
    """SQL for "the tightest lead time this date has come within" (see rules.tightest_threshold)."""
    parts, args = [], []
    for lead in sorted(leads):
        parts.append(f"WHEN {column} <= {{}} THEN {lead}")
        args.append(today + timedelta(days=lead))
    return "CASE " + " ".join(parts) + " END", args


async def due_items(
    date_column: str,
    rule: str,
    today: date,
    leads: list[int],
    *,
    lower: date | None,
    extra_where: str = "",
    page: int = PAGE,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Warranty items whose `date_column` has come within a lead time and that have no alert for
    that threshold yet, streamed in keyset pages on (date_column, id): memory stays flat however
    large the table. Rows: (id, project, contractor, date, work_type)."""
    case, case_args = _case_threshold(f"w.{date_column}", today, leads)
    upper = today + timedelta(days=max(leads))
    where = f"w.{date_column} <= {{}} AND w.deleted = {{}}"
    args: list[Any] = [upper, False]
    if lower is not None:
        where += f" AND w.{date_column} >= {{}}"
        args.append(lower)
    where += extra_where
    anti = (
        "NOT EXISTS (SELECT 1 FROM alert a WHERE a.subject_id = w.id AND a.rule = {} "  # noqa: S608
        f"AND a.threshold = {case})"
    )
    last: tuple[Any, Any] | None = None
    while True:
        keyset, keyset_args = "", []
        if last is not None:
            keyset = f" AND (w.{date_column} > {{}} OR (w.{date_column} = {{}} AND w.id > {{}}))"
            keyset_args = [last[0], last[0], last[1]]
        sql = (
            f"SELECT w.id, w.project, w.contractor, w.{date_column}, w.work_type FROM warranty_item w "  # noqa: S608
            f"WHERE {where}{keyset} AND {anti} ORDER BY w.{date_column}, w.id LIMIT {page}"
        )
        rows = await db.fetch_tuples(sql, *args, *keyset_args, rule, *case_args)
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        last = (rows[-1][3], rows[-1][0])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _link(ctx: JobContext, path: str) -> str:
    """The record in the portal, at the address phones reach (reports.public_base_url)."""
    return ctx.settings.public_base_url + path


async def _item_names(rows: list[Any]) -> dict[Any, str]:
    """ "李街花园 屋面防水（辽阳市政建设有限公司）" for each warranty item id among `rows`."""
    ids = [_as_uuid(r[0]) for r in rows]
    items = await WarrantyItem.select(
        WarrantyItem.id, WarrantyItem.site, WarrantyItem.work_item, WarrantyItem.contractor
    ).where(WarrantyItem.id.is_in(ids))
    places = await place_names(items)
    orgs = await organisation_names(i["contractor"] for i in items)
    named = {
        i["id"]: t("alerts.warranty_item", place=place, contractor=orgs.get(i["contractor"], "")).render()
        for i, place in zip(items, places, strict=True)
    }
    return {r[0]: named.get(_as_uuid(r[0]), "") for r in rows}


class _Owners:
    """The owner organisation of each project, looked up once per run."""

    def __init__(self) -> None:
        self._cache: dict[UUID, list[tuple[str, UUID]]] = {}

    async def of(self, project_id: UUID) -> list[tuple[str, UUID]]:
        if project_id not in self._cache:
            self._cache[project_id] = await project_owner(project_id)
        return self._cache[project_id]


async def warranty_expiring(ctx: JobContext) -> int:
    """到期提醒: the contractor and the owner, at each lead time before a warranty ends."""
    leads = ctx.settings.alerts.warranty_lead_days
    if not leads:
        return 0
    owners, created = _Owners(), 0
    rule = "warranty_expiring"
    async for rows in due_items("ends_on", rule, ctx.today, leads, lower=ctx.today):
        batch = []
        names = await _item_names(rows)
        for item_id, project, contractor, ends_on, _ in rows:
            end = _as_date(ends_on)
            left = (end - ctx.today).days
            threshold = tightest_threshold(left, leads)
            assert threshold is not None
            project_id = _as_uuid(project)
            spec = AlertSpec(
                rule=rule,
                subject_table=ITEM_TABLE,
                subject_id=_as_uuid(item_id),
                threshold=threshold,
                project_id=project_id,
                message=t(
                    "alerts.warranty_expiring",
                    item=names[item_id],
                    ends_on=end.isoformat(),
                    left=left,
                    link=_link(ctx, f"/portal/projects/{project_id}"),
                ).render(),
                due_on=end,
            )
            batch.append((spec, [("org", _as_uuid(contractor)), *await owners.of(project_id)]))
        created += await raise_alerts(batch, ctx.now)
    ctx.stats["warranty_expiring"] = created
    return created


async def retention_due(ctx: JobContext) -> int:
    """质量保证金: the owner and the contractor, before and on the day the retention falls due."""
    leads = ctx.settings.alerts.retention_lead_days
    if not leads:
        return 0
    owners, created = _Owners(), 0
    rule = "retention_due"
    extra = " AND w.retention_cents > 0 AND w.retention_released_on IS NULL"
    async for rows in due_items("retention_release_on", rule, ctx.today, leads, lower=None, extra_where=extra):
        batch = []
        names = await _item_names(rows)
        for item_id, project, contractor, release_on, _ in rows:
            day = _as_date(release_on)
            left = (day - ctx.today).days
            threshold = tightest_threshold(left, leads)
            assert threshold is not None
            project_id = _as_uuid(project)
            if left > 0:
                when = t("alerts.in_days", days=left)
            else:
                when = t("alerts.today") if left == 0 else t("alerts.days_ago", days=-left)
            spec = AlertSpec(
                rule=rule,
                subject_table=ITEM_TABLE,
                subject_id=_as_uuid(item_id),
                threshold=threshold,
                project_id=project_id,
                message=t(
                    "alerts.retention_due",
                    item=names[item_id],
                    day=day.isoformat(),
                    when=when,
                    link=_link(ctx, f"/portal/projects/{project_id}"),
                ).render(),
                due_on=day,
            )
            batch.append((spec, [*await owners.of(project_id), ("org", _as_uuid(contractor))]))
        created += await raise_alerts(batch, ctx.now)
    ctx.stats["retention_due"] = created
    return created


async def rectification_deadlines(ctx: JobContext) -> int:
    """Orders due tomorrow remind their contractor once per deadline; overdue ones go to the
    rectification domain's own escalation, which notifies once per threshold."""
    RO = RectificationOrder
    until = end_of_local_day(ctx.settings, ctx.today + timedelta(days=1))
    due = await RO.select(
        RO.id,
        RO.project,
        RO.contractor,
        RO.kind,
        RO.deadline,
        RO.deadline_round,
        RO.description,
        RO.site,
        RO.building,
        RO.work_item,
    ).where(
        RO.status.is_in([st.value for st in AWAITING_CONTRACTOR])
        & (RO.deadline > ctx.now)
        & (RO.deadline <= until)
        & RO.deleted.eq(False)
    )
    created = 0
    places = await place_names(due)
    for order, place in zip(due, places, strict=True):
        spec = AlertSpec(
            rule="order_due_soon",
            subject_table=RO._meta.tablename,
            subject_id=order["id"],
            threshold=1,
            occurrence=order["deadline_round"],
            project_id=order["project"],
            message=t(
                "alerts.order_due_soon",
                place=place,
                kind=KIND_NAMES[OrderKind(order["kind"])],
                deadline=order["deadline"],
                what=order["description"][:80],
                link=_link(ctx, f"/portal/orders/{order['id']}"),
            ).render(),
        )
        created += await raise_alert(spec, [("org", order["contractor"])], ctx.now)
    async with write(SYSTEM, FixedClock(ctx.now)) as w:
        _, escalated = await escalation.apply(w, ctx.now, rectification_rules(), ctx.settings.public_base_url)
    ctx.stats["order_due_soon"] = created
    ctx.stats["order_overdue"] = escalated
    return created + escalated


async def warranty_claims(ctx: JobContext) -> int:
    """An unanswered claim becomes a warranty rectification order once its deadline passes."""
    async with write(SYSTEM, FixedClock(ctx.now)) as w:
        made = await escalate_due_claims(w, ctx.now)
    ctx.stats["claims_escalated"] = made
    return made


# 06:00 local: the morning reminder of today's inspections is not sent in the night
MORNING = time(6, 0)


async def inspection_occurrences(ctx: JobContext) -> int:
    """Make the coming week's due inspections, alert on the ones missed, and from the morning on
    tell each inspector about today's."""
    async with write(SYSTEM, FixedClock(ctx.now)) as w:
        made = await schedules.generate(w, ctx.today, horizon_days=7)
        missed = await schedules.mark_missed(w, ctx.today, ctx.settings.alerts.occurrence_grace_days)
        told = 0
        if ctx.now.astimezone(ZoneInfo(ctx.settings.warranty.timezone)).time() >= MORNING:
            told = await schedules.announce_today(w, ctx.today)
    ctx.stats["occurrences_made"] = made
    ctx.stats["occurrences_missed"] = missed
    ctx.stats["inspections_today_told"] = told
    return made + missed + told


async def deliveries(ctx: JobContext) -> int:
    return await delivery.deliver(ctx)


def _field(hit: Any, name: str) -> Any:
    return hit.get(name) if isinstance(hit, dict) else getattr(hit, name, None)


def guard_job(
    target: str, *, rule: str, older_than: timedelta, subject_table: str = "sample"
) -> Callable[[JobContext], Awaitable[int]]:
    """A job from another domain's guard query ("module.path:function", called with
    `older_than`): one alert per record it returns, once."""

    async def run(ctx: JobContext) -> int:
        module_name, _, func_name = target.partition(":")
        guard = getattr(importlib.import_module(module_name), func_name)
        created = 0
        for hit in await guard(ctx.now - older_than):
            project_id = _as_uuid(_field(hit, "project_id"))
            recipients = _field(hit, "recipients") or [
                *await project_owner(project_id),
                *await members_with_role(project_id, Role.supervisor),
            ]
            spec = AlertSpec(
                rule=rule,
                subject_table=_field(hit, "subject_table") or subject_table,
                subject_id=_as_uuid(_field(hit, "subject_id") or _field(hit, "id") or _field(hit, "sample_id")),
                threshold=int(older_than.days),
                occurrence=int(_field(hit, "occurrence") or 0),
                project_id=project_id,
                message=_field(hit, "message")
                or t(
                    "alerts.record_waiting", days=older_than.days, link=_link(ctx, f"/portal/projects/{project_id}")
                ).render(),
            )
            created += await raise_alert(spec, recipients, ctx.now)
        ctx.stats[rule] = created
        return created

    return run


async def audit_checkpoint(ctx: JobContext) -> int:
    """Sign the audit log's scope heads (nothing new when nothing was written since the last)."""
    before = await latest_checkpoint()
    made = await checkpoint(secret_key(ctx.settings), ctx.clock)
    return int(before is None or made.id != before.id)


def domain_job(target: str) -> Callable[[JobContext], Awaitable[int]]:
    """A job another domain runs itself ("module.path:function", called with the context): the
    import waits for the first run, so the alerts domain does not load that domain at start-up."""

    async def run(ctx: JobContext) -> int:
        module_name, _, func_name = target.partition(":")
        job: Callable[[JobContext], Awaitable[int]] = getattr(importlib.import_module(module_name), func_name)
        return await job(ctx)

    return run


# The scheduler runs these in order on every tick; `siteinspect alerts run` runs them once.
# Delivery comes last so what the others raise goes out in the same tick.
JOBS: list[Job] = [
    Job("warranty_expiring", warranty_expiring),
    Job("retention_due", retention_due),
    Job("rectification_deadlines", rectification_deadlines),
    Job("warranty_claims", warranty_claims),
    Job("inspection_occurrences", inspection_occurrences),
    Job(
        "samples_awaiting_result",
        guard_job(
            "inspection.samples.queries:samples_awaiting_result",
            rule="sample_awaiting_result",
            older_than=timedelta(days=14),
        ),
    ),
    # 日督导: yesterday's figures to every area office (inspection/programme/digest.py), before the
    # delivery job so it goes out in the same tick
    Job("daily_digest", domain_job("inspection.programme.digest:send")),
    # each user's own digest of what they chose to hear about once a day, at their time
    Job("notification_digests", domain_job("inspection.notifications.digest:send")),
    Job("deliveries", deliveries, exclusive=False),
    # its own transaction; two processes at once chain two checkpoints, harmlessly
    Job("audit_checkpoint", audit_checkpoint, exclusive=False),
]


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


__all__ = ["JOBS", "Job", "datetime", "guard_job", "job_named"]
