"""What every data loader returns, and the look-ups they share (names, project headers, photos).

A loader checks the acting user's right to the records (through the owning domain's service or
its access rules), reads what the report shows into plain data — strings, numbers, dates — and
names the photo thumbnails to embed. That plain data is what the content hash covers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from inspection.actor import Actor
from inspection.errors import NotFound
from inspection.evidence import links
from inspection.messages import t
from inspection.projects.tables import Building, Organisation, Project, Site, User, WorkItem
from inspection.reports import rules
from inspection.reports.render import Letterhead, evidence_ref, logo_for

# Reports print photos from the evidence store's 1280 px derivative: at 70-80 mm wide that is
# about 400 dpi, sharp enough to read a crack or a label; the 320 px one was a blur on paper.
PHOTO_SIDE = 1280


@dataclass(frozen=True)
class ReportData:
    kind: str
    subject_id: UUID
    project_id: UUID | None
    title: str
    letterhead: Letterhead
    context: dict[str, Any]
    thumbnails: frozenset[str] = field(default_factory=frozenset)  # evidence:<sha>?size=N refs
    # what the content hash covers when not the whole of what is printed: a document numbered when
    # it went out (a 整改通知单 covering several orders) hashes the facts it was numbered with, so a
    # photo finishing its upload later does not give it a second number
    hashed: dict[str, Any] | None = None

    def within_limits(self) -> ReportData:
        """The data with no text longer than the API accepts (rules.NAME_CHARS for the title and
        the letterhead, which every page repeats; rules.TEXT_CHARS for the rest)."""
        return replace(
            self,
            title=rules.shorten(self.title, rules.NAME_CHARS),
            letterhead=rules.shorten_all(self.letterhead, rules.NAME_CHARS),
            context=rules.shorten_all(self.context, rules.TEXT_CHARS),
        )


def _name(value: str | None) -> str | None:
    return rules.shorten(value, rules.NAME_CHARS) if value is not None else None


async def user_names(ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(wanted))
    return {r["id"]: rules.shorten(r["display_name"], rules.NAME_CHARS) for r in rows}


async def org_rows(ids: Iterable[UUID | None]) -> dict[UUID, dict[str, Any]]:
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await Organisation.select(Organisation.id, Organisation.name, Organisation.credit_code).where(
        Organisation.id.is_in(wanted)
    )
    return {r["id"]: {**r, "name": _name(r["name"])} for r in rows}


async def site_names(ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await Site.select(Site.id, Site.name).where(Site.id.is_in(wanted))
    return {r["id"]: rules.shorten(r["name"], rules.NAME_CHARS) for r in rows}


async def project_row(project_id: UUID) -> dict[str, Any]:
    row = await Project.select().where((Project.id == project_id) & Project.deleted.eq(False)).first()
    if row is None:
        raise NotFound(t("reports.project_does_not_exist_not_yours", project_id=project_id))
    return row  # type: ignore[no-any-return]


async def place_names(
    site_id: UUID | None, building_id: UUID | None, work_item_id: UUID | None
) -> dict[str, str | None]:
    site = await Site.select(Site.name, Site.address).where(Site.id == site_id).first() if site_id else None
    building = await Building.select(Building.name).where(Building.id == building_id).first() if building_id else None
    item = (
        await WorkItem.select(WorkItem.name, WorkItem.work_type, WorkItem.category)
        .where(WorkItem.id == work_item_id)
        .first()
        if work_item_id
        else None
    )
    return {
        "site": _name(site["name"]) if site else None,
        "site_address": site["address"] if site else None,
        "building": _name(building["name"]) if building else None,
        "work_item": _name(item["name"]) if item else None,
        "work_type": item["work_type"] if item else None,
    }


async def letterhead(project: dict[str, Any], *organisation_ids: UUID | None) -> Letterhead:
    """The first of `organisation_ids` that exists issues the document; else the project's owner."""
    candidates = [*organisation_ids, project["owner_organisation"]]
    orgs = await org_rows(candidates)
    org = next((orgs[i] for i in candidates if i is not None and i in orgs), None)
    return Letterhead(
        organisation=org["name"] if org else "",
        project=project["name"],
        project_code=project["code"],
        logo=logo_for(org["credit_code"]) if org else None,
    )


class Photos:
    """Collects the photos a report shows: their facts for the template, and the thumbnails to
    embed (stored images only; a photo still uploading prints as a placeholder)."""

    def __init__(self, actor: Actor, side: int = PHOTO_SIDE) -> None:
        self.actor = actor
        self.side = side
        self.refs: set[str] = set()
        self._facts: dict[str, dict[str, Any]] = {}

    async def load(self, shas: Iterable[str]) -> None:
        """A report shows a photo exactly as the reader could fetch it: from a filing the reader
        may read (inspection/evidence/links.py), never because someone else filed the same bytes."""
        for sha in [s for s in dict.fromkeys(shas) if s not in self._facts]:
            readable = await links.readable_filings(self.actor, sha)
            stored = next((r for r in readable if r["status"] == "stored"), None)
            if stored is not None or readable:
                self._facts[sha] = stored or readable[0]

    def show(self, sha256: str) -> dict[str, Any]:
        """One photo as the templates take it: {sha256, captured_at, ref, pending, document};
        `ref` is empty when there is nothing to embed: still uploading (`pending`), or a stored
        file that is no image, such as a PDF test report (`document`)."""
        facts = self._facts.get(sha256)
        stored = facts is not None and facts["status"] == "stored"
        embeddable = stored and facts is not None and facts["content_type"].startswith("image/")
        ref = evidence_ref(sha256, self.side) if embeddable else ""
        if ref:
            self.refs.add(ref)
        return {
            "sha256": sha256,
            "captured_at": facts["captured_at"] if facts else None,
            "ref": ref,
            "pending": not stored,
            "document": stored and not embeddable,
        }

    def thumbnails(self) -> frozenset[str]:
        return frozenset(self.refs)
