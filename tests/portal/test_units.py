"""The portal's pure pieces: charts, cookie rules, CSRF tokens, the login redirect, report links."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from litestar import Litestar, get
from litestar.params import FromPath

from api.portal.auth import safe_next
from api.portal.charts import PALETTE, Series, columns, line, stacked_bars
from api.portal.common import PROJECT_REPORTS, report_links
from api.portal.cookies import SessionCookie, cookie_options, csrf_ok, csrf_token, is_loopback, wants_secure

KEY = b"k" * 32


def test_stacked_bars_scale_to_the_widest_row_and_escape_names() -> None:
    svg = str(
        stacked_bars([("甲<公司>", [2, 2]), ("乙", [0, 1])], [Series("逾期", "#c00"), Series("未逾期", "#f90")], "t")
    )
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="20"', svg)]
    assert widths[0] == widths[1] and widths[2] == pytest.approx(widths[0] / 2)  # 4 is the widest: 2+2, then 1
    assert "<公司>" not in svg and "&lt;公司&gt;" in svg
    assert ">4<" in svg and ">1<" in svg  # totals at the end of the bars


def test_empty_charts_say_so() -> None:
    assert "暂无数据" in stacked_bars([], [Series("a", "#000")], "t")
    assert "暂无数据" in line([], "t")


def test_columns_and_line_place_values() -> None:
    svg = str(
        columns([("优良", 3, PALETTE["ok"]), ("合格", 1, PALETTE["warn"]), ("不合格", 0, PALETTE["bad"])], "等级")
    )
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill', svg)]
    assert heights[0] == pytest.approx(3 * heights[1]) and heights[2] == 0
    svg = str(line([("11-01", 100), ("11-08", 50), ("11-15", 0)], "趋势", guides=[(80, "优良"), (70, "合格")]))
    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert ys[0] < ys[1] < ys[2]  # higher scores are drawn higher up
    assert ys[1] == pytest.approx((ys[0] + ys[2]) / 2)
    assert svg.count("stroke-dasharray") == 2
    assert 'class="failed"' not in svg and "不合格" not in svg


def test_the_trend_marks_failed_inspections_in_shape_and_words() -> None:
    # the middle one scored 85 but was graded 不合格 (a zeroed guarantee item): marked all the same
    svg = str(line([("11-01", 90), ("11-08", 85), ("11-15", 60)], "趋势", failed=[False, True, True]))
    assert svg.count('class="failed"') == 2
    assert "11-08：85 分，不合格" in svg and "11-15：60 分，不合格" in svg
    assert svg.count(">11-08<") + svg.count(">11-15<") == 2  # their day labels are still drawn
    assert ">不合格</text>" in svg  # the legend says what the ring means


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("10.0.0.5", False),
        ("portal.example.org", False),
        (None, False),
    ],
)
def test_cookies_are_secure_except_on_this_machine(host: str | None, loopback: bool) -> None:
    """In dev mode over plain http, only a browser connecting from this machine gets a cookie
    without Secure (tests/security/test_session_cookie.py has the mode and proxy cases)."""
    assert is_loopback(host) is loopback
    options = cookie_options(wants_secure("dev", "http", host, None, []))
    assert options["secure"] is not loopback and options["httponly"] and options["samesite"] == "lax"


def test_session_cookie_round_trip_and_tampering() -> None:
    cookie = SessionCookie("access", "refresh", "web-1")
    value = cookie.encode(KEY)
    assert SessionCookie.decode(value, KEY) == cookie
    assert SessionCookie.decode(value, b"x" * 32) is None
    assert SessionCookie.decode(value[:-2] + "AA", KEY) is None
    assert SessionCookie.decode(None, KEY) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    token = csrf_token(KEY, "session-1")
    assert csrf_ok(KEY, "session-1", token)
    assert not csrf_ok(KEY, "session-2", token)
    assert not csrf_ok(KEY, None, token) and not csrf_ok(KEY, "session-1", None)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/portal/"),
        ("/portal/orders/", "/portal/orders/"),
        ("/portal/orders/?status=issued", "/portal/orders/?status=issued"),
        ("https://evil.example/", "/portal/"),
        ("//evil.example/", "/portal/"),
        ("javascript:alert(1)", "/portal/"),
    ],
)
def test_sign_in_returns_only_to_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_report_buttons_follow_the_routes_the_app_has() -> None:
    @get("/api/v1/reports/projects/{project_id:uuid}/weekly.pdf", sync_to_thread=False)
    def weekly(project_id: FromPath[UUID]) -> None: ...

    project = UUID(int=7)
    assert report_links(Litestar([]), PROJECT_REPORTS, project) == []
    links = report_links(Litestar([weekly]), PROJECT_REPORTS, project)
    assert [link["key"] for link in links] == ["weekly"]
    assert links[0]["url"] == f"/api/v1/reports/projects/{project}/weekly.pdf"


def test_programme_report_per_district_and_year() -> None:
    from types import SimpleNamespace

    from api.portal.common import programme_reports

    @get("/api/v1/reports/programmes/weekly.pdf", sync_to_thread=False)
    def programme() -> None: ...

    projects = [
        SimpleNamespace(district="城南区", year=2026),
        SimpleNamespace(district="城南区", year=2026),
        SimpleNamespace(district="", year=2026),
    ]
    assert programme_reports(Litestar([]), projects) == []
    (link,) = programme_reports(Litestar([programme]), projects)
    assert link["url"] == "/api/v1/reports/programmes/weekly.pdf?district=%E5%9F%8E%E5%8D%97%E5%8C%BA&year=2026"
