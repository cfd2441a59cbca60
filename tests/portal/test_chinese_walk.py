"""No English reaches a Chinese reader: every portal page each demo role can reach by following
links, and problem answers of the API and the portal (404, 422, 409, 403), are read as a person
reads them, and any ASCII-only sentence, enum name, template code, UUID or UTC stamp fails."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from inspection.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from inspection.projects.tables import Membership, User
from inspection.rectification.tables import RectificationOrder
from tests.portal.helpers import browser, csrf_of, sign_in

# Text that is not a sentence in any language: numbers and stamps, document numbers, addresses,
# units, file names, standards' codes. Removed before a text is judged.
IGNORED = [
    r"https?://\S+",
    r"/(?:portal|api|verify|tablet)/\S*",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"\b[A-Z]{2,6}-\d{4}-\d+\b",  # ZGTZ-2026-00012 and the other report numbers
    r"\b[\w-]+\.(?:jpe?g|png|pdf|csv|xlsx|svg|heic|webp|txt)\b",
    r"\b(?:GB|JGJ|CJJ|GB/T|DB\d*)\s*/?\s*T?\s*[\d.]+(?:-\d{4})?",
    r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{4,}\b",  # reference codes: BF7EFED3, HRB400E
    r"\b\d+(?:[.,:/-]\d+)*\b",
    r"\b(?:m²|m³|m2|mm|cm|km|kg|kN|MPa|MB|KB|GB|kW|V|A|m|t|h|min|s|%|°C|dB|Lux|lx|pH)\b",
]
IGNORED_RE = re.compile("|".join(IGNORED))
LINKS_RE = re.compile("|".join(IGNORED[:2]))
WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
CODE_RE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+(?:-[a-z]+){2,}\b")  # enum names, template codes
# a stamp in UTC, or with microseconds (an example in local time with +08:00 is what people type)
UTC_RE = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]00:00)|\bUTC\b|:\d\d\.\d{6}")
# Names the demo gives that are Latin by nature (sign-in names shown beside a person).
ALLOWED = {"siteinspect"}
BLOCKS = {
    "p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "dt", "dd", "option", "label", "button", "section",
    "tr", "br", "legend", "summary", "title", "header", "footer", "nav", "main", "figcaption", "caption", "text",
    "small", "span", "a", "strong", "time",
}  # fmt: skip


class Visible(HTMLParser):
    """The texts a person reads: text between tags (split at element boundaries), and the
    attributes a browser shows (alt, title, placeholder, aria-label, a button's value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.buffer: list[str] = []
        self.hidden = 0

    def flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        if text:
            self.texts.append(text)
        self.buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        if tag in BLOCKS:
            self.flush()
        a = dict(attrs)
        for key in ("alt", "title", "placeholder", "aria-label"):
            if a.get(key):
                self.texts.append(str(a[key]))
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.texts.append(str(a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        if tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.buffer.append(data)


def english_in(text: str) -> list[str]:
    """What in one text a Chinese reader should not meet."""
    found = []
    unlinked = LINKS_RE.sub(" ", text)  # a link may carry ids: the reader follows it, not reads it
    if UUID_RE.search(unlinked):
        found.append("UUID")
    if UTC_RE.search(unlinked):
        found.append("UTC stamp")
    rest = IGNORED_RE.sub(" ", text)
    codes = [c for c in CODE_RE.findall(rest) if c not in ALLOWED]
    if codes:
        found.append(f"code {codes[0]!r}")
    words = [w for w in WORD.findall(rest) if w.lower() not in ALLOWED]
    if not CJK.search(text) and len(words) >= 2:
        found.append("English sentence")
    return found


def problems_on(where: str, texts: list[str]) -> list[str]:
    return [f"{where}: {what}: {text[:160]!r}" for text in texts for what in english_in(text)]


def visible_texts(html: str) -> list[str]:
    parser = Visible()
    parser.feed(html)
    parser.close()
    parser.flush()
    return parser.texts


def problem_texts(body: dict[str, Any]) -> list[str]:
    """A problem's title, detail and messages, without the field names they cite: those stay the
    API's own (the client shows its label for the field)."""
    texts = [str(body.get("title", "")), str(body.get("detail", ""))]
    fields = {str(body["field"])} if body.get("field") else set()
    for e in body.get("errors") or []:
        if isinstance(e, dict) and e.get("message"):
            texts.append(str(e["message"]))
        if isinstance(e, dict) and e.get("field"):
            fields.add(str(e["field"]))
    for name in sorted(fields, key=len, reverse=True):
        texts = [t.replace(name, " ") for t in texts]
    return [t for t in texts if t.strip()]


def test_the_judge_itself() -> None:
    """What the walk counts as English, and what it lets pass."""
    assert english_in("The order does not exist")
    assert english_in("in_progress")
    assert english_in("截止 2026-12-03T12:25:46+00:00")
    assert english_in("passfail-site-fire")
    assert english_in("编号 0190d6c1-1111-7222-8333-444455556666")
    for fine in (
        "ZGTZ-2026-00012",
        "整改通知单 ZGTZ-2026-00012 未闭合",
        "2026-12-08 23:59",
        "12,000 / 20,053",
        "after.jpg",
        "721,000 m²",
        "GB 50300-2013",
        "PDF",
        "https://example.org/portal/x",
        "ops@example.org",
        "10 MB",
        "› BF7EFED3",
        "HRB400E Φ16",
    ):
        assert not english_in(fine), fine


# Pages each role must reach by links alone (the walk proves its own reach with these).
OFFICE = {"/portal/orders/{id}", "/portal/inspections/{id}", "/portal/projects/{id}", "/portal/projects/{id}/warranty"}
REACHED = {
    "supervisor1": OFFICE | {"/portal/projects/{id}/conflicts", "/portal/acceptances/{id}"},
    "inspector1": OFFICE | {"/portal/projects/{id}/conflicts"},
    "owner1": OFFICE | {"/portal/projects/{id}/acceptance", "/portal/warranty/claims/{id}"},
    "contractor1": {"/portal/orders/{id}", "/portal/inspections/{id}", "/portal/projects/{id}/warranty"},
    "contractor2": {"/portal/orders/{id}"},
    "office1": OFFICE | {"/portal/programme/{id}/weekly"},
}

# How many pages of one shape (route and query keys) a role's walk opens: the texts come from the
# templates, so a few records of each shape cover them.
PER_SHAPE = 2
SKIP = ("/portal/static/", "/portal/logout", "/portal/login")


def _shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", parts.path)
    keys = sorted({k for k, _ in parse_qsl(parts.query)})
    return path + ("?" + "&".join(keys) if keys else "")


async def walk(client: httpx.AsyncClient, who: str, base: str) -> tuple[list[str], set[str]]:
    """Open /portal/ and every portal link from there (links in alerts carry the public address)."""
    seen: set[str] = set()
    shapes: dict[str, int] = defaultdict(int)
    queue = ["/portal/"]
    problems: list[str] = []
    opened = 0
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        shape = _shape(url)
        if shapes[shape] >= PER_SHAPE:
            continue
        shapes[shape] += 1
        r = await client.get(url)
        opened += 1
        if r.status_code in (301, 302, 303, 307):
            queue.append(r.headers["location"])
            continue
        assert r.status_code == 200, f"{who} GET {url}: {r.status_code}"
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        problems += problems_on(f"{who} {url}", visible_texts(r.text))
        for href in re.findall(r'href="([^"#]+)', r.text):
            href = href.replace("&amp;", "&").removeprefix(base)
            if href.startswith("/portal/") and not href.startswith(SKIP) and href not in seen:
                queue.append(href)
    return problems, set(shapes)


async def test_every_page_each_demo_role_reaches_reads_chinese(app, clock) -> None:  # type: ignore[no-untyped-def]
    assert await load_demo(quiet=True, clock=clock) is True
    problems: list[str] = []
    for username, _, _ in DEMO_LOGINS:
        async with browser(app) as b:
            r = await sign_in(b, username, DEMO_PASSWORD)
            assert r.status_code == 303, username
            found, shapes = await walk(b, username, app.state.services.settings.public_base_url)
            missing = REACHED.get(username, set()) - shapes
            assert not missing, f"{username} did not reach {missing}: {sorted(shapes)}"
            problems += found
    assert not problems, f"{len(problems)} English texts:\n" + "\n".join(sorted(set(problems))[:80])


async def test_problem_answers_read_chinese(app, clock, client) -> None:  # type: ignore[no-untyped-def]
    assert await load_demo(quiet=True, clock=clock) is True
    problems: list[str] = []
    login = await client.post(
        "/api/v1/auth/login", json={"username": "supervisor1", "password": DEMO_PASSWORD, "device_id": "walk"}
    )
    token = login.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    contractor = await client.post(
        "/api/v1/auth/login", json={"username": "contractor1", "password": DEMO_PASSWORD, "device_id": "walk"}
    )
    contractor_auth = {"Authorization": f"Bearer {contractor.json()['access_token']}"}
    company = await User.select(User.id, User.organisation).where(User.username == "contractor1").first()
    assert company is not None
    closed = (
        await RectificationOrder.select(RectificationOrder.id)
        .where((RectificationOrder.status == "closed") & (RectificationOrder.contractor == company["organisation"]))
        .first()
    )
    assert closed is not None, "the demo has a closed order of contractor1's company"
    membership = await Membership.select(Membership.project).where(Membership.user == company["id"]).first()
    assert membership is not None
    answers = [
        (
            "404 order",
            await client.get("/api/v1/rectification/orders/0190d6c1-1111-7222-8333-444455556666", headers=auth),
        ),
        ("404 route", await client.get("/api/v1/no-such-thing", headers=auth)),
        ("422 bad body", await client.post("/api/v1/rectification/orders", json={"kind": "fire"}, headers=auth)),
        ("422 bad query", await client.get("/api/v1/rectification/orders?limit=abc", headers=auth)),
        ("422 bad time", await client.get("/api/v1/rectification/orders?due_before=yesterday", headers=auth)),
        (
            "409 state",
            await client.post(
                f"/api/v1/rectification/orders/{closed['id']}/respond", json={"text": "已整改"}, headers=contractor_auth
            ),
        ),
        ("401 no token", await client.get("/api/v1/rectification/orders")),
        (
            "422 domain rule",
            await client.post(
                "/api/v1/warranty/claims",
                json={
                    "warranty_item_id": "0190d6c1-1111-7222-8333-444455556666",
                    "reporter_party": "owner",
                    "description": "渗水",
                },
                headers=auth,
            ),
        ),
        (
            "403 not the owner",
            await client.post(
                "/api/v1/warranty/acceptances",
                json={
                    "project_id": str(membership["project"]),
                    "accepted_on": "2026-12-01",
                    "result": "failed",
                    "participants": [],
                },
                headers=contractor_auth,
            ),
        ),
        (
            "401 sign-in",
            await client.post(
                "/api/v1/auth/login", json={"username": "nobody", "password": "x" * 12, "device_id": "walk"}
            ),
        ),
    ]
    seen = set()
    for label, r in answers:
        assert r.status_code >= 400, f"{label}: {r.status_code}"
        seen.add(r.status_code // 100 * 100 + (r.status_code % 100))
        assert r.headers["content-type"].startswith("application/problem+json"), f"{label}: {r.headers}"
        problems += problems_on(f"API {label} ({r.status_code})", problem_texts(json.loads(r.text)))
    assert {404, 422, 409, 403} <= seen, seen
    # the portal's own answers: a page that is not there, a refused form, a state conflict
    async with browser(app) as b:
        await sign_in(b, "contractor1", DEMO_PASSWORD)
        page = await b.get("/portal/orders/")
        token_field = csrf_of(page.text)
        portal = [
            ("404", await b.get("/portal/orders/0190d6c1-1111-7222-8333-444455556666")),
            ("404 path", await b.get("/portal/no-such-page")),
            ("403 csrf", await b.post(f"/portal/orders/{closed['id']}/respond", data={"text": "x"})),
            (
                "409 closed",
                await b.post(
                    f"/portal/orders/{closed['id']}/respond", data={"csrf_token": token_field, "text": "已整改"}
                ),
            ),
            ("422 query", await b.get("/portal/orders/?status=nonsense")),
        ]
        for label, r in portal:
            assert r.status_code >= 400, f"portal {label}: {r.status_code}"
            problems += problems_on(f"portal {label} ({r.status_code})", visible_texts(r.text))
    assert not problems, "\n".join(problems)
