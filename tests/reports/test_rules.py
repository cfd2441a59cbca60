"""Pure rules of the reports: numbers, the content hash, Beijing days and weeks, file names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from inspection.reports import rules


@pytest.mark.parametrize(
    ("code", "year", "serial", "number"),
    [
        ("ZGTZ", 2026, 1, "ZGTZ-2026-00001"),
        ("ZB", 2027, 123, "ZB-2027-00123"),
        ("JCJL", 2026, 123456, "JCJL-2026-123456"),
    ],
)
def test_document_number(code: str, year: int, serial: int, number: str) -> None:
    assert rules.document_number(code, year, serial) == number


def test_content_hash_depends_on_content_not_on_spelling() -> None:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    a = {"b": [1, 2], "a": {"y": at, "x": UUID(int=5)}}
    # same instant in Beijing time, keys in another order
    b = {"a": {"x": UUID(int=5), "y": at.astimezone(rules.BEIJING)}, "b": [1, 2]}
    assert rules.content_sha256("weekly", a) == rules.content_sha256("weekly", b)
    assert rules.content_sha256("weekly", a) != rules.content_sha256("ledger", a)  # the kind counts
    assert rules.content_sha256("weekly", a) != rules.content_sha256(
        "weekly", {**a, "b": [2, 1]}
    )  # order of rows counts


@pytest.mark.parametrize(
    ("day", "monday", "sunday"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),  # a Monday
        (date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),  # a Sunday
        (date(2027, 1, 1), date(2026, 12, 28), date(2027, 1, 3)),  # across the new year
    ],
)
def test_week_of(day: date, monday: date, sunday: date) -> None:
    assert rules.week_of(day) == (monday, sunday)


def test_beijing_day_is_not_the_utc_day() -> None:
    # 2026-11-23 17:00 UTC is already 24 November in Beijing
    assert rules.local_day(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)) == date(2026, 11, 24)
    assert rules.day_start(date(2026, 11, 24)) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert rules.beijing(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5)))).hour == 13  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("until", "today", "left"),
    [
        (date(2026, 12, 1), date(2026, 11, 23), 8),
        (date(2026, 11, 23), date(2026, 11, 23), 0),
        (date(2026, 11, 1), date(2026, 11, 23), -22),
    ],
)
def test_days_left(until: date, today: date, left: int) -> None:
    assert rules.days_left(until, today) == left


def test_add_years_on_29_february() -> None:
    assert rules.add_years(date(2028, 2, 29), 5) == date(2033, 2, 28)
    assert rules.add_years(date(2026, 6, 1), 2) == date(2028, 6, 1)


def test_content_disposition() -> None:
    value = rules.content_disposition("整改通知单-ZGTZ-2026-00001.pdf", "ZGTZ-2026-00001.pdf")
    assert value == (
        'attachment; filename="ZGTZ-2026-00001.pdf"; '
        "filename*=UTF-8''%E6%95%B4%E6%94%B9%E9%80%9A%E7%9F%A5%E5%8D%95-ZGTZ-2026-00001.pdf"
    )
    with pytest.raises(ValueError):
        rules.content_disposition("x.pdf", '整改".pdf')


def test_verification_url() -> None:
    assert rules.verification_url("https://qa.example.cn/", "ZB-2026-00002", "ab" * 32) == (
        "https://qa.example.cn/verify/ZB-2026-00002?h=" + "ab" * 32
    )


def test_every_kind_has_a_template_and_a_unique_code() -> None:
    from inspection.reports.render import TEMPLATES_DIR

    codes = [k.code for k in rules.kinds().values()]
    assert len(codes) == len(set(codes))
    for info in rules.kinds().values():
        assert info.title and info.code.isascii() and info.code.isupper()
        assert (TEMPLATES_DIR / info.template).is_file()


def test_labels() -> None:
    assert rules.label("order_state", "closed") == "已闭合"
    assert rules.label("severity", None) == ""
    assert rules.label("order_state", "unknown-state") == "unknown-state"
