"""The portal's session cookie: the signed-in browser's access/refresh token pair, and the CSRF
token bound to it. Kept free of Litestar handlers so api/deps.py can read the cookie too."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inspection.signing import sign, unsign

SESSION_COOKIE = "si_session"
# Before sign-in the login form's CSRF token is bound to this random value instead of a session.
PRE_SESSION_COOKIE = "si_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_PURPOSE = "portal-session"


@dataclass(frozen=True)
class SessionCookie:
    access_token: str
    refresh_token: str
    device_id: str

    def encode(self, key: bytes) -> str:
        return sign({"a": self.access_token, "r": self.refresh_token, "d": self.device_id}, key, _PURPOSE)

    @classmethod
    def decode(cls, value: str | None, key: bytes) -> SessionCookie | None:
        payload = unsign(value or "", key, _PURPOSE)
        if payload is None:
            return None
        a, r, d = payload.get("a"), payload.get("r"), payload.get("d")
        if not (isinstance(a, str) and isinstance(r, str) and isinstance(d, str)):
            return None
        return cls(a, r, d)


def new_device_id() -> str:
    """Each browser that signs in is a device of its own, so it can be signed out by itself."""
    return f"web-{secrets.token_hex(8)}"


def new_pre_session() -> str:
    return secrets.token_urlsafe(18)


def csrf_token(key: bytes, binding: str) -> str:
    """HMAC of the session id (or the pre-session value): a page from another site cannot know
    it, and it changes with every sign-in."""
    return hmac.new(key, f"portal-csrf.{binding}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(key: bytes, binding: str | None, sent: str | None) -> bool:
    if not binding or not sent:
        return False
    return hmac.compare_digest(csrf_token(key, binding), sent)


def is_loopback(host: str | None) -> bool:
    """Whether an address (the connecting peer's, never the Host header's) is this machine."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_trusted_proxy(peer: str | None, trusted_proxies: Sequence[str]) -> bool:
    """`server.trusted_proxies` holds addresses, networks (CIDR) or `*`, as uvicorn reads it."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer.strip("[]"))
    except ValueError:
        return False
    for entry in trusted_proxies:
        entry = entry.strip()
        if entry == "*":
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def came_over_https(scheme: str, peer: str | None, forwarded_proto: str | None, trusted_proxies: Sequence[str]) -> bool:
    """The browser's own connection was TLS: the server's (uvicorn sets the scheme from a trusted
    proxy's X-Forwarded-Proto), or a trusted proxy says so itself. Nobody else's word counts."""
    if scheme in ("https", "wss"):
        return True
    if forwarded_proto and is_trusted_proxy(peer, trusted_proxies):
        return forwarded_proto.split(",")[0].strip().lower() == "https"
    return False


def wants_secure(
    mode: str, scheme: str, peer: str | None, forwarded_proto: str | None, trusted_proxies: Sequence[str]
) -> bool:
    """Whether the session cookies carry `Secure`. Always in production mode. In dev mode too when
    the browser came over HTTPS, and otherwise unless the browser connected from this machine
    (plain http on 127.0.0.1 while developing). The Host header is never asked: behind a proxy it
    may well say 127.0.0.1 while the browser is anywhere."""
    if mode != "dev" or came_over_https(scheme, peer, forwarded_proto, trusted_proxies):
        return True
    return not is_loopback(peer)


def cookie_options(secure: bool) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/"}
