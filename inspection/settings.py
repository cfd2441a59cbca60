"""Typed settings: config.toml defaults, overridden by SITEINSPECT_* environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import msgspec

from inspection.messages import Message, t
from inspection.messages.decoding import explain

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SITEINSPECT_"
DEV_SECRET_FILE = "var/secret_key"  # noqa: S105 - a path, not a secret


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the key and the expected form, in the
    operator's words (inspection/messages/, Chinese by default)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    cors_origins: list[str] = []
    trusted_proxies: list[str] = []
    keep_alive_s: int = 75
    body_idle_timeout_s: float = 30.0
    body_total_timeout_s: float = 900.0
    shutdown_grace_s: int = 20


class DatabaseSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    url: str = "sqlite:///var/siteinspect.sqlite3"
    sqlite_busy_timeout_s: float = 30.0
    pool_min_size: int = 1
    pool_max_size: int = 10


class SecuritySettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    secret_key: str = ""
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 2_592_000
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4
    login_max_failures: int = 5
    login_address_max_failures: int = 50
    login_window_s: int = 300
    password_min_length: int = 10


class StorageSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    backend: Literal["disk", "s3"] = "disk"
    disk_root: str = "var/evidence"
    s3_endpoint_url: str = ""
    s3_bucket: str = "siteinspect-evidence"
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_path_style: bool = True
    max_upload_bytes: int = 26_214_400


class LoggingSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "text"


class RectificationSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    offline_answer_grace_hours: int = 72


class SchedulerSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    enabled: bool = True
    interval_s: int = 300
    misfire_grace_s: int = 3600


class AlertSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    warranty_lead_days: list[int] = msgspec.field(default_factory=lambda: [90, 30, 7])
    retention_lead_days: list[int] = msgspec.field(default_factory=lambda: [14, 0])
    occurrence_grace_days: int = 0
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 6
    webhook_backoff_s: float = 30.0
    # Private, loopback and shared-space networks webhooks may reach (CIDR); public addresses are
    # always allowed, link-local, multicast and reserved ones never.
    webhook_allowed_networks: list[str] = []
    # An extra CA bundle (PEM) trusted for HTTPS webhooks, beside the public CAs.
    webhook_ca_file: str = ""
    delivery_batch: int = 200


class SmtpSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: str = ""
    port: int = 25
    from_address: str = "siteinspect@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0


class WarrantySettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    city: str = "default"
    timezone: str = "Asia/Shanghai"


class ReportsSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    # empty: the address the server serves on (Settings.public_base_url); required in production
    public_base_url: str = ""
    render_workers: int = 2
    render_queue: int = 8
    render_timeout_s: float = 60.0


class TabletSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    # the built tablet app (`make tablet`), served at /tablet/; relative to the project folder
    dist_dir: str = "tablet/dist"


class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    mode: Literal["dev", "production"] = "dev"
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    storage: StorageSettings = StorageSettings()
    logging: LoggingSettings = LoggingSettings()
    rectification: RectificationSettings = RectificationSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerts: AlertSettings = AlertSettings()
    smtp: SmtpSettings = SmtpSettings()
    warranty: WarrantySettings = WarrantySettings()
    reports: ReportsSettings = ReportsSettings()
    tablet: TabletSettings = TabletSettings()

    @property
    def is_dev(self) -> bool:
        return self.mode == "dev"

    @property
    def public_base_url(self) -> str:
        """Where phones reach this server: what QR codes on reports point to. Unless configured,
        the address it serves on (a wildcard listen address is shown as loopback, which only this
        machine reaches: `siteinspect serve` says so)."""
        if self.reports.public_base_url:
            return self.reports.public_base_url.rstrip("/")
        host = self.server.host
        if host in WILDCARD_HOSTS:
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.port}"


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared with, never bound

# Bounds that msgspec's types alone do not express: (section, key) -> (min, max).
_BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("server", "port"): (1, 65535),
    ("server", "max_body_bytes"): (1024, 100 * 1024 * 1024),
    ("server", "keep_alive_s"): (1, 3600),
    ("server", "body_idle_timeout_s"): (0.1, 3600),
    ("server", "body_total_timeout_s"): (1, 86400),
    ("server", "shutdown_grace_s"): (0, 3600),
    ("database", "sqlite_busy_timeout_s"): (0, 3600),
    ("database", "pool_min_size"): (1, 1000),
    ("database", "pool_max_size"): (1, 1000),
    ("security", "access_token_ttl_s"): (30, 86_400),
    ("security", "refresh_token_ttl_s"): (300, 31_536_000),
    ("security", "argon2_time_cost"): (1, 20),
    ("security", "argon2_memory_kib"): (8, 4_194_304),
    ("security", "argon2_parallelism"): (1, 64),
    ("security", "login_max_failures"): (1, 1000),
    ("security", "login_address_max_failures"): (1, 100_000),
    ("security", "login_window_s"): (1, 86_400),
    ("security", "password_min_length"): (8, 128),
    ("storage", "max_upload_bytes"): (1024, 5 * 1024**3),
    ("rectification", "offline_answer_grace_hours"): (0, 720),
    ("scheduler", "interval_s"): (1, 86_400),
    ("scheduler", "misfire_grace_s"): (1, 7 * 86_400),
    ("alerts", "occurrence_grace_days"): (0, 30),
    ("alerts", "webhook_timeout_s"): (0.1, 120),
    ("alerts", "webhook_max_attempts"): (1, 50),
    ("alerts", "webhook_backoff_s"): (0.01, 86_400),
    ("alerts", "delivery_batch"): (1, 10_000),
    ("smtp", "port"): (1, 65535),
    ("smtp", "timeout_s"): (0.1, 120),
    ("reports", "render_workers"): (1, 32),
    ("reports", "render_queue"): (0, 1000),
    ("reports", "render_timeout_s"): (1, 3600),
}


def env_name(section: str | None, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}" if section else f"{ENV_PREFIX}{key.upper()}"


def _env_overrides(data: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    """Apply SITEINSPECT_<SECTION>_<KEY> variables; lists are comma-separated."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for field in msgspec.structs.fields(Settings):
        name = field.encode_name
        section_type = field.type if isinstance(field.type, type) else None
        if section_type is not None and issubclass(section_type, msgspec.Struct):
            section = merged.setdefault(name, {})
            for sub in msgspec.structs.fields(section_type):
                value = environ.get(env_name(name, sub.encode_name))
                if value is None:
                    continue
                if "list" in str(sub.type):
                    section[sub.encode_name] = [v.strip() for v in value.split(",") if v.strip()]
                else:
                    section[sub.encode_name] = value
        else:
            value = environ.get(env_name(None, name))
            if value is not None:
                merged[name] = value
    return merged


def _describe_path(path: str) -> str:
    # msgspec reports "$.server.port"; show it as "server.port (SITEINSPECT_SERVER_PORT)".
    parts = [p for p in path.removeprefix("$").split(".") if p]
    if not parts:
        return "config.toml"
    key = ".".join(parts[:2])
    env = env_name(parts[0], parts[1]) if len(parts) >= 2 else env_name(None, parts[0])
    return f"{key} ({env})"


def _check(settings: Settings) -> None:
    for (section, key), (low, high) in _BOUNDS.items():
        value = getattr(getattr(settings, section), key)
        if not low <= value <= high:
            raise SettingsError(
                t(
                    "settings.number_range",
                    where=f"{section}.{key} ({env_name(section, key)})",
                    low=f"{low:g}",
                    high=f"{high:g}",
                    value=repr(value),
                )
            )
    if settings.database.pool_min_size > settings.database.pool_max_size:
        raise SettingsError(t("settings.pool_sizes"))
    parse_database_url(settings.database.url)
    key = settings.security.secret_key
    if key and len(key) < 32:
        raise SettingsError(
            t("settings.secret_short", where=f"security.secret_key ({env_name('security', 'secret_key')})")
        )
    if not key and not settings.is_dev:
        raise SettingsError(
            t("settings.secret_required", where=f"security.secret_key ({env_name('security', 'secret_key')})")
        )
    base = settings.reports.public_base_url
    where = f"reports.public_base_url ({env_name('reports', 'public_base_url')})"
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(t("settings.base_url", where=where, value=repr(base)))
    elif not settings.is_dev:
        raise SettingsError(t("settings.base_url_required", where=where))
    for key in ("warranty_lead_days", "retention_lead_days"):
        if any(not 0 <= d <= 3650 for d in getattr(settings.alerts, key)):
            raise SettingsError(t("settings.lead_days", where=f"alerts.{key} ({env_name('alerts', key)})"))
    for network in settings.alerts.webhook_allowed_networks:
        try:
            ipaddress.ip_network(network.strip(), strict=False)
        except ValueError:
            where = f"alerts.webhook_allowed_networks ({env_name('alerts', 'webhook_allowed_networks')})"
            raise SettingsError(t("settings.networks", where=where, value=repr(network))) from None
    ca_file = settings.alerts.webhook_ca_file
    if ca_file and not Path(ca_file).is_file():
        where = f"alerts.webhook_ca_file ({env_name('alerts', 'webhook_ca_file')})"
        raise SettingsError(t("settings.no_file", where=where, value=repr(ca_file)))
    if settings.storage.backend == "s3" and not settings.storage.s3_bucket:
        raise SettingsError(t("settings.s3_bucket", where=f"storage.s3_bucket ({env_name('storage', 's3_bucket')})"))


class DatabaseUrl(msgspec.Struct, frozen=True):
    engine: Literal["sqlite", "postgres"]
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    database: str = ""


def parse_database_url(url: str) -> DatabaseUrl:
    """sqlite:///relative.sqlite3, sqlite:////abs/path.sqlite3 or postgresql://user:pw@host:port/db."""
    where = f"database.url ({env_name('database', 'url')})"
    if url.startswith("sqlite:///"):
        raw = url.removeprefix("sqlite:///")
        if not raw:
            raise SettingsError(t("settings.sqlite_url", where=where))
        path = Path(raw)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        return DatabaseUrl(engine="sqlite", path=str(path))
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        database = parts.path.lstrip("/")
        if not parts.hostname or not database:
            raise SettingsError(t("settings.postgres_url", where=where))
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise SettingsError(t("settings.port_number", where=where)) from exc
        return DatabaseUrl(
            engine="postgres",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=database,
        )
    raise SettingsError(t("settings.database_url", where=where, value=repr(url)))


def load_settings(config_path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read config.toml and the environment into one checked Settings object."""
    environ = dict(os.environ) if environ is None else environ
    path = Path(environ.get("SITEINSPECT_CONFIG", config_path or PROJECT_ROOT / "config.toml"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(t("settings.bad_toml", where=str(path), error=str(exc))) from exc
    data = _env_overrides(data, environ)
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where, _, path_part = message.rpartition(" - at `")
        if path_part:
            where_key = _describe_path(path_part.rstrip("`"))
            raise SettingsError(t("field.summary", field=where_key, message=explain(where))) from exc
        raise SettingsError(explain(message)) from exc
    _check(settings)
    return settings


def secret_key(settings: Settings) -> bytes:
    """The configured key, or in dev mode a random one kept in var/secret_key across restarts."""
    if settings.security.secret_key:
        return settings.security.secret_key.encode()
    path = PROJECT_ROOT / DEV_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
