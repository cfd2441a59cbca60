"""The template catalogue in the database: import files as immutable versions, list and read them.

A version is named by the SHA-256 of the template's canonical content: importing unchanged content
adds nothing; changed content becomes version n + 1 of the same code. Stored versions are never
updated, so an inspection always scores against the version it was started with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from inspection import progress
from inspection.actor import SYSTEM, Actor
from inspection.checklists.tables import ChecklistTemplate
from inspection.checklists.templates import Template, load_file, shipped_files, template_from_content
from inspection.clock import Clock
from inspection.errors import NotFound
from inspection.messages import t
from inspection.records import REFERENCE_BUCKET, write

CT = ChecklistTemplate


@dataclass(frozen=True)
class Imported:
    code: str
    version: int
    sha256: str
    created: bool
    file: str


async def import_templates(paths: Iterable[Path], clock: Clock, actor: Actor = SYSTEM) -> list[Imported]:
    """Check every file first, then store the new versions in one transaction: a bad file stops
    the whole import (TemplateError names the file, the item and the reason) and stores nothing."""
    parsed = [(path, load_file(path)) for path in paths]
    done: list[Imported] = []
    async with write(actor, clock) as w:
        for index, (path, template) in enumerate(parsed):
            progress.report("templates", index, len(parsed), template.code)
            digest = template.content_sha256()
            same = (
                await CT.select(CT.version_number)
                .where((CT.code == template.code) & (CT.content_sha256 == digest))
                .first()
            )
            if same is not None:
                done.append(Imported(template.code, same["version_number"], digest, False, str(path)))
                continue
            latest = (
                await CT.select(CT.version_number)
                .where(CT.code == template.code)
                .order_by(CT.version_number, ascending=False)
                .first()
            )
            version = (latest["version_number"] if latest else 0) + 1
            await w.insert(
                CT,
                {
                    "code": template.code,
                    "version_number": version,
                    "kind": template.kind,
                    "title": template.title,
                    "standard": template.standard,
                    "content": template.content_json(),
                    "content_sha256": digest,
                    "source_file": path.name,
                    "imported_at": w.now,
                },
                [REFERENCE_BUCKET],
                audit_values=False,
            )
            done.append(Imported(template.code, version, digest, True, str(path)))
    progress.report("templates", len(parsed), len(parsed), "")
    return done


async def import_shipped(clock: Clock) -> list[Imported]:
    return await import_templates(shipped_files(), clock)


@lru_cache(maxsize=256)
def _parse_cached(sha256: str, content: str) -> Template:
    return template_from_content(content)


def template_of(row: dict[str, Any]) -> Template:
    """The parsed template of a stored version (cached by content hash: versions never change)."""
    return _parse_cached(row["content_sha256"], row["content"])


async def get_version(template_id: UUID) -> dict[str, Any]:
    row = await CT.select().where((CT.id == template_id) & CT.deleted.eq(False)).first()
    if row is None:
        raise NotFound(
            t("checklists.checklist_template_version_does_not_exist", template_id=template_id), field="template_id"
        )
    return row  # type: ignore[no-any-return]


async def latest_version(code: str) -> dict[str, Any]:
    row = (
        await CT.select()
        .where((CT.code == code) & CT.deleted.eq(False))
        .order_by(CT.version_number, ascending=False)
        .first()
    )
    if row is None:
        raise NotFound(t("checklists.no_checklist_template_code", code=code), field="template_code")
    return row  # type: ignore[no-any-return]


async def list_versions(kind: str | None = None, latest_only: bool = True) -> list[dict[str, Any]]:
    query = CT.select(
        CT.id, CT.code, CT.version_number, CT.kind, CT.title, CT.standard, CT.content_sha256, CT.imported_at
    ).where(CT.deleted.eq(False))
    if kind:
        query = query.where(CT.kind == kind)
    rows = await query.order_by(CT.code).order_by(CT.version_number, ascending=False)
    if not latest_only:
        return rows  # type: ignore[no-any-return]
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["code"] not in seen:
            seen.add(r["code"])
            out.append(r)
    return out
