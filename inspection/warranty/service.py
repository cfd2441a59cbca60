"""Use cases for joint acceptance, the warranty register and warranty claims. One transaction each;
rights checked here.

- Joint acceptance (竣工验收) is recorded by the project's owner (建设单位 organises it). A passed
  acceptance is refused while any domain reports a blocker (inspection/blockers.py), and makes one
  warranty item per accepted work item. A failed acceptance is recorded as it is, blockers or not.
- Claims (保修申请) come from a resident supervisor (resident), a property company member
  (property) or the owner. The contractor answers by the deadline; a rejection at once, or the
  alerts job once the deadline passes, turns the claim into a draft warranty rectification order
  (the system may open drafts only; the owner or an inspector issues it, and is alerted to).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from inspection import blockers as acceptance_blockers
from inspection.actor import SYSTEM, Actor
from inspection.clock import Clock
from inspection.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from inspection.evidence import links
from inspection.messages import Message, t
from inspection.notifications.kinds import Kind
from inspection.notifications.outbox import Event, notify, notify_once, portal_link
from inspection.notifications.recipients import contractor_managers, project_owner
from inspection.projects.access import ProjectAccess, project_access
from inspection.projects.names import place_names
from inspection.projects.rules import OrgKind, Role, WorkItemStatus, WorkType
from inspection.projects.tables import Organisation, Site, WorkItem
from inspection.records import Write, contractor_bucket, new_id, project_bucket, retry_races, write
from inspection.rectification.rules import OrderKind, Source
from inspection.rectification.service import OrderSpec, open_order
from inspection.settings import Settings
from inspection.warranty import schemas as s
from inspection.warranty.rules import (
    AcceptanceParty,
    ClaimState,
    Period,
    PeriodRule,
    PeriodUnit,
    RuleBook,
    claim_deadline,
    days_left,
    effective_period,
    end_date,
    in_warranty,
    parse_rulebook,
    party_shortfall,
    retention_problem,
    retention_release,
)
from inspection.warranty.tables import Acceptance, AcceptanceParticipant, WarrantyClaim, WarrantyItem

RULES_FILE = Path(__file__).with_name("rules.toml")
ACCEPTANCE_TABLE = Acceptance._meta.tablename
PARTICIPANT_TABLE = AcceptanceParticipant._meta.tablename
CLAIM_TABLE = WarrantyClaim._meta.tablename
ITEM_TABLE = WarrantyItem._meta.tablename
WI = WarrantyItem


def load_rulebook(path: Path = RULES_FILE) -> RuleBook:
    return parse_rulebook(tomllib.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_rulebook() -> RuleBook:
    return load_rulebook()


def end_of_local_day(settings: Settings, day: date) -> datetime:
    """The first instant after `day` in local time, in UTC: a deadline on `day` passes then."""
    tz = ZoneInfo(settings.warranty.timezone)
    return datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)


def item_buckets(row: dict[str, Any]) -> list[str]:
    return [project_bucket(row["project"]), contractor_bucket(row["project"], row["contractor"])]


def _money(value: int | None) -> Decimal:
    return (Decimal(value or 0) / 100).quantize(Decimal("0.01"))


def item_out(row: dict[str, Any], today: date) -> s.WarrantyItemOut:
    left = days_left(row["ends_on"], today)
    return s.from_row(  # type: ignore[no-any-return]
        row,
        s.WarrantyItemOut,
        days_left=left,
        expired=left < 0,
        settlement_amount=_money(row["settlement_cents"]),
        retention_amount=_money(row["retention_cents"]),
    )


# Acceptance


async def _accepted_work_items(project_id: UUID, site_id: UUID | None) -> list[dict[str, Any]]:
    where: Any = (WorkItem.project == project_id) & WorkItem.deleted.eq(False)
    if site_id is not None:
        where &= WorkItem.site == site_id
    return await WorkItem.select().where(where).order_by(WorkItem.name).order_by(WorkItem.id)  # type: ignore[no-any-return]


async def _covers_utility_work(project_id: UUID, site_id: UUID | None) -> bool:
    """Whether a work item the acceptance covers is a utility operator's (专业经营单位), who must
    then take part."""
    where: Any = (
        (WorkItem.project == project_id)
        & WorkItem.deleted.eq(False)
        & (WorkItem.contractor.kind == OrgKind.utility.value)
    )
    if site_id is not None:
        where &= WorkItem.site == site_id
    return bool(await WorkItem.exists().where(where))


# the parties of a joint acceptance as a reader names them
PARTY_NAMES = {
    AcceptanceParty.owner: t("party.owner"),
    AcceptanceParty.contractor: t("party.contractor"),
    AcceptanceParty.supervisor: t("party.supervisor"),
    AcceptanceParty.designer: t("party.designer"),
    AcceptanceParty.community: t("party.community"),
    AcceptanceParty.property: t("party.property"),
    AcceptanceParty.resident_supervisor: t("party.resident_supervisor"),
    AcceptanceParty.utility: t("party.utility"),
}


def _blocker_error(b: acceptance_blockers.Blocker, base_url: str) -> dict[str, Any]:
    return {
        "field": "blockers",
        "kind": b.kind,
        "record_table": b.record_table,
        "record_id": str(b.record_id),
        "message": b.description,
        "link": base_url + b.link,
    }


@retry_races
class WarrantyService:
    def __init__(self, settings: Settings, clock: Clock, book: RuleBook | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.book = book or default_rulebook()

    def today(self) -> date:
        return self.clock.today()

    def _plan_items(
        self,
        data: s.AcceptanceCreate,
        work_items: list[dict[str, Any]],
        covered: set[tuple[UUID, str]],
        city: str,
    ) -> list[dict[str, Any]]:
        """The warranty items a passed acceptance makes, checked against the rules: one per period
        of the work type (a lift: the equipment and its shaft's structure), none for a period
        already under warranty. A work item's terms (contract period, retention) apply to its main
        period; a design life to its design-life periods. Raises ValidationFailed naming the term
        at fault before anything is written."""
        by_id = {w["id"]: w for w in work_items}
        terms: dict[UUID, tuple[int, s.WorkItemTerms | None]] = {}
        for i, term in enumerate(data.terms):
            if term.work_item_id not in by_id:
                raise ValidationFailed(
                    t("warranty.work_item_not_part_what_acceptance"), field=f"terms[{i}].work_item_id"
                )
            if term.work_item_id in terms:
                raise ValidationFailed(t("warranty.work_item_has_terms_twice"), field=f"terms[{i}].work_item_id")
            terms[term.work_item_id] = (i, term)
        planned = []
        for wi in work_items:
            rules = self.book.rules_for(WorkType(wi["work_type"]))
            if all((wi["id"], r.key) in covered for r in rules):
                continue
            i, wt = terms[wi["id"]] if wi["id"] in terms else (-1, None)
            where = f"terms[{i}]" if i >= 0 else f"work item {wi['name']}"
            if wi["contractor"] is None:
                raise ValidationFailed(
                    t("warranty.work_item_has_no_responsible_contractor", name=wi["name"]), field="work_items"
                )
            for index, rule in enumerate(rules):
                if (wi["id"], rule.key) not in covered:
                    planned.append(self._plan_item(data, wi, rule, wt if index == 0 else None, wt, where, city))
        return planned

    def _plan_item(
        self,
        data: s.AcceptanceCreate,
        wi: dict[str, Any],
        rule: PeriodRule,
        wt: s.WorkItemTerms | None,
        all_terms: s.WorkItemTerms | None,
        where: str,
        city: str,
    ) -> dict[str, Any]:
        """One warranty item: `wt` the terms when this is the work item's main period (else None);
        the design life of `all_terms` applies to any design-life period."""
        contract = (
            Period(PeriodUnit(wt.contract_period.unit), wt.contract_period.amount)
            if wt and wt.contract_period
            else None
        )
        try:
            period = effective_period(
                rule,
                contract,
                all_terms.design_life_years if all_terms else None,
                self.book.design_life_default_years,
            )
        except ValueError as exc:
            raise ValidationFailed(
                # the rule's reason is a Message: each reader gets it in their language
                t("warranty.rule", name=wi["name"], work_type=wi["work_type"], exc=exc.args[0], source=rule.source),
                field=f"{where}.contract_period",
            ) from None
        window = self.book.window(period.season, city) if period.unit is PeriodUnit.seasons else None
        settlement = wt.settlement_amount if wt else None
        retention = wt.retention_amount if wt else None
        if settlement is not None and settlement < 0:
            raise ValidationFailed(t("warranty.settlement_amount_cannot_negative"), field=f"{where}.settlement_amount")
        release_on = None
        if retention:
            if settlement is None:
                raise ValidationFailed(
                    t("warranty.give_final_settlement_amount_retention_share"),
                    field=f"{where}.settlement_amount",
                )
            problem = retention_problem(retention, settlement, self.book.retention_max_share)
            if problem:
                raise ValidationFailed(problem, field=f"{where}.retention_amount")
            months = (wt.defect_liability_months if wt else None) or self.book.default_defect_liability_months
            try:
                release_on = retention_release(data.accepted_on, months, self.book.max_defect_liability_months)
            except ValueError:
                raise ValidationFailed(
                    t("warranty.defect_liability_months_range", most=self.book.max_defect_liability_months),
                    field=f"{where}.defect_liability_months",
                ) from None
        return {
            "project": wi["project"],
            "site": wi["site"],
            "work_item": wi["id"],
            "contractor": wi["contractor"],
            "work_type": wi["work_type"],
            "period_rule": rule.key,
            "period_unit": period.unit.value,
            "period_amount": period.amount,
            "by_contract": contract is not None,
            "starts_on": data.accepted_on,
            "ends_on": end_date(data.accepted_on, period, window),
            "settlement_cents": s.cents(settlement),
            "retention_cents": s.cents(retention),
            "retention_release_on": release_on,
        }

    async def record_acceptance(self, actor: Actor, data: s.AcceptanceCreate) -> s.AcceptanceOut:
        access = await project_access(actor, data.project_id)
        if not access.has(Role.owner):
            raise Forbidden(t("warranty.owner_records_acceptance"))
        if data.site_id is not None:
            site = await Site.select(Site.project).where((Site.id == data.site_id) & Site.deleted.eq(False)).first()
            if site is None or site["project"] != data.project_id:
                raise ValidationFailed(t("warranty.site_not_part_project"), field="site_id")
        today = self.today()
        if data.accepted_on > today:
            raise ValidationFailed(
                t("warranty.acceptance_date_future_today", accepted_on=data.accepted_on, today=today),
                field="accepted_on",
            )
        shortfall = party_shortfall(
            (p.party for p in data.participants), utility_work=await _covers_utility_work(data.project_id, data.site_id)
        )
        if shortfall:
            lacking = [
                PARTY_NAMES[party]
                if have == 0
                else t("warranty.party_short", party=PARTY_NAMES[party], have=have, needed=needed)
                for party, have, needed in shortfall
            ]
            raise ValidationFailed(
                t("warranty.participants_lack", items=lacking),
                errors=[
                    {"field": "participants", "message": t("warranty.participant_missing", party=m)} for m in lacking
                ],
                missing=[
                    party.value if have == 0 else f"{party.value} ({have} of {needed})"
                    for party, have, needed in shortfall
                ],
            )
        for i, p in enumerate(data.participants):
            if p.organisation_id is not None and not await Organisation.exists().where(
                (Organisation.id == p.organisation_id) & Organisation.deleted.eq(False)
            ):
                raise ValidationFailed(t("warranty.no_such_organisation"), field=f"participants[{i}].organisation_id")
        if data.id is not None and await Acceptance.exists().where(Acceptance.id == data.id):
            raise Conflict(t("warranty.acceptance_id_already_exists", id=data.id), field="id")
        city = data.city or self.settings.warranty.city
        async with write(actor, self.clock) as w:
            work_items = await _accepted_work_items(data.project_id, data.site_id)
            planned: list[dict[str, Any]] = []
            if data.result == "passed":
                found = await acceptance_blockers.acceptance_blockers(data.project_id, data.site_id)
                if found:
                    raise Conflict(
                        t("warranty.blockers_remain", count=len(found), items=[b.description for b in found]),
                        errors=[_blocker_error(b, self.settings.public_base_url) for b in found],
                        blockers=[_blocker_error(b, self.settings.public_base_url) for b in found],
                    )
                if not work_items:
                    raise ValidationFailed(t("warranty.there_no_work_items_accept"), field="site_id")
                covered_rows = await WI.select(WI.work_item, WI.period_rule).where(
                    WI.work_item.is_in([x["id"] for x in work_items])
                )
                covered = {(r["work_item"], r["period_rule"]) for r in covered_rows}
                planned = self._plan_items(data, work_items, covered, city)
                if not planned:
                    raise Conflict(t("warranty.every_work_item_here_already_accepted"), field="site_id")
            acceptance = await w.insert(
                Acceptance,
                {
                    "id": data.id or new_id(),
                    "project": data.project_id,
                    "site": data.site_id,
                    "accepted_on": data.accepted_on,
                    "result": data.result,
                    "remarks": data.remarks,
                    "city": city,
                    "recorded_by": actor.user_id,
                },
                [project_bucket(data.project_id)],
            )
            await links.attach(
                w,
                data.photos,
                record_table=ACCEPTANCE_TABLE,
                record_id=acceptance["id"],
                project_id=data.project_id,
                field="photos",
            )
            for i, p in enumerate(data.participants):
                row = await w.insert(
                    AcceptanceParticipant,
                    {
                        "acceptance": acceptance["id"],
                        "project": data.project_id,
                        "party": p.party.value,
                        "name": p.name,
                        "organisation": p.organisation_id,
                        "user": p.user_id,
                        "signed": p.signed or p.signature is not None,
                        "opinion": p.opinion,
                    },
                    [project_bucket(data.project_id)],
                )
                if p.signature:
                    await links.attach(
                        w,
                        [p.signature],
                        record_table=PARTICIPANT_TABLE,
                        record_id=row["id"],
                        project_id=data.project_id,
                        purpose="signature",
                        field=f"participants[{i}].signature",
                    )
            marked: set[UUID] = set()
            for values in planned:
                item = await w.insert(WI, {**values, "acceptance": acceptance["id"]}, item_buckets(values))
                if item["work_item"] not in marked:
                    marked.add(item["work_item"])
                    await self._mark_work_item_accepted(w, item["work_item"], work_items)
        return await self.get_acceptance(actor, acceptance["id"])

    @staticmethod
    async def _mark_work_item_accepted(w: Write, work_item_id: UUID, work_items: list[dict[str, Any]]) -> None:
        row = next(x for x in work_items if x["id"] == work_item_id)
        buckets = [project_bucket(row["project"])]
        if row["contractor"]:
            buckets.append(contractor_bucket(row["project"], row["contractor"]))
        await w.update(WorkItem, work_item_id, {"status": WorkItemStatus.accepted.value}, buckets, current=row)

    async def get_acceptance(self, actor: Actor, acceptance_id: UUID) -> s.AcceptanceOut:
        row = await Acceptance.select().where((Acceptance.id == acceptance_id) & Acceptance.deleted.eq(False)).first()
        if row is None:
            raise NotFound(t("warranty.acceptance_does_not_exist", acceptance_id=acceptance_id))
        try:
            access = await project_access(actor, row["project"])
        except NotFound:
            raise NotFound(t("warranty.acceptance_does_not_exist", acceptance_id=acceptance_id)) from None
        participants = await AcceptanceParticipant.select().where(AcceptanceParticipant.acceptance == acceptance_id)
        signatures = await links.linked(PARTICIPANT_TABLE, [p["id"] for p in participants])
        photos = await links.linked(ACCEPTANCE_TABLE, [acceptance_id])
        where: Any = WI.acceptance == acceptance_id
        if access.contractor_only:
            where &= WI.contractor == access.organisation_id
        items = await self._items(where)
        today = self.today()
        return s.from_row(  # type: ignore[no-any-return]
            row,
            s.AcceptanceOut,
            participants=[
                s.from_row(
                    p,
                    s.ParticipantOut,
                    signature=next((e.sha256 for e in signatures.get(p["id"], [])), None),
                )
                for p in participants
            ],
            photos=[e.sha256 for e in photos.get(acceptance_id, [])],
            warranty_items=[item_out(i, today) for i in items],
        )

    async def list_acceptances(self, actor: Actor, project_id: UUID) -> list[s.AcceptanceOut]:
        await project_access(actor, project_id)
        rows = (
            await Acceptance.select(Acceptance.id)
            .where((Acceptance.project == project_id) & Acceptance.deleted.eq(False))
            .order_by(Acceptance.accepted_on, ascending=False)
        )
        return [await self.get_acceptance(actor, r["id"]) for r in rows]

    # The warranty register

    @staticmethod
    async def _items(where: Any, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        query = (
            WI.select(
                *WI.all_columns(),
                WI.work_item.name.as_alias("work_item_name"),
                WI.contractor.name.as_alias("contractor_name"),
            )
            .where(where & WI.deleted.eq(False))
            .order_by(WI.ends_on)
            .order_by(WI.id)
        )
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return await query  # type: ignore[no-any-return]

    async def register(
        self,
        actor: Actor,
        project_id: UUID,
        *,
        site_id: UUID | None = None,
        contractor_id: UUID | None = None,
        expiring_within_days: int | None = None,
        include_expired: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> s.WarrantyPage:
        """A project's warranty items, soonest to expire first, with days left."""
        access = await project_access(actor, project_id)
        today = self.today()
        where: Any = WI.project == project_id
        if access.contractor_only:
            where &= WI.contractor == access.organisation_id
        if site_id is not None:
            where &= WI.site == site_id
        if contractor_id is not None:
            where &= WI.contractor == contractor_id
        if not include_expired:
            where &= WI.ends_on >= today
        if expiring_within_days is not None:
            where &= WI.ends_on <= today + timedelta(days=expiring_within_days)
        rows = await self._items(where, limit, offset)
        total = await WI.count().where(where & WI.deleted.eq(False))
        return s.WarrantyPage(items=[item_out(r, today) for r in rows], total=total, limit=limit, offset=offset)

    async def release_retention(self, actor: Actor, item_id: UUID, data: s.RetentionRelease) -> s.WarrantyItemOut:
        """The owner records that the retention money was paid back; its alerts stop."""
        async with write(actor, self.clock) as w:
            item = await WI.select().where((WI.id == item_id) & WI.deleted.eq(False)).first()
            if item is None:
                raise NotFound(t("warranty.warranty_item_does_not_exist", item_id=item_id))
            try:
                access = await project_access(actor, item["project"])
            except NotFound:
                raise NotFound(t("warranty.warranty_item_does_not_exist", item_id=item_id)) from None
            if not access.has(Role.owner):
                raise Forbidden(t("warranty.owner_records_release_retention_money"))
            if not item["retention_cents"]:
                raise InvalidTransition(t("warranty.no_retention_money_held_item"), field="retention_amount")
            if item["retention_released_on"] is not None:
                raise InvalidTransition(
                    t(
                        "warranty.retention_was_released",
                        retention_released_on=item["retention_released_on"].isoformat(),
                    ),
                    field="released_on",
                )
            if data.released_on > self.today() or data.released_on < item["starts_on"]:
                raise ValidationFailed(t("warranty.release_date_must_lie_between_acceptance"), field="released_on")
            await w.update(WI, item_id, {"retention_released_on": data.released_on}, item_buckets(item), current=item)
        rows = await self._items(WI.id == item_id)
        return item_out(rows[0], self.today())

    # Claims

    async def report_claim(self, actor: Actor, data: s.ClaimCreate) -> s.ClaimOut:
        item = await WI.select().where((WI.id == data.warranty_item_id) & WI.deleted.eq(False)).first()
        if item is None:
            raise ValidationFailed(t("warranty.no_such_warranty_item"), field="warranty_item_id")
        try:
            access = await project_access(actor, item["project"])
        except NotFound:
            raise ValidationFailed(t("warranty.no_such_warranty_item"), field="warranty_item_id") from None
        _check_reporter(actor, access, data.reporter_party)
        if not data.location.strip():
            raise ValidationFailed(t("warranty.say_where_defect_building_unit_room"), field="location")
        if not data.photos:
            raise ValidationFailed(t("warranty.add_at_least_one_photo_defect"), field="photos")
        today = self.today()
        if not in_warranty(item["starts_on"], item["ends_on"], today):
            raise ValidationFailed(
                t("warranty.warranty_item_ended", ends_on=item["ends_on"].isoformat()),
                field="warranty_item_id",
                expired_on=item["ends_on"].isoformat(),
            )
        if data.id is not None and await WarrantyClaim.exists().where(WarrantyClaim.id == data.id):
            raise Conflict(t("warranty.claim_id_already_exists", id=data.id), field="id")
        due_day = claim_deadline(today, self.book.claim_response_days)
        async with write(actor, self.clock) as w:
            claim = await w.insert(
                WarrantyClaim,
                {
                    "id": data.id or new_id(),
                    "project": item["project"],
                    "warranty_item": item["id"],
                    "contractor": item["contractor"],
                    "reporter": actor.user_id,
                    "reporter_party": data.reporter_party,
                    "location": data.location.strip(),
                    "description": data.description,
                    "reported_at": w.now,
                    "response_due": end_of_local_day(self.settings, due_day),
                    "status": ClaimState.open.value,
                },
                item_buckets(item),
            )
            await links.attach(
                w,
                data.photos,
                record_table=CLAIM_TABLE,
                record_id=claim["id"],
                project_id=item["project"],
                organisation_id=item["contractor"],
                field="photos",
            )
            # the contractor's site managers, as each chose; the organisation when it has none there
            await notify(
                w,
                Event(
                    kind=Kind.warranty_claim,
                    project_id=item["project"],
                    subject_table=CLAIM_TABLE,
                    subject_id=claim["id"],
                    text=t(
                        "warranty.claim_arrived",
                        place=(await place_names([item]))[0],
                        location=claim["location"],
                        due=due_day.isoformat(),
                        # the claim's own page, where the contractor answers it
                        link=f"{self.settings.public_base_url}/portal/warranty/claims/{claim['id']}",
                    ),
                    users=await contractor_managers(item["project"], item["contractor"]),
                    actor=actor.user_id,
                    fallback_org=item["contractor"],
                ),
            )
        return await self.get_claim(actor, claim["id"])

    async def answer_claim(self, actor: Actor, claim_id: UUID, data: s.ClaimAnswer) -> s.ClaimOut:
        """The contractor takes the claim on, or disputes it (which opens a warranty order)."""
        async with write(actor, self.clock) as w:
            claim = await WarrantyClaim.select().where(WarrantyClaim.id == claim_id).first()
            access = await _claim_access(actor, claim, claim_id)
            assert claim is not None
            if actor.organisation_id != claim["contractor"] or not access.has(Role.contractor):
                raise Forbidden(t("warranty.only_contractor_owes_warranty_may_answer"))
            if claim["status"] != ClaimState.open.value:
                raise InvalidTransition(
                    t("warranty.claim_no_longer_open", status=claim["status"]),
                    field="status",
                    current_state=claim["status"],
                )
            changes = {
                "status": (ClaimState.accepted if data.accept else ClaimState.rejected).value,
                "response": data.text,
                "responded_at": w.now,
                "responded_by": actor.user_id,
            }
            claim = await w.update(WarrantyClaim, claim_id, changes, item_buckets(claim), current=claim)
            if not data.accept:
                await escalate_claim(w, claim, t("warranty.reason_disputed", text=data.text))
        return await self.get_claim(actor, claim_id)

    async def get_claim(self, actor: Actor, claim_id: UUID) -> s.ClaimOut:
        claim = await WarrantyClaim.select().where(WarrantyClaim.id == claim_id).first()
        await _claim_access(actor, claim, claim_id)
        assert claim is not None
        photos = await links.linked(CLAIM_TABLE, [claim_id])
        return s.from_row(claim, s.ClaimOut, photos=[p.sha256 for p in photos.get(claim_id, [])])  # type: ignore[no-any-return]

    async def list_claims(self, actor: Actor, project_id: UUID, status: ClaimState | None = None) -> s.ClaimPage:
        access = await project_access(actor, project_id)
        where: Any = (WarrantyClaim.project == project_id) & WarrantyClaim.deleted.eq(False)
        if access.contractor_only:
            where &= WarrantyClaim.contractor == access.organisation_id
        if status is not None:
            where &= WarrantyClaim.status == status.value
        rows = await WarrantyClaim.select().where(where).order_by(WarrantyClaim.reported_at, ascending=False)
        photos = await links.linked(CLAIM_TABLE, [r["id"] for r in rows])
        return s.ClaimPage(
            items=[s.from_row(r, s.ClaimOut, photos=[p.sha256 for p in photos.get(r["id"], [])]) for r in rows],
            total=len(rows),
        )


def _check_reporter(actor: Actor, access: ProjectAccess, party: str) -> None:
    allowed = {
        "resident": access.has(Role.resident_supervisor),
        "owner": access.has(Role.owner),
        "property": actor.is_admin or actor.organisation_kind == OrgKind.property.value,
    }
    if not allowed[party]:
        raise Forbidden(t("warranty.only_may_report_claim_as_residents", party=party))


async def _claim_access(actor: Actor, claim: dict[str, Any] | None, claim_id: UUID) -> ProjectAccess:
    if claim is None or claim["deleted"]:
        raise NotFound(t("warranty.warranty_claim_does_not_exist", claim_id=claim_id))
    try:
        access = await project_access(actor, claim["project"])
    except NotFound:
        raise NotFound(t("warranty.warranty_claim_does_not_exist", claim_id=claim_id)) from None
    if not access.sees_organisation_record(claim["contractor"]):
        raise NotFound(t("warranty.warranty_claim_does_not_exist", claim_id=claim_id))
    return access


async def escalate_claim(w: Write, claim: dict[str, Any], reason: Message) -> dict[str, Any]:
    """Turn a claim into a draft warranty rectification order (inside the caller's transaction),
    and alert the owner, who issues it."""
    item = await WI.select().where(WI.id == claim["warranty_item"]).first()
    assert item is not None
    photos = await links.linked(CLAIM_TABLE, [claim["id"]])
    order = await open_order(
        w,
        SYSTEM,
        OrderSpec(
            project_id=claim["project"],
            kind=OrderKind.warranty,
            source=Source.warranty_claim,
            source_table=CLAIM_TABLE,
            source_id=claim["id"],
            description=t(
                "warranty.claim_order_description",
                description=claim["description"],
                location=claim["location"],
                reason=reason,
            ).render(),
            work_item_id=item["work_item"],
            contractor_id=claim["contractor"],
            photos=[p.sha256 for p in photos.get(claim["id"], [])],
            issue=False,
        ),
    )
    await w.update(
        WarrantyClaim,
        claim["id"],
        {"status": ClaimState.escalated.value, "order_id": order["id"]},
        item_buckets(claim),
        current=claim,
    )
    # an escalation: to the owner organisation, whatever anyone chose
    for recipient in await project_owner(claim["project"]):
        await notify_once(
            recipient,
            kind="warranty_claim_escalated",
            subject_table=CLAIM_TABLE,
            subject_id=claim["id"],
            rule="warranty_claim_escalated",
            occurrence=0,
            threshold=0,
            project_id=claim["project"],
            message=t(
                "warranty.claim_escalated",
                location=claim["location"],
                reason=reason,
                link=portal_link(f"/portal/warranty/claims/{claim['id']}"),
            ).render(),
            at=w.now,
        )
    return order


async def escalate_due_claims(w: Write, now: datetime) -> int:
    """Every open claim past its response deadline becomes an order; the count made."""
    due = await WarrantyClaim.select().where(
        (WarrantyClaim.status == ClaimState.open.value)
        & (WarrantyClaim.response_due <= now)
        & WarrantyClaim.deleted.eq(False)
    )
    for claim in due:
        await escalate_claim(w, claim, t("warranty.reason_unanswered", due=claim["response_due"]))
    return len(due)


async def _may_read_project_record(table: type[Any], actor: Actor, record_id: UUID) -> bool:
    row = await table.select(table.project).where(table.id == record_id).first()
    if row is None:
        return False
    try:
        await project_access(actor, row["project"])
    except NotFound:
        return False
    return True


async def _may_read_acceptance(actor: Actor, record_id: UUID) -> bool:
    return await _may_read_project_record(Acceptance, actor, record_id)


async def _may_read_participant(actor: Actor, record_id: UUID) -> bool:
    return await _may_read_project_record(AcceptanceParticipant, actor, record_id)


async def _may_read_claim(actor: Actor, record_id: UUID) -> bool:
    claim = await WarrantyClaim.select().where(WarrantyClaim.id == record_id).first()
    try:
        await _claim_access(actor, claim, record_id)
    except NotFound:
        return False
    return True


links.register_reader(ACCEPTANCE_TABLE, _may_read_acceptance)
links.register_reader(PARTICIPANT_TABLE, _may_read_participant)
links.register_reader(CLAIM_TABLE, _may_read_claim)

__all__ = ["AcceptanceParty", "WarrantyService", "escalate_due_claims"]
