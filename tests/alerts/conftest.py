"""Real servers on loopback for the delivery tests: an HTTP receiver (http.server in a thread)
and an SMTP server (aiosmtpd in its own thread), and an app that lets webhooks reach them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from inspection.clock import FixedClock
from inspection.tools.devserver import free_port
from tests.alerts.helpers import app_allowing_loopback


@pytest.fixture
def app(clock: FixedClock):  # type: ignore[no-untyped-def]
    """The shared `app` fixture, with loopback webhook receivers allowed."""
    return app_allowing_loopback(clock)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each path with the status set in `statuses` (200 by default), after `delays[path]` seconds."""

    base: str
    requests: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


class ReceiverServer:
    """The HTTP receiver on a chosen port; `start` and `stop` may be called again to take it down
    and bring it back on the same address, as a webhook endpoint that goes offline for a while."""

    def __init__(self, state: Receiver, port: int) -> None:
        self.state = state
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        state.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                delay = state.delays.get(self.path, 0)
                if delay:
                    time.sleep(delay)
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(state.statuses.get(self.path, 200))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ReceiverServer(Receiver(base=""), free_port())
    server.start()
    yield server.state
    server.stop()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(host="127.0.0.1", port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()
