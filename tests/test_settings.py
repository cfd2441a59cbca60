"""Settings: config.toml defaults, SITEINSPECT_* overrides, and clear refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspection.settings import SettingsError, load_settings, parse_database_url

BASE = {"SITEINSPECT_SECURITY_SECRET_KEY": "k" * 40}


def test_defaults_come_from_config_toml() -> None:
    s = load_settings(environ={})
    assert s.mode == "dev"
    assert s.server.port == 8000
    assert s.storage.backend == "disk"
    assert s.storage.max_upload_bytes == 25 * 1024 * 1024


def test_environment_overrides_are_typed() -> None:
    s = load_settings(
        environ={
            **BASE,
            "SITEINSPECT_SERVER_PORT": "9001",
            "SITEINSPECT_SERVER_HOST": "0.0.0.0",
            "SITEINSPECT_DATABASE_URL": "postgresql://u:p%40ss@db.example:6543/si",
            "SITEINSPECT_STORAGE_BACKEND": "s3",
            "SITEINSPECT_STORAGE_S3_PATH_STYLE": "false",
            "SITEINSPECT_SERVER_CORS_ORIGINS": "https://a.example, https://b.example",
            "SITEINSPECT_MODE": "production",
            "SITEINSPECT_REPORTS_PUBLIC_BASE_URL": "https://jianli.example.cn/",
        }
    )
    assert s.public_base_url == "https://jianli.example.cn"
    assert s.server.port == 9001
    assert s.storage.backend == "s3" and s.storage.s3_path_style is False
    assert s.server.cors_origins == ["https://a.example", "https://b.example"]
    url = parse_database_url(s.database.url)
    assert (url.engine, url.host, url.port, url.password, url.database) == (
        "postgres",
        "db.example",
        6543,
        "p@ss",
        "si",
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SITEINSPECT_SERVER_PORT": "eighty"}, "server.port (SITEINSPECT_SERVER_PORT)"),
        ({"SITEINSPECT_SERVER_PORT": "70000"}, "server.port (SITEINSPECT_SERVER_PORT)"),
        ({"SITEINSPECT_STORAGE_BACKEND": "ftp"}, "storage.backend (SITEINSPECT_STORAGE_BACKEND)"),
        ({"SITEINSPECT_DATABASE_URL": "mysql://x/y"}, "database.url (SITEINSPECT_DATABASE_URL)"),
        ({"SITEINSPECT_SECURITY_SECRET_KEY": "short"}, "security.secret_key"),
        ({"SITEINSPECT_MODE": "production", "SITEINSPECT_SECURITY_SECRET_KEY": ""}, "security.secret_key"),
        ({"SITEINSPECT_MODE": "staging"}, "mode (SITEINSPECT_MODE)"),
        ({"SITEINSPECT_MODE": "production"}, "reports.public_base_url (SITEINSPECT_REPORTS_PUBLIC_BASE_URL)"),
        ({"SITEINSPECT_REPORTS_PUBLIC_BASE_URL": "ftp://x"}, "reports.public_base_url"),
        ({"SITEINSPECT_REPORTS_PUBLIC_BASE_URL": "jianli.example.cn"}, "reports.public_base_url"),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**BASE, **env})
    assert names in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[server]\nprot = 80\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(config_path=config, environ=BASE)
    assert "prot" in str(info.value)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspection.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_bad_setting_stops_start_up() -> None:
    r = _cli("serve", env={**os.environ, "SITEINSPECT_SERVER_PORT": "not-a-port"})
    assert r.returncode == 1
    assert "siteinspect：配置有误：server.port (SITEINSPECT_SERVER_PORT)：应为整数，实际为文字" in r.stderr, r.stderr


@pytest.mark.sqlite_only  # uses a fresh SQLite file of its own, whatever the suite's database
def test_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SITEINSPECT_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "SITEINSPECT_SERVER_PORT": "8999",
    }
    r = _cli("serve", env=env)
    assert r.returncode == 1
    assert "个迁移未执行，请先运行：siteinspect migrate" in r.stderr, r.stderr
    assert _cli("migrate", env=env).returncode == 0


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"SITEINSPECT_SERVER_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"SITEINSPECT_SERVER_HOST": "192.0.2.7", "SITEINSPECT_SERVER_PORT": "80"}, "http://192.0.2.7:80"),
        ({"SITEINSPECT_SERVER_HOST": "0.0.0.0"}, "http://127.0.0.1:8000"),
        ({"SITEINSPECT_SERVER_HOST": "::1"}, "http://[::1]:8000"),
        ({"SITEINSPECT_REPORTS_PUBLIC_BASE_URL": "https://a.example/si/"}, "https://a.example/si"),
    ],
)
def test_public_base_url_follows_the_served_address(env: dict[str, str], url: str) -> None:
    """QR codes point where the server really is unless an address is configured."""
    assert load_settings(environ={**BASE, **env}).public_base_url == url
