"""Pure rules for delivering notifications: retry back-off and whether a webhook URL (and each
address its host resolves to) may receive them. No database, no clock, no settings: everything is
passed in."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


def backoff_delay(attempt: int, base_s: float, cap_s: float = 6 * 3600) -> float:
    """Seconds before the next attempt after `attempt` failed ones: base, 2×base, 4×base, … capped."""
    return float(min(cap_s, base_s * 2 ** max(0, attempt - 1)))


class UrlProblem(StrEnum):
    scheme = "the URL must start with http:// or https://"
    host = "the URL has no host"
    credentials = "the URL must not carry a user name or password (user@host)"
    self_target = "the URL points at this server itself"
    special = (
        "the URL points at an unspecified, link-local, multicast or reserved address (such as a cloud metadata service)"
    )
    private = (
        "the URL points at a private or loopback address; such receivers are allowed only inside "
        "the networks listed in alerts.webhook_allowed_networks"
    )
    unresolved = "the URL's host has no address"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# One IPv4 part as inet_aton(3) and the WHATWG URL standard read it: decimal, 0x-hex or 0-octal.
_IPV4_PART = r"(?:0[xX][0-9a-fA-F]*|[0-9]+)"
_LEGACY_IPV4 = re.compile(rf"{_IPV4_PART}(?:\.{_IPV4_PART}){{0,3}}\.?")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`127.1`, `0x7f000001`, `2130706433`, `017700000001` and their mixtures name 127.0.0.1 to
    the C resolver and to browsers alike; read them the same way here."""
    if not _LEGACY_IPV4.fullmatch(host):
        return None
    parts = host.rstrip(".").split(".")
    try:
        values = [
            int(p, 16) if p[:2].lower() == "0x" else int(p, 8) if len(p) > 1 and p[0] == "0" else int(p) for p in parts
        ]
    except ValueError:  # "0x" alone, or an 8 or 9 in an octal part
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    return ipaddress.IPv4Address(number * 256 ** (4 - len(head)) + last)


def host_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally (in any of its numeric spellings), or None for a
    name that must be resolved."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return _legacy_ipv4(host)


def _unwrap(ip: IPAddress) -> IPAddress:
    """An IPv6 address that carries an IPv4 one (::ffff:a.b.c.d, the NAT64 prefix) reaches that."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip


def address_problem(address: str | IPAddress, allowed: Iterable[IPNetwork] = ()) -> UrlProblem | None:
    """Whether a webhook may connect to `address`. Never to an unspecified (0.0.0.0 reaches this
    machine), link-local (cloud metadata at 169.254.169.254), multicast or reserved address; to a
    private, loopback or shared one only inside `allowed` (alerts.webhook_allowed_networks: a
    city's supervision platform on its intranet); to any public address."""
    ip = _unwrap(ipaddress.ip_address(address) if isinstance(address, str) else address)
    # ::1 sits inside IPv6's reserved ::/8: ask about loopback before reserved
    if not ip.is_loopback and (ip.is_unspecified or ip.is_link_local or ip.is_multicast or ip.is_reserved):
        return UrlProblem.special
    if ip.is_global:
        return None
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    return UrlProblem.private


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values]


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL taken apart: what to resolve, which port, and what the Host header says."""

    scheme: str
    host: str
    port: int
    literal: IPAddress | None
    host_header: str


def parse_webhook_url(url: str) -> WebhookUrl | UrlProblem:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return UrlProblem.scheme
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return UrlProblem.credentials
    if not parts.hostname:
        return UrlProblem.host
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return UrlProblem.host
    host = parts.hostname.lower().rstrip(".") or parts.hostname.lower()
    literal = host_address(host)
    default = (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
    shown = f"[{host}]" if ":" in host else host
    return WebhookUrl(parts.scheme, host, port, literal, shown if default else f"{shown}:{port}")


def webhook_url_problem(
    url: str,
    own: Iterable[tuple[str, int]],
    addresses: Iterable[str],
    allowed: Iterable[IPNetwork] = (),
) -> UrlProblem | None:
    """None when `url` may receive webhooks. `own` are the (host, port) pairs this server answers
    on; `addresses` every address the URL's host resolves to (the caller resolves it; a literal
    host is its own address). Every one must be acceptable (`address_problem`): a name that
    resolves to a public and a metadata address is refused. A URL on the server's own port on a
    loopback, unspecified or own address is refused too: the server would post alerts to itself."""
    parsed = parse_webhook_url(url)
    if isinstance(parsed, UrlProblem):
        return parsed
    found = [parsed.literal] if parsed.literal is not None else [ipaddress.ip_address(a) for a in addresses]
    if not found:
        return UrlProblem.unresolved
    own_pairs = {(h.lower(), p) for h, p in own}
    own_hosts = {h for h, _ in own_pairs}
    if (parsed.host, parsed.port) in own_pairs:
        return UrlProblem.self_target
    if parsed.port in {p for _, p in own_pairs}:
        for ip in found:
            ip = _unwrap(ip)
            if ip.is_loopback or ip.is_unspecified or str(ip) in own_hosts:
                return UrlProblem.self_target
    allowed = list(allowed)
    for ip in found:
        problem = address_problem(ip, allowed)
        if problem is not None:
            return problem
    return None
