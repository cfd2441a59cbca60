"""`siteinspect report <kind> <id> -o file.pdf`: the same reports as the API, from the command line.

Run as the system (every record) unless `--user NAME` is given, in which case that user's access
rules apply exactly as they do over HTTP."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

# kind on the command line -> what it needs
KINDS = {
    "notice": "整改通知单 of a rectification order (id: the order)",
    "reply": "整改回复单 of a rectification order (id: the order)",
    "weekly": "周报 of a project (id: the project; --week any day of the week, default today)",
    "inspection": "检查记录表 of a submitted inspection (id: the inspection)",
    "ledger": "材料台账 of a project (id: the project; --from / --to arrival dates)",
    "warranty": "保修登记表 of a project (id: the project)",
    "acceptance": "竣工联合验收记录 (id: the acceptance)",
}


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_report_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser(
        "report",
        help="render a PDF report",
        description="Kinds: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()),
    )
    p.add_argument("kind", choices=sorted(KINDS))
    p.add_argument("id", type=_uuid, help="the record the report is about")
    p.add_argument("-o", "--output", help="file to write (default: <document number>.pdf)")
    p.add_argument("--user", help="render as this user, with their access rights (default: the system)")
    p.add_argument("--week", type=_date, help="weekly: any day (YYYY-MM-DD) of the week to report")
    p.add_argument("--from", dest="date_from", type=_date, help="ledger: batches arrived on or after (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", type=_date, help="ledger: batches arrived on or before (YYYY-MM-DD)")
    p.set_defaults(func=func)


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
        raise NotFound(f"no active user {username!r}", field="user")
    return Actor(
        user_id=row["id"],
        username=row["username"],
        organisation_id=row["organisation"],
        organisation_kind=row["organisation.kind"],
        is_admin=row["is_admin"],
        device_id="cli",
    )


async def make_report(settings: Any, clock: Any, args: argparse.Namespace) -> Any:
    from inspection.reports.service import ReportsService

    service = ReportsService(settings, clock)
    try:
        actor = await actor_named(args.user)
        if args.kind in ("notice", "reply"):
            prepared = await service.rectification(actor, args.id, args.kind)
        elif args.kind == "weekly":
            prepared = await service.weekly(actor, args.id, args.week)
        elif args.kind == "inspection":
            prepared = await service.inspection(actor, args.id)
        elif args.kind == "ledger":
            prepared = await service.ledger(actor, args.id, args.date_from, args.date_to)
        elif args.kind == "warranty":
            prepared = await service.warranty_register(actor, args.id)
        elif args.kind == "acceptance":
            prepared = await service.acceptance(actor, args.id)
        else:  # argparse's choices keep anything else out
            raise AssertionError(args.kind)
        return await service.issue(actor, prepared)
    finally:
        await service.close()
