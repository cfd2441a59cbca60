"""From report data to PDF: the Jinja2 environment (autoescaped), the QR code, the URL fetcher that
resolves only our own references, and WeasyPrint (run in the worker processes of pool.py).

What a template may load, and nothing else:
- `evidence:<sha256>?size=320` (or 1280): a thumbnail the evidence store made, read beforehand by
  the service for exactly the photos the report's data loader named; never an original;
- files under pdf_templates/ (the stylesheet, organisation logos), by relative URL.
Remote URLs, `file:` paths anywhere else, `data:` URLs and every other scheme are refused. User
text reaches the HTML escaped, so a note holding `<img src=...>` or a URL prints as text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup

from inspection.evidence import rules as evidence_rules
from inspection.evidence.store import ObjectMissing, ObjectStore
from inspection.qr import qr_svg as shared_qr_svg
from inspection.reports import rules
from inspection.settings import PROJECT_ROOT

log = logging.getLogger("siteinspect.reports")

TEMPLATES_DIR = (PROJECT_ROOT / "pdf_templates").resolve()
THUMBNAIL_SIDES = tuple(evidence_rules.THUMBNAIL_SIDES)
DEFAULT_SIDE = 320
EVIDENCE_REF = re.compile(r"^evidence:([0-9a-f]{64})\?size=(\d+)$")
# what may be read from pdf_templates/ (never the templates themselves: Jinja reads those)
TEMPLATE_ASSETS = {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}
THUMBNAIL_READS_AT_ONCE = 8


class Refused(ValueError):
    """A URL the renderer does not resolve."""


def evidence_ref(sha256: str, side: int = DEFAULT_SIDE) -> str:
    if not evidence_rules.SHA256_RE.match(sha256) or side not in THUMBNAIL_SIDES:
        raise ValueError("an evidence reference needs a SHA-256 and a thumbnail size")
    return f"evidence:{sha256}?size={side}"


# Jinja2


def _dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    shown = rules.beijing(value)
    return shown.strftime(fmt) if shown is not None else ""


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = rules.local_day(value)
    return f"{value.year}年{value.month}月{value.day}日"


def _num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


@lru_cache(maxsize=4)
def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,  # every template, whatever its name: user text is always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(dt=_dt, day=_day, num=_num)
    env.globals.update(label=rules.label, thumb=evidence_ref, percent=rules.percent)
    return env


@lru_cache(maxsize=1)
def templates_digest(templates_dir: Path = TEMPLATES_DIR) -> str:
    """Changes whenever a template, the stylesheet, a logo, the wording (labels.toml) or the
    WeasyPrint version changes: part of every ETag, so a new layout is never served from a cache
    under an old tag."""
    digest = hashlib.sha256(f"weasyprint {metadata.version('weasyprint')}".encode())
    for path in [*sorted(templates_dir.rglob("*")), rules.LABELS_FILE]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def qr_svg(url: str) -> Markup:
    """The verification QR code printed on page 1 (see inspection/qr.py)."""
    return shared_qr_svg(url)


@dataclass(frozen=True)
class Letterhead:
    """What the header of every page shows, besides the number."""

    organisation: str
    project: str
    project_code: str = ""
    logo: str | None = None  # a path under pdf_templates/, e.g. logos/<credit code>.png


def logo_for(credit_code: str | None, templates_dir: Path = TEMPLATES_DIR) -> str | None:
    """An organisation's logo, if one has been put in pdf_templates/logos/ under its credit code."""
    if not credit_code or not credit_code.isalnum():
        return None
    for suffix in (".svg", ".png", ".jpg"):
        if (templates_dir / "logos" / f"{credit_code}{suffix}").is_file():
            return f"logos/{credit_code}{suffix}"
    return None


@dataclass(frozen=True)
class DocumentHead:
    """The numbered document as the templates see it (`doc`)."""

    title: str
    number: str
    issued_at: datetime
    content_sha256: str
    verify_url: str
    qr: Markup
    letterhead: Letterhead


def render_html(template: str, doc: DocumentHead, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(doc=doc, **context)


# Fetching


@dataclass
class ReportFetcherLog:
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def resolve(url: str, thumbnails: Mapping[str, bytes], templates_dir: Path = TEMPLATES_DIR) -> tuple[bytes, str]:
    """The bytes and type behind one of our own references; Refused for anything else."""
    match = EVIDENCE_REF.match(url)
    if match:
        if int(match[2]) not in THUMBNAIL_SIDES:
            raise Refused(f"no {match[2]} px thumbnail is made")
        data = thumbnails.get(url)
        if data is None:
            raise Refused("that photo is not part of this report, or its thumbnail is missing")
        return data, "image/jpeg"
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and not parts.query:
        path = Path(url2pathname(unquote(parts.path))).resolve()
        mime = TEMPLATE_ASSETS.get(path.suffix.lower())
        if mime is None or not path.is_relative_to(templates_dir) or not path.is_file():
            raise Refused("only stylesheets and images under pdf_templates/ are read")
        return path.read_bytes(), mime
    raise Refused(f"the {parts.scheme or 'relative'} scheme is not resolved in reports")


@lru_cache(maxsize=1)
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self, thumbnails: Mapping[str, bytes], templates_dir: Path, record: ReportFetcherLog) -> None:
            # nothing goes out: no protocol is allowed to the parent class, whose fetch is never called
            super().__init__(allowed_protocols=(), allow_redirects=False, timeout=1, fail_on_errors=False)
            self._thumbnails = thumbnails
            self._templates_dir = templates_dir
            self.record = record

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                data, mime = resolve(url, self._thumbnails, self._templates_dir)
            except Refused as exc:
                self.record.refused.append(url)
                log.warning("report renderer refused %.200s: %s", url, exc)
                raise
            self.record.served.append(url)
            return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            return self.fetch(url if isinstance(url, str) else url.full_url)

    return ReportFetcher


def make_fetcher(
    thumbnails: Mapping[str, bytes], record: ReportFetcherLog | None = None, templates_dir: Path = TEMPLATES_DIR
) -> Any:
    """WeasyPrint is imported on first use only: the CLI's other commands do not pay for Pango."""
    return _fetcher_class()(thumbnails, templates_dir, record or ReportFetcherLog())


def write_pdf(
    html: str,
    thumbnails: Mapping[str, bytes],
    record: ReportFetcherLog | None = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """WeasyPrint, blocking and uninterruptible: the server calls it only in a worker process
    (pool.py), never in its own."""
    from weasyprint import HTML

    document = HTML(
        string=html,
        base_url=templates_dir.as_uri() + "/",
        url_fetcher=make_fetcher(thumbnails, record, templates_dir),
    )
    pdf: bytes = document.write_pdf()
    return pdf


async def load_thumbnails(store: ObjectStore, refs: Iterable[str]) -> dict[str, bytes]:
    """Read the thumbnails named by `refs` (evidence:<sha>?size=N) from the store, a few at a time.
    One the store no longer holds is left out: the report shows its placeholder."""
    wanted = sorted(set(refs))
    out: dict[str, bytes] = {}
    gate = asyncio.Semaphore(THUMBNAIL_READS_AT_ONCE)

    async def read(ref: str) -> None:
        match = EVIDENCE_REF.match(ref)
        if match is None or int(match[2]) not in THUMBNAIL_SIDES:
            raise ValueError(f"not a thumbnail reference: {ref!r}")
        key = evidence_rules.thumbnail_key(match[1], int(match[2]))
        async with gate:
            try:
                out[ref] = b"".join([chunk async for chunk in store.chunks(key)])
            except ObjectMissing:
                log.warning("report: thumbnail %s is missing from the evidence store", key)

    await asyncio.gather(*(read(ref) for ref in wanted))
    return out
