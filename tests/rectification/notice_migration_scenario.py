"""A database holding orders from before notices, then migrated: run by test_notice_migration.py in a
process of its own with SITEINSPECT_DATABASE_URL naming an empty database. Prints one JSON object."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards

from inspection import db
from inspection.ids import new_id
from inspection.projects.tables import Organisation, Project
from inspection.settings import get_settings

# the rectification app's last migration before notices
BEFORE_NOTICES = "2026-11-23T09:45:00:000000"


async def main() -> None:
    async with db.connection_pool(get_settings()):
        for app in BaseMigrationManager().get_sorted_app_names():
            result = await run_forwards(app, BEFORE_NOTICES if app == "rectification" else "all")
            assert result.success, result.message
        now = datetime.now(UTC)
        org, project, order = new_id(), new_id(), new_id()
        await Organisation.insert(
            Organisation(id=org, name="旧施工单位", kind="contractor", credit_code="91110000OLD000001X", updated_at=now)
        )
        await Project.insert(Project(id=project, code="OLD-1", name="旧项目", year=2026, updated_at=now))
        # written as the code before notices wrote it: no `notice` column yet
        await db.raw(
            "INSERT INTO rectification_order (id, project, kind, severity, source, description, contractor, status,"
            " issued_at, deadline, deadline_reason, deadline_round, cancel_reason, version, updated_at, deleted,"
            " device_id) VALUES ({}, {}, 'quality', 'general', 'manual', '旧整改单', {}, 'issued', {}, {}, '', 1, '',"
            " 1, {}, FALSE, '')",
            order,
            project,
            org,
            now,
            now + timedelta(days=7),
            now,
        )
        result = await run_forwards("rectification", "all")
        assert result.success, result.message
        kept = await db.raw("SELECT status, notice, description FROM rectification_order WHERE id = {}", order)
        # a notice can now be written and cited by the old order
        notice = new_id()
        await db.raw(
            "INSERT INTO rectification_notice (id, project, contractor, kind, number, deadline, deadline_reason,"
            " issued_at, version, updated_at, deleted, device_id) VALUES ({}, {}, {}, 'quality', 'ZGTZ-2026-00001',"
            " {}, '', {}, 1, {}, FALSE, '')",
            notice,
            project,
            org,
            now,
            now,
            now,
        )
        await db.raw("UPDATE rectification_order SET notice = {} WHERE id = {}", notice, order)
        cited = await db.raw("SELECT notice FROM rectification_order WHERE id = {}", order)
        print(
            json.dumps(
                {
                    "kept": {k: (str(v) if v is not None else None) for k, v in kept[0].items()},
                    "cited": str(cited[0]["notice"]) == str(notice),
                }
            )
        )


asyncio.run(main())
