"""Where a webhook may post: its URL checked, its host resolved and every address checked, when it
is subscribed and again at each delivery, and the connection made to the address that passed.

Checking a name once and letting the HTTP client resolve it again later would let a name that
answered with a public address at subscription answer with 169.254.169.254 or 127.0.0.1 at
delivery (DNS rebinding). So the delivery connects to the checked address itself, while the Host
header and TLS (SNI and the certificate's name) keep the name from the URL.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import certifi

from inspection.notifications.rules import UrlProblem, parse_networks, parse_webhook_url, webhook_url_problem
from inspection.settings import Settings


class TargetRefused(Exception):
    """The URL, or an address its host now resolves to, may not receive webhooks."""

    def __init__(self, problem: UrlProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}{': ' + detail if detail else ''}")
        self.problem = problem


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as this machine's resolver answers now. Webhook checks
    call this module attribute (never the resolver directly), so a test can put its own resolver
    in place and see that the delivery connects where it said."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked webhook endpoint: connect to `url` (the host replaced by `address`), send
    `host_header`, and on HTTPS verify the certificate for `server_name`."""

    url: str
    address: str
    host_header: str
    server_name: str | None


def own_endpoints(settings: Settings, served_at: tuple[str, int] | None = None) -> list[tuple[str, int]]:
    own = [(settings.server.host, settings.server.port)]
    if served_at is not None:
        own.append(served_at)
    return own


async def check(url: str, settings: Settings, served_at: tuple[str, int] | None = None) -> Target:
    """Check `url` and resolve its host now; TargetRefused names what is wrong. A name that no
    longer resolves is refused like a bad address (the delivery is retried on its back-off)."""
    parsed = parse_webhook_url(url)
    if isinstance(parsed, UrlProblem):
        raise TargetRefused(parsed)
    if parsed.literal is not None:
        addresses = [str(parsed.literal)]
    else:
        try:
            addresses = await resolve(parsed.host, parsed.port)
        except OSError as exc:
            raise TargetRefused(UrlProblem.unresolved, f"{parsed.host!r} cannot be resolved") from exc
    problem = webhook_url_problem(
        url,
        own_endpoints(settings, served_at),
        addresses,
        parse_networks(settings.alerts.webhook_allowed_networks),
    )
    if problem is not None:
        raise TargetRefused(problem, f"{parsed.host} is {', '.join(addresses)}")
    address = addresses[0]
    netloc = f"[{address}]:{parsed.port}" if ":" in address else f"{address}:{parsed.port}"
    parts = urlsplit(url)
    pinned = urlunsplit((parsed.scheme, netloc, parts.path or "/", parts.query, ""))
    server_name = parsed.host if parsed.scheme == "https" and parsed.literal is None else None
    return Target(url=pinned, address=address, host_header=parsed.host_header, server_name=server_name)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Public CAs, plus the one in alerts.webhook_ca_file (an intranet platform's own CA)."""
    context = ssl.create_default_context(cafile=certifi.where())
    if settings.alerts.webhook_ca_file:
        context.load_verify_locations(cafile=settings.alerts.webhook_ca_file)
    return context


__all__ = ["Target", "TargetRefused", "check", "own_endpoints", "resolve", "tls_context"]
