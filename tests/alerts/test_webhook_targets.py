"""Webhook targets (SSRF): every numeric spelling of an address is read as the address it is, a
host is resolved and every address it has is checked when it is subscribed and again at each
delivery, the request goes to the address that was checked (DNS rebinding cannot switch it), and
the Host header and TLS keep the URL's name. Private and loopback receivers only inside
`alerts.webhook_allowed_networks`.

The resolver is `inspection.notifications.targets.resolve`, replaced here by a table of made-up names:
the system cannot resolve `hooks.example.test`, so a request that reaches the loopback receiver
under that name went to the address the table gave, and to no other."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.app import create_app
from inspection.actor import SYSTEM
from inspection.clock import FixedClock
from inspection.notifications import targets
from inspection.notifications.outbox import notify_once
from inspection.notifications.outbox_tables import AlertDelivery
from inspection.notifications.rules import UrlProblem, address_problem, host_address, parse_networks
from inspection.records import new_id, write
from inspection.settings import Settings, get_settings
from inspection.tools.devserver import free_port
from tests.alerts.conftest import Receiver
from tests.alerts.helpers import LOOPBACK, run
from tests.factories import World

NAMES: dict[str, list[str]] = {}


@pytest.fixture(autouse=True)
def made_up_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """The resolver every webhook check calls, answering from NAMES (and failing for the rest)."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in NAMES:
            raise OSError(f"{host} does not resolve in this test")
        return list(NAMES[host])

    NAMES.clear()
    monkeypatch.setattr(targets, "resolve", resolve)
    yield NAMES
    NAMES.clear()


def _with(settings: Settings, **alerts: Any) -> Settings:
    return msgspec.structs.replace(settings, alerts=msgspec.structs.replace(settings.alerts, **alerts))


async def _subscribe(app: Any, world: World, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/api/v1/webhooks", headers=world.headers("owner"), json={"url": url})


@pytest.mark.parametrize(
    "literal",
    ["127.1", "0x7f000001", "2130706433", "017700000001", "0x7f.1", "0177.0.0.1", "127.0.0.1."],
)
def test_numeric_spellings_of_loopback_are_read_as_loopback(literal: str) -> None:
    assert host_address(literal) == ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("0.0.0.0", UrlProblem.special),
        ("::", UrlProblem.special),
        ("169.254.169.254", UrlProblem.special),
        ("fe80::1", UrlProblem.special),
        ("224.0.0.1", UrlProblem.special),
        ("240.0.0.1", UrlProblem.special),
        ("::ffff:169.254.169.254", UrlProblem.special),
        ("127.0.0.1", UrlProblem.private),
        ("::ffff:127.0.0.1", UrlProblem.private),
        ("64:ff9b::7f00:1", UrlProblem.private),
        ("::1", UrlProblem.private),
        ("10.1.2.3", UrlProblem.private),
        ("192.168.1.10", UrlProblem.private),
        ("100.64.0.1", UrlProblem.private),
        ("fd00::5", UrlProblem.private),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_which_addresses_a_webhook_may_reach_by_default(address: str, problem: UrlProblem | None) -> None:
    assert address_problem(address) is problem


def test_allowed_networks_open_private_ranges_but_never_link_local() -> None:
    allowed = parse_networks(["10.20.0.0/16", "127.0.0.0/8", "169.254.0.0/16"])
    assert address_problem("10.20.3.4", allowed) is None
    assert address_problem("10.21.3.4", allowed) is UrlProblem.private
    assert address_problem("127.0.0.1", allowed) is None
    assert address_problem("169.254.169.254", allowed) is UrlProblem.special


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:9000/hook",
        "http://localhost.:9000/hook",
        "http://127.1:9000/hook",
        "http://0x7f000001:9000/hook",
        "http://2130706433:9000/hook",
        "http://017700000001:9000/hook",
        "http://0.0.0.0:9000/hook",
        "http://[::]:9000/hook",
        "http://[::1]:9000/hook",
        "http://[::ffff:127.0.0.1]:9000/hook",
        "http://user@127.0.0.1:9000/hook",
        "http://user:secret@hooks.example.cn/hook",
        "http://10.1.2.3/hook",
        "http://100.64.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.example.test/hook",  # a name for the metadata address
        "http://mixed.example.test/hook",  # a public address and a metadata one
        "http://gone.example.test/hook",  # resolves to nothing
    ],
)
async def test_subscription_refuses_internal_targets_by_default(world: World, clock: FixedClock, url: str) -> None:
    NAMES.update(
        {
            "localhost": ["127.0.0.1", "::1"],
            "metadata.example.test": ["169.254.169.254"],
            "mixed.example.test": ["93.184.215.14", "169.254.169.254"],
        }
    )
    app = create_app(get_settings(), clock, check_migrations=False)  # the defaults: nothing private
    r = await _subscribe(app, world, url)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "url"


async def test_allowed_networks_admit_an_intranet_platform(world: World, clock: FixedClock) -> None:
    NAMES["platform.city.test"] = ["10.20.0.8"]
    settings = _with(get_settings(), webhook_allowed_networks=["10.20.0.0/16", "127.0.0.0/8"])
    app = create_app(settings, clock, check_migrations=False)
    for url in ("http://10.20.0.8/hook", "https://platform.city.test/hook", "http://127.0.0.1:9999/hook"):
        r = await _subscribe(app, world, url)
        assert r.status_code == 201, (url, r.text)
    # still never this server itself, however its address is spelt
    port = settings.server.port
    for url in (f"http://0x7f000001:{port}/hook", f"http://127.1:{port}/hook", f"http://2130706433:{port}/"):
        r = await _subscribe(app, world, url)
        assert r.status_code == 422, (url, r.text)
    r = await _subscribe(app, world, "http://10.21.0.8/hook")
    assert r.status_code == 422


async def _notify_owner(world: World, clock: FixedClock) -> None:
    async with write(SYSTEM, clock) as w:
        await notify_once(
            ("org", world.orgs["owner"].id),
            kind="order_overdue",
            subject_table="rectification_order",
            subject_id=new_id(),
            rule="test",
            occurrence=1,
            threshold=0,
            project_id=world.id_of("p1"),
            message="整改单已逾期",
            at=w.now,
        )


async def _delivery() -> dict[str, Any]:
    (row,) = await AlertDelivery.select().where(AlertDelivery.channel == "webhook")
    return row  # type: ignore[no-any-return]


async def test_delivery_resolves_again_and_connects_to_the_checked_address(
    world: World, clock: FixedClock, receiver: Receiver
) -> None:
    port = int(receiver.base.rsplit(":", 1)[1])
    NAMES["hooks.example.test"] = ["127.0.0.1"]
    r = await world.post("owner", "/api/v1/webhooks", json={"url": f"http://hooks.example.test:{port}/rebind"})
    assert r.status_code == 201, r.text
    await _notify_owner(world, clock)
    settings = world.services.settings

    # the name now answers with the metadata address: nothing is sent anywhere
    NAMES["hooks.example.test"] = ["169.254.169.254"]
    await run("deliveries", settings, clock)
    assert receiver.requests == []
    row = await _delivery()
    assert row["status"] == "pending" and "link-local" in row["last_error"]

    # one good address beside a bad one is not enough: every address is checked
    NAMES["hooks.example.test"] = ["127.0.0.1", "169.254.169.254"]
    clock.advance(dt.timedelta(hours=1))
    await run("deliveries", settings, clock)
    assert receiver.requests == []

    # back to the address that was allowed: delivered there, under the URL's name
    NAMES["hooks.example.test"] = ["127.0.0.1"]
    clock.advance(dt.timedelta(hours=1))
    await run("deliveries", settings, clock)
    (hit,) = receiver.on("/rebind")
    assert hit.headers["host"] == f"hooks.example.test:{port}"
    assert (await _delivery())["status"] == "sent"


async def test_a_subscription_made_before_the_rules_tightened_is_checked_at_delivery(
    world: World, clock: FixedClock, receiver: Receiver
) -> None:
    r = await world.post("owner", "/api/v1/webhooks", json={"url": receiver.base + "/old"})
    assert r.status_code == 201, r.text
    await _notify_owner(world, clock)
    strict = _with(world.services.settings, webhook_allowed_networks=[])
    await run("deliveries", strict, clock)
    assert receiver.requests == []
    assert "private or loopback" in (await _delivery())["last_error"]


# HTTPS: a receiver with a certificate for its name, from a CA of the test's own


@dataclass
class TlsReceiver:
    port: int
    ca_file: Path
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for `name` that it signed (files: CA, certificate, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "siteinspect test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[TlsReceiver]:
    ca_file, cert_file, key_file = _certificates(tmp_path, "hooks.example.test")
    state = TlsReceiver(port=free_port(), ca_file=ca_file)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    def remember_sni(sock: Any, server_name: str | None, ctx: Any) -> None:
        state.server_names.append(server_name)

    context.sni_callback = remember_sni

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


async def test_https_keeps_the_name_for_sni_and_the_certificate(
    world: World, clock: FixedClock, tls_receiver: TlsReceiver
) -> None:
    NAMES["hooks.example.test"] = ["127.0.0.1"]
    NAMES["other.example.test"] = ["127.0.0.1"]
    url = f"https://hooks.example.test:{tls_receiver.port}/tls"
    assert (await world.post("owner", "/api/v1/webhooks", json={"url": url})).status_code == 201
    await _notify_owner(world, clock)
    settings = _with(
        world.services.settings, webhook_allowed_networks=LOOPBACK, webhook_ca_file=str(tls_receiver.ca_file)
    )
    await run("deliveries", settings, clock)
    assert (await _delivery())["status"] == "sent", (await _delivery())["last_error"]
    assert tls_receiver.server_names == ["hooks.example.test"]
    assert tls_receiver.hosts == [f"hooks.example.test:{tls_receiver.port}"]


async def test_https_certificate_must_match_the_urls_name(
    world: World, clock: FixedClock, tls_receiver: TlsReceiver
) -> None:
    """The same address under another name: the certificate (for hooks.example.test) does not
    match, so nothing is sent. The check is against the name, not the address connected to."""
    NAMES["other.example.test"] = ["127.0.0.1"]
    url = f"https://other.example.test:{tls_receiver.port}/tls"
    assert (await world.post("owner", "/api/v1/webhooks", json={"url": url})).status_code == 201
    await _notify_owner(world, clock)
    settings = _with(
        world.services.settings, webhook_allowed_networks=LOOPBACK, webhook_ca_file=str(tls_receiver.ca_file)
    )
    await run("deliveries", settings, clock)
    row = await _delivery()
    assert row["status"] == "pending" and "CERTIFICATE_VERIFY_FAILED" in row["last_error"], row["last_error"]
    assert tls_receiver.hosts == []


def test_allowed_networks_setting_is_checked_at_start() -> None:
    from inspection.settings import SettingsError, load_settings

    env = {"SITEINSPECT_ALERTS_WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16, 192.168.7.0/24"}
    assert load_settings(environ=env).alerts.webhook_allowed_networks == ["10.20.0.0/16", "192.168.7.0/24"]
    with pytest.raises(SettingsError, match="SITEINSPECT_ALERTS_WEBHOOK_ALLOWED_NETWORKS"):
        load_settings(environ={"SITEINSPECT_ALERTS_WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16,intranet"})
