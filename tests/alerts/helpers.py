"""Running alert jobs in tests on a controlled clock, and counting what they made."""

from __future__ import annotations

from typing import Any

import msgspec

from inspection.alerts.jobs import job_named
from inspection.alerts.runner import RunResult, run_job
from inspection.alerts.tables import Alert
from inspection.clock import FixedClock
from inspection.notifications.outbox_tables import Notification
from inspection.settings import Settings
from tests.factories import World, login


async def run(name: str, settings: Settings, clock: FixedClock) -> RunResult:
    result = await run_job(job_named(name), settings, clock)
    assert result.status == "ok", result
    return result


async def alerts(rule: str | None = None) -> list[dict[str, Any]]:
    query = Alert.select().order_by(Alert.created_at).order_by(Alert.threshold, ascending=False)
    if rule is not None:
        query = query.where(Alert.rule == rule)
    return await query  # type: ignore[no-any-return]


async def notifications(rule: str) -> list[dict[str, Any]]:
    return await Notification.select().where(Notification.rule == rule)  # type: ignore[no-any-return]


async def relogin(world: World, *who: str) -> None:
    """Fresh tokens after the test clock jumped past their lifetime."""
    for name in who:
        world.tokens[name] = (await login(world.client, world.users[name].username))["access_token"]


# The tests' receivers listen on loopback, which webhooks may reach only where the settings say so.
LOOPBACK = ["127.0.0.0/8"]


def allowing_loopback(settings: Settings) -> Settings:
    alerts = msgspec.structs.replace(settings.alerts, webhook_allowed_networks=LOOPBACK)
    return msgspec.structs.replace(settings, alerts=alerts)


def app_allowing_loopback(clock: FixedClock):  # type: ignore[no-untyped-def]
    """The shared `app` fixture's app, with loopback webhook receivers allowed."""
    from api.app import create_app
    from inspection.settings import get_settings

    return create_app(allowing_loopback(get_settings()), clock, check_migrations=False)
