"""The `siteinspect` command line as a person meets it: help on every command and option, a
simulation that never writes to the configured database, reports by project code."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from inspection.cli import cli
from inspection.projects.tables import Project
from inspection.settings import PROJECT_ROOT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspection.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out += commands(command, f"{prefix}{name} ")
    return out


def test_every_command_and_option_has_a_help_text() -> None:
    every = commands(cli)
    assert {"serve", "migrate", "demo", "simulate", "report", "templates import", "alerts run"} <= {n for n, _ in every}
    for name, command in every:
        assert (command.help or "").strip(), f"`siteinspect {name}` has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"`siteinspect {name}` {param.opts} has no help text"


def test_help_is_shown() -> None:
    done = run("report", "--help")
    assert done.returncode == 0
    assert "DEMO-2026-01" in done.stdout and "整改通知单" in done.stdout
    # in the operator's language, the help option's own line too
    assert "生成记录 ID 的 KIND 类 PDF 报表" in done.stdout and "报表类别：" in done.stdout
    assert "显示本帮助并退出" in done.stdout and "Show this message" not in done.stdout


async def test_simulate_leaves_the_configured_database_alone() -> None:
    before = await Project.count()
    done = run("simulate", "--tablets", "2", "--minutes", "0.02", "--offline-share", "0.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("通过") and "丢失：0　重复应用：0" in done.stdout
    # quiet by default: no request log lines, no migration report
    assert "INFO" not in done.stdout + done.stderr and "migrations" not in done.stdout
    assert await Project.count() == before
    assert not await Project.exists().where(Project.code.like("SIM-%"))


def test_simulate_refuses_a_bad_share() -> None:
    done = run("simulate", "--offline-share", "1")
    assert done.returncode == 2 and "siteinspect：--offline-share 须在 0<=x<1 范围内" in done.stderr, done.stderr
    assert "用法见：siteinspect simulate --help" in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report"], "siteinspect：缺少 KIND"),
        (["report", "notice", "not-an-id"], "siteinspect：ID 的值 not-an-id 不是有效的编号（UUID）"),
        (["samples", "ledger", "X", "--from", "2026-13-01"], "siteinspect：--from 的值 2026-13-01 不是有效的日期"),
        (["templates", "list", "--kind", "fire"], "siteinspect：--kind 须为 safety、quality、passfail 之一"),
        (["templates", "list", "--al"], "siteinspect：没有 --al 这个选项；是不是想用 --all"),
    ],
)
def test_usage_errors_are_told_in_chinese(args: list[str], said: str) -> None:
    done = run(*args)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Error:" not in done.stderr and "Usage:" not in done.stderr


async def test_report_takes_a_project_code(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "warranty.pdf"
    done = run("report", "warranty", world.p1.code, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-") and f"已写入 {out}" in done.stdout
    done = run("report", "warranty", "NO-SUCH-PROJECT")
    assert done.returncode == 1 and "没有编码为 NO-SUCH-PROJECT 的项目" in done.stderr
