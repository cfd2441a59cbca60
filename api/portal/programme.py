"""Programme supervision in the portal: the programmes an area office follows, a month's ranking
with each figure's records (finalise and correct it), the week's ranking, the daily digest day by
day and paper survey forms for the area offices; the public credit lists and the residents' survey
from a site's notice page for everyone."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath

from api.portal.common import Me, Svc
from api.portal.errors import title_for
from api.portal.forms import read_form
from api.portal.session import check_csrf, current_viewer
from api.portal.templating import redirect, render
from inspection.errors import DomainError, NotFound, RateLimited, ValidationFailed
from inspection.messages import Message, t
from inspection.programme import schemas as s
from inspection.programme.access import scope_of
from inspection.programme.rules import LEVEL_NAMES, AreaLevel, Month, questions
from inspection.programme.scoring import SubjectKind
from inspection.programme.survey import site_survey
from inspection.programme.tables import Area
from inspection.reports.rules import local_day

KIND_TITLES = [
    (SubjectKind.area, "街道（社区）"),
    (SubjectKind.project, "项目"),
    (SubjectKind.contractor, "施工单位"),
    (SubjectKind.supervisor, "监理单位"),
]
STAGES = {"during": "施工期间", "after": "竣工验收后"}


def _month(raw: str | None, default: Month) -> Month:
    if not raw:
        return default
    try:
        return Month.parse(raw)
    except ValueError:
        raise ValidationFailed(t("portal.give_month_as_yyyy_mm_2026"), field="month") from None


def _day(raw: str | None, default: date, field: str) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(t("portal.give_day_as_yyyy_mm_dd"), field=field) from None


def _tables(subjects: list[s.SubjectOut]) -> list[dict[str, Any]]:
    """Ranking tables, one per kind (areas by level), in the order an office reads them."""
    out = []
    for kind, title in KIND_TITLES:
        rows = [x for x in subjects if x.kind == kind.value]
        if kind is SubjectKind.area:
            for level in sorted({x.level for x in rows}, key=lambda lv: AreaLevel(lv).depth):
                out.append(
                    {
                        "kind": kind.value,
                        "title": LEVEL_NAMES[AreaLevel(level)],
                        "rows": [x for x in rows if x.level == level],
                    }
                )
        elif rows:
            out.append({"kind": kind.value, "title": title, "rows": rows})
    return out


async def _office_areas(actor: Any) -> list[dict[str, Any]]:
    scope = await scope_of(actor)
    ids = sorted({a for a, _ in scope.offices}, key=str)
    if scope.is_admin:
        rows = await Area.select(Area.id, Area.name, Area.level).where(Area.deleted.eq(False))
        return sorted(rows, key=lambda a: (AreaLevel(a["level"]).depth, a["name"]))
    if not ids:
        return []
    rows = await Area.select(Area.id, Area.name, Area.level).where(Area.id.is_in(ids))
    return sorted(rows, key=lambda a: (AreaLevel(a["level"]).depth, a["name"]))


class ProgrammePages(Controller):
    path = "/portal/programme"
    dependencies = {"viewer": Provide(current_viewer)}

    @get("/", name="portal-programmes")
    async def home(self, request: Request[Any, Any, Any], viewer: Me, services: Svc) -> Response[str]:
        actor = viewer.actor
        programmes = await services.programme.list_programmes(actor)
        return render(
            request,
            "programmes.html",
            programmes=programmes,
            areas=await _office_areas(actor),
            last_month=str(Month.holding(services.clock.now()).previous()),
        )

    async def _evaluation_page(
        self,
        request: Request[Any, Any, Any],
        viewer: Any,
        services: Any,
        programme_id: UUID,
        status: int = 200,
        **extra: Any,
    ) -> Response[str]:
        actor = viewer.actor
        now = services.clock.now()
        month = _month(request.query_params.get("month") or extra.pop("month", None), Month.holding(now).previous())
        programme = await services.programme.get_programme(actor, programme_id)
        evaluation = await services.programme.evaluation(actor, programme_id, str(month))
        revisions = await services.programme.revisions(actor, programme_id, str(month))
        return render(
            request,
            "evaluation.html",
            status_code=status,
            programme=programme,
            evaluation=evaluation,
            month=month,
            month_over=month.end <= now,
            previous=str(month.previous()),
            next=str(month.next()) if month.next().start <= now else None,
            tables=_tables(evaluation.subjects),
            revisions=revisions,
            done=request.query_params.get("done"),
            error=extra.pop("error", None),
            form=extra.pop("form", {}),
        )

    @get("/{programme_id:uuid}", name="portal-evaluation")
    async def evaluation(
        self, request: Request[Any, Any, Any], programme_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        return await self._evaluation_page(request, viewer, services, programme_id)

    @post("/{programme_id:uuid}/finalise", status_code=303)
    async def finalise(
        self, request: Request[Any, Any, Any], programme_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        month = form.get("month")
        try:
            await services.programme.finalise(viewer.actor, programme_id, month, form.get("note").strip())
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._evaluation_page(
                request,
                viewer,
                services,
                programme_id,
                exc.status,
                month=month,
                error=f"{title_for(exc.status)}：{exc.detail}",
                form=form.fields,
            )
        return redirect(request, f"/portal/programme/{programme_id}?month={month}&done=finalise")

    @post("/{programme_id:uuid}/revise", status_code=303)
    async def revise(
        self, request: Request[Any, Any, Any], programme_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[Any]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        month = form.get("month")
        try:
            await services.programme.revise(viewer.actor, programme_id, month, form.get("reason"))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._evaluation_page(
                request,
                viewer,
                services,
                programme_id,
                exc.status,
                month=month,
                error=f"{title_for(exc.status)}：{exc.detail}",
                form=form.fields,
            )
        return redirect(request, f"/portal/programme/{programme_id}?month={month}&done=revise")

    @get("/{programme_id:uuid}/records", name="portal-evaluation-records")
    async def records(
        self, request: Request[Any, Any, Any], programme_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        q = request.query_params
        programme = await services.programme.get_programme(viewer.actor, programme_id)  # 404 before anything else
        try:
            kind = SubjectKind(q.get("kind", ""))
        except ValueError:
            raise ValidationFailed(t("portal.choose_contractor_supervisor_project_area"), field="kind") from None
        try:
            subject = UUID(q.get("subject_id", ""))
        except ValueError:
            raise ValidationFailed(t("portal.choose_whose_figures_open"), field="subject_id") from None
        month = _month(q.get("month"), Month.holding(services.clock.now()).previous())
        drill = await services.programme.drilldown(
            viewer.actor, programme_id, str(month), kind, subject, q.get("indicator", "")
        )
        return render(request, "evaluation_records.html", programme=programme, drill=drill, month=month)

    @get("/{programme_id:uuid}/weekly", name="portal-weekly")
    async def weekly(
        self, request: Request[Any, Any, Any], programme_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        today = local_day(services.clock.now())
        day = _day(request.query_params.get("week"), today, "week")
        week = await services.programme.weekly(viewer.actor, programme_id, day)
        after = week.monday + timedelta(days=7)
        return render(
            request,
            "weekly_ranking.html",
            week=week,
            tables=_tables(week.subjects),
            previous=(week.monday - timedelta(days=7)).isoformat(),
            next=after.isoformat() if after <= today else None,
        )

    @get("/digest", name="portal-digest")
    async def digest(self, request: Request[Any, Any, Any], viewer: Me, services: Svc) -> Response[str]:
        actor = viewer.actor
        areas = await _office_areas(actor)
        today = local_day(services.clock.now())
        day = _day(request.query_params.get("day"), today - timedelta(days=1), "day")
        raw = request.query_params.get("area_id")
        if not areas:
            raise NotFound(t("portal.daily_digest_area_offices"))
        try:
            area_id = UUID(raw) if raw else areas[0]["id"]
        except ValueError:
            raise ValidationFailed(t("portal.choose_one_your_areas"), field="area_id") from None
        digest = await services.programme.digest(actor, area_id, day)
        return render(
            request,
            "digest.html",
            digest=digest,
            areas=areas,
            previous=(day - timedelta(days=1)).isoformat(),
            next=(day + timedelta(days=1)).isoformat() if day < today else None,
        )

    async def _paper_page(
        self, request: Request[Any, Any, Any], services: Any, site_id: UUID, status: int = 200, **extra: Any
    ) -> Response[str]:
        survey = await site_survey(site_id)
        return render(
            request,
            "survey_paper.html",
            status_code=status,
            survey=survey,
            questions=questions(),
            results=await services.programme.survey.site_results(site_id),
            receipt=extra.pop("receipt", None),
            error=extra.pop("error", None),
            form=extra.pop("form", {}),
        )

    @get("/sites/{site_id:uuid}/paper", name="portal-survey-paper")
    async def paper(
        self, request: Request[Any, Any, Any], site_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        await services.programme.survey.answers(viewer.actor, site_id, limit=1)  # 404 unless an office side
        return await self._paper_page(request, services, site_id)

    @post("/sites/{site_id:uuid}/paper", status_code=200)
    async def paper_post(
        self, request: Request[Any, Any, Any], site_id: FromPath[UUID], viewer: Me, services: Svc
    ) -> Response[str]:
        with ExitStack() as stack:
            form = await read_form(request, stack)
        check_csrf(request, form.fields)
        await services.programme.survey.answers(viewer.actor, site_id, limit=1)  # 404 unless an office side
        try:
            data = _sheet(form.fields, s.PaperSurveyIn, form_number=form.get("form_number").strip()[:40])
            receipt = await services.programme.survey.enter_paper(viewer.actor, site_id, data)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._paper_page(
                request, services, site_id, exc.status, error=f"{title_for(exc.status)}：{exc.detail}", form=form.fields
            )
        return await self._paper_page(request, services, site_id, receipt=receipt)


def _sheet(fields: dict[str, str], shape: Any, **extra: Any) -> Any:
    """A survey form's fields as the service's Struct, each bad one named."""

    def number(name: str, low: int, high: int, message: Message) -> int:
        raw = fields.get(name, "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValidationFailed(message, field=name)
        return int(raw)

    try:
        building = UUID(fields.get("building_id", ""))
    except ValueError:
        raise ValidationFailed(t("portal.choose_building"), field="building_id") from None
    answers = {}
    for c in questions().categories:
        raw = fields.get(f"answers.{c.code}", "").strip()
        if raw:
            answers[c.code] = number(f"answers.{c.code}", 1, 5, t("portal.answer_scale_from_1_5"))
    room = fields.get("room", "").strip()
    if not room or len(room) > 10:
        raise ValidationFailed(t("portal.give_room_number_as_door_501"), field="room")
    return shape(
        building_id=building,
        unit=number("unit", 1, 99, t("portal.give_unit_number")),
        room=room,
        overall=number("overall", 1, 5, t("portal.choose_how_satisfied_you_overall")),
        answers=answers,
        comment=fields.get("comment", "")[: questions().comment_max + 1],
        **extra,
    )


class PublicProgrammePages(Controller):
    """No sign-in: the credit lists and the residents' survey."""

    path = "/portal"

    @get("/credit", name="portal-credit")
    async def credit(self, request: Request[Any, Any, Any], services: Svc) -> Response[str]:
        return render(request, "credit.html", lists=await services.programme.credit_lists())

    async def _survey_page(
        self, request: Request[Any, Any, Any], services: Any, site_id: UUID, status: int = 200, **extra: Any
    ) -> Response[str]:
        survey = await site_survey(site_id)
        return render(
            request,
            "survey.html",
            status_code=status,
            survey=survey,
            questions=questions(),
            stage=STAGES[survey.stage],
            receipt=extra.pop("receipt", None),
            error=extra.pop("error", None),
            form=extra.pop("form", {}),
        )

    @get("/notice/{site_id:uuid}/survey", name="portal-survey")
    async def survey(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[str]:
        return await self._survey_page(request, services, site_id)

    @post("/notice/{site_id:uuid}/survey", status_code=200)
    async def answer(self, request: Request[Any, Any, Any], site_id: FromPath[UUID], services: Svc) -> Response[str]:
        """A household's answer. No session to bind a CSRF token to: the browser's Origin must be
        this site, and each address may send a limited number per hour (rules.toml [survey])."""
        client = request.client.host if request.client else "unknown"
        fields: dict[str, str] = {}
        try:
            origin = request.headers.get("origin")
            if origin and origin != "null" and origin != f"{request.url.scheme}://{request.url.netloc}":
                raise ValidationFailed(t("portal.form_was_sent_from_another_site"), field="origin")
            await site_survey(site_id)  # 404 before counting
            await services.programme.survey.check_rate(client)
            with ExitStack() as stack:
                fields = (await read_form(request, stack)).fields
            receipt = await services.programme.survey.submit(site_id, _sheet(fields, s.SurveyIn))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            response = await self._survey_page(
                request, services, site_id, exc.status, error=f"{title_for(exc.status)}：{exc.detail}", form=fields
            )
            if isinstance(exc, RateLimited):
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return await self._survey_page(request, services, site_id, receipt=receipt)
