"""Serves the inspectors' tablet app (the files `make tablet` builds) at /tablet/, with its caching
rules and the service worker's scope."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, Router, get
from litestar.params import FromPath
from litestar.response import Redirect

from inspection.errors import NotFound
from inspection.messages import t
from inspection.settings import PROJECT_ROOT, Settings

PREFIX = "/tablet"
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
}
# Built file names under assets/ carry the hash of their content: they never change, so browsers
# and proxies may keep them for good. Everything else must be revalidated, or a tablet would keep
# an old index.html (naming old assets) or an old service worker for a day.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>平板应用尚未构建</title>
<body style="font-family: sans-serif; padding: 2rem"><h1>平板应用尚未构建</h1>
<p>服务器上还没有平板应用的文件。请在项目目录运行 <code>make tablet</code>（或 <code>make run</code>）后刷新本页。</p>
<p lang="en">The tablet app has not been built on this server: run <code>make tablet</code>.</p></body></html>"""


def dist_dir(settings: Settings) -> Path:
    path = Path(settings.tablet.dist_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


def content_security_policy(settings: Settings) -> str:
    """Everything from this server only. Photos are shown from blobs the app keeps; on S3 the app
    sends photo bytes straight to the store's presigned URL, so that origin may be connected to."""
    connect = ["'self'"]
    if settings.storage.backend == "s3":
        endpoint = settings.storage.s3_endpoint_url
        if endpoint:
            parts = urlsplit(endpoint)
            connect.append(f"{parts.scheme}://{parts.netloc}")
        else:
            connect.append("https://*.amazonaws.com")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        f"connect-src {' '.join(connect)}; worker-src 'self'; manifest-src 'self'; media-src 'self' blob:; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
    )


@dataclass(frozen=True)
class _File:
    body: bytes
    etag: str
    stamp: tuple[float, int]


_files: dict[Path, _File] = {}


def _read(path: Path) -> _File:
    """The file's bytes and ETag, re-read only when it changed on disk (a rebuild)."""
    stat = path.stat()
    stamp = (stat.st_mtime, stat.st_size)
    known = _files.get(path)
    if known is None or known.stamp != stamp:
        body = path.read_bytes()
        known = _File(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', stamp)
        _files[path] = known
    return known


def _resolve(root: Path, wanted: str) -> Path:
    parts = [p for p in wanted.split("/") if p]
    if not parts:
        parts = ["index.html"]
    if any(p.startswith(".") or p.endswith(".gz") or "\\" in p or "\x00" in p for p in parts):
        raise NotFound(t("api.no_such_file_tablet_app"))
    path = (root / Path(*parts)).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        raise NotFound(t("api.no_such_file_tablet_app"))
    return path


@get(PREFIX, opt={"public": True}, include_in_schema=False)
async def tablet_root(request: Request[Any, Any, Any]) -> Response[Any]:
    """The app's page. Its service worker's scope is /tablet/, so /tablet goes there first (the
    router treats both alike; the raw path tells them apart)."""
    if not request.scope.get("raw_path", b"/").split(b"?")[0].endswith(b"/"):
        return Redirect(path=PREFIX + "/", status_code=301)
    return _serve(request, "index.html")


@get(PREFIX + "/{path:path}", opt={"public": True}, include_in_schema=False)
async def tablet_file(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[Any]:
    """A file of the built app."""
    return _serve(request, path)


def _serve(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    settings: Settings = request.app.state.services.settings
    root = dist_dir(settings)
    headers = {"Content-Security-Policy": content_security_policy(settings)}
    if not (root / "index.html").is_file():
        return Response(
            NOT_BUILT,
            status_code=503,
            media_type="text/html",
            headers={**headers, "Cache-Control": "no-store", "Retry-After": "60"},
        )
    found = _resolve(root, path)
    relative = found.relative_to(root.resolve()).as_posix()
    headers["Cache-Control"] = IMMUTABLE if relative.startswith("assets/") else REVALIDATE
    if relative == "sw.js":
        headers["Service-Worker-Allowed"] = PREFIX + "/"
    media_type = TYPES.get(found.suffix, "application/octet-stream")
    headers["Vary"] = "Accept-Encoding"
    packed = found.with_name(found.name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
        # the build's gzipped copy: a third of the bytes over a weak link
        found = packed
        headers["Content-Encoding"] = "gzip"
    file = _read(found)
    headers["ETag"] = file.etag
    wanted = request.headers.get("if-none-match", "")
    if file.etag in [t.strip() for t in wanted.split(",")]:
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(file.body, media_type=media_type, headers=headers)


def tablet_router() -> Router:
    return Router(path="/", route_handlers=[tablet_root, tablet_file], opt={"public": True}, include_in_schema=False)
