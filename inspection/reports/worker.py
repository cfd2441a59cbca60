"""A report render worker: a child process of the server that turns render jobs into PDFs, one at a
time, for the pool in pool.py (`python -m inspection.reports.worker <parent pid>`).

The protocol, on the worker's standard input and output: frames of an 8-byte big-endian length
and a pickle. The worker says READY once WeasyPrint is imported and warm; each job is
(template, DocumentHead, context, thumbnails) and each answer ("ok", pdf, refused URLs) or
("error", summary, traceback). Both ends are this program's own code over a private pipe, so
pickle carries the report data (dates, decimals, markup) exactly as the templates expect it.

The worker ignores SIGTERM and SIGINT: a supervisor that signals the whole process group (systemd,
Ctrl-C in a terminal) must not kill renders the server is still letting finish during its grace
period. The server ends its workers itself; a worker whose server has died ends on its own.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from typing import IO, Any

HEADER = struct.Struct(">Q")
READY = b"READY"
PARENT_CHECK_S = 0.5
# A lower CPU priority than the server's (nice 0): when the cores are contended, the event loop
# (the API, sync, /health) and the database come first, renders take what is left; on an idle
# machine a render is as fast. Without it, a server restarted under load spent its first seconds
# warming renderers instead of answering the tablets' retries.
NICENESS = 5

# What the warm-up renders: the real stylesheet, both CJK faces (body text and tables), so the
# first report does not pay for loading fonts and parsing the CSS.
WARM_UP_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<link rel="stylesheet" href="report.css"></head><body>
<p>预热：量一</p><table><tr><td>表格</td></tr></table></body></html>"""


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's payload; None at the end of input (the server closed the pipe or died)."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    return _read_exactly(stream, size)


def _leave_with_parent(parent: int) -> None:
    """A render can run for minutes without reading its input: end when the server is gone."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(PARENT_CHECK_S)


def _render(job: bytes) -> tuple[Any, ...]:
    from inspection.reports.render import ReportFetcherLog, render_html, write_pdf

    template, doc, context, thumbnails = pickle.loads(job)  # noqa: S301 - our own server, over a private pipe
    record = ReportFetcherLog()
    try:
        pdf = write_pdf(render_html(template, doc, context), thumbnails, record)
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    return ("ok", pdf, record.refused)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    parent = int(argv[1]) if len(argv) > 1 else os.getppid()
    threading.Thread(target=_leave_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    # the protocol keeps the real standard output; anything printed goes to standard error
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    source = sys.stdin.buffer
    logging.basicConfig(
        level=logging.WARNING,
        format=f"%(asctime)s %(levelname)s report-worker[{os.getpid()}] %(name)s: %(message)s",
    )

    from inspection.reports.render import write_pdf

    write_pdf(WARM_UP_HTML, {})
    out.write(frame(READY))
    out.flush()
    while (job := read_frame(source)) is not None:
        out.write(frame(pickle.dumps(_render(job), protocol=pickle.HIGHEST_PROTOCOL)))
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
