"""`siteinspect report <kind> <id or project code> -o file.pdf`: the same reports as the API, from
the command line.

Run as the system (every record) unless `--user NAME` is given, in which case that user's access
rules apply exactly as they do over HTTP."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from inspection.messages import t

# kind on the command line -> what it needs
KINDS = {
    "notice": "整改通知单 of a rectification order (id: the order)",
    "reply": "整改回复单 of a rectification order (id: the order)",
    "weekly": "周报 of a project (id or project code; --week any day of the week, default today)",
    "inspection": "检查记录表 of a submitted inspection (id: the inspection)",
    "ledger": "材料台账 of a project (id or project code; --from / --to arrival dates)",
    "warranty": "保修登记表 of a project (id or project code)",
    "acceptance": "竣工联合验收记录 (id: the acceptance)",
}
PROJECT_KINDS = frozenset({"weekly", "ledger", "warranty"})


async def actor_named(username: str | None) -> Any:
    from inspection.actor import SYSTEM, Actor
    from inspection.errors import NotFound
    from inspection.projects.tables import User

    if username is None:
        return SYSTEM
    row = await (
        User.select(User.id, User.username, User.organisation, User.organisation.kind, User.is_admin)
        .where((User.username == username) & User.deleted.eq(False) & User.active.eq(True))
        .first()
    )
    if row is None:
        raise NotFound(t("reports.no_active_user", username=username), field="user")
    return Actor(
        user_id=row["id"],
        username=row["username"],
        organisation_id=row["organisation"],
        organisation_kind=row["organisation.kind"],
        is_admin=row["is_admin"],
        device_id="cli",
    )


async def make_report(
    settings: Any,
    clock: Any,
    kind: str,
    subject: UUID,
    user: str | None = None,
    week: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Any:
    from inspection.reports.service import ReportsService

    service = ReportsService(settings, clock)
    try:
        actor = await actor_named(user)
        if kind in ("notice", "reply"):
            prepared = await service.rectification(actor, subject, kind)  # type: ignore[arg-type]
        elif kind == "weekly":
            prepared = await service.weekly(actor, subject, week)
        elif kind == "inspection":
            prepared = await service.inspection(actor, subject)
        elif kind == "ledger":
            prepared = await service.ledger(actor, subject, date_from, date_to)
        elif kind == "warranty":
            prepared = await service.warranty_register(actor, subject)
        elif kind == "acceptance":
            prepared = await service.acceptance(actor, subject)
        else:  # click's choices keep anything else out
            raise AssertionError(kind)
        return await service.issue(actor, prepared)
    finally:
        await service.close()


def add_report_command(group: click.Group, context: dict[str, Any]) -> None:
    from inspection import cli as c

    @group.command(
        "report",
        context_settings=context,
        epilog="\b\nKinds:\n" + "\n".join(f"  {k:<11} {v}" for k, v in KINDS.items()),
    )
    @click.argument("kind", type=click.Choice(sorted(KINDS)))
    @click.argument("subject", metavar="ID")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
    @click.option("--user", help="Render as this user, with their access rights (default: the system).")
    @click.option("--week", type=c.DAY, help="weekly: any day (YYYY-MM-DD) of the week to report.")
    @click.option("--from", "date_from", type=c.DAY, help="ledger: batches arrived on or after (YYYY-MM-DD).")
    @click.option("--to", "date_to", type=c.DAY, help="ledger: batches arrived on or before (YYYY-MM-DD).")
    def report(
        kind: str,
        subject: str,
        output: Path | None,
        user: str | None,
        week: date | None,
        date_from: date | None,
        date_to: date | None,
    ) -> None:
        """Render a PDF report of KIND about the record ID (a project's reports also take its code,
        e.g. DEMO-2026-01). Default file: <document number>.pdf."""
        from inspection.clock import SystemClock
        from inspection.errors import DomainError

        settings = c.get_settings()
        if kind not in PROJECT_KINDS:
            subject_id = c.UUID_TYPE.convert(subject, None, click.get_current_context())

        async def go() -> Any:
            target = await c.project_id_for(subject) if kind in PROJECT_KINDS else subject_id
            return await make_report(settings, SystemClock(), kind, target, user, week, date_from, date_to)

        try:
            with c.spinner(f"rendering the {kind} report…"):
                rendered = c._pooled(go)
        except DomainError as exc:
            c._domain_error(exc)
        out = output or Path(rendered.fallback_filename)
        out.write_bytes(rendered.pdf)
        click.echo(f"{rendered.number}: {len(rendered.pdf):,} bytes written to {out}")
