"""What `siteinspect report <kind> <id or project code> -o file.pdf` (inspection/cli.py) renders:
the same reports as the API, by the kind named on the command line.

Run as the system (every record) unless `--user NAME` is given, in which case that user's access
rules apply exactly as they do over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from inspection.messages import t

# kind on the command line -> what `siteinspect report --help` says it is and takes
KINDS = {
    "notice": t("cli.help.report_kind.notice"),
    "reply": t("cli.help.report_kind.reply"),
    "weekly": t("cli.help.report_kind.weekly"),
    "inspection": t("cli.help.report_kind.inspection"),
    "ledger": t("cli.help.report_kind.ledger"),
    "warranty": t("cli.help.report_kind.warranty"),
    "acceptance": t("cli.help.report_kind.acceptance"),
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
