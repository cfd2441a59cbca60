"""The `siteinspect` command (click): serve, migrate, user create, demo, simulate, audit verify,
evidence missing, templates import / list, samples ledger / awaiting, alerts run, report."""

from __future__ import annotations

import asyncio
import errno
import io
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

import click

from inspection.messages import LOCAL_ZONE, Message, t
from inspection.reports.cli import KINDS, PROJECT_KINDS, make_report
from inspection.settings import PROJECT_ROOT, SettingsError, get_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failed(click.ClickException):
    """A command that could not do its work: the message on stderr, exit status 1 (or `code`)."""

    def __init__(self, message: Message | str, code: int = 1) -> None:
        super().__init__(str(message))
        self.exit_code = code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(t("cli.failed", message=self.format_message()), err=True)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_pool(coro_fn: Callable[[], Any]) -> Any:
    from inspection import db

    async with db.connection_pool(get_settings()):
        return await coro_fn()


def _pooled(coro_fn: Callable[[], Any]) -> Any:
    return _run(_with_pool(coro_fn))


def _domain_error(exc: Any) -> NoReturn:
    raise Failed(t("field.summary", field=exc.field, message=exc.detail) if exc.field else exc.detail) from exc


# Progress: rich bars on stderr (stdout stays for what a command outputs, e.g. a CSV)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def progress_bars() -> Iterator[None]:
    """Draw a bar for each task the domain code reports progress on (inspection/progress.py)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from inspection import progress

    bars = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=_console(),
        transient=False,
    )
    tasks: dict[str, Any] = {}
    names = {
        "templates": t("cli.progress.templates"),
        "demo data": t("cli.progress.demo_data"),
        "demo programme": t("cli.progress.demo_programme"),
        "alert jobs": t("cli.progress.alert_jobs"),
    }

    def show(task: str, done: int, total: int, label: str) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(str(names.get(task, task)), total=total, label=label)
        bars.update(tasks[task], completed=done, total=total, label=label)

    with bars, progress.reporting(show):
        yield


@contextmanager
def spinner(text: Message) -> Iterator[None]:
    with _console().status(str(text)):
        yield


# Arguments


class Refused(click.BadParameter):
    """A value refused by one of this module's types: its message is already the whole sentence,
    naming the option as the operator typed it."""


def _label(param: Any) -> str:
    """An option as typed (`--from`), an argument by its metavar (`PROJECT`); a value converted by
    hand (report's ID) by the name the help shows."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return "ID"


class UuidType(click.ParamType):
    name = "UUID"

    def convert(self, value: Any, param: Any, ctx: Any) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value))
        except ValueError:
            raise Refused(str(t("cli.bad-uuid", option=_label(param), value=value)), ctx, param) from None


class DayType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from datetime import date

        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise Refused(str(t("cli.bad-date", option=_label(param), value=value)), ctx, param) from None


UUID_TYPE = UuidType()
DAY = DayType()
NON_NEGATIVE = click.IntRange(min=0)


async def project_id_for(ref: str) -> UUID:
    """A project by its id or its code (DEMO-2026-01)."""
    from inspection.errors import NotFound
    from inspection.projects.tables import Project

    try:
        return UUID(ref)
    except ValueError:
        pass
    row = await Project.select(Project.id).where((Project.code == ref) & Project.deleted.eq(False)).first()
    if row is None:
        raise NotFound(t("cli.no_project_code", ref=ref), field="project")
    return UUID(str(row["id"]))


# The group


class _HelpInChinese:
    """Every command's own -h/--help option described from the catalogue, like the rest of its help
    (click's usage headings are its own and stay as click writes them)."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = str(t("cli.help.help"))
        return option  # type: ignore[no-any-return]


class Command(_HelpInChinese, click.Command):
    pass


class Group(_HelpInChinese, click.Group):
    command_class = Command
    group_class = type  # subgroups are of this class too


@click.group(cls=Group, help=str(t("cli.help.cli")), context_settings=CONTEXT)
@click.option("-v", "--verbose", is_flag=True, help=str(t("cli.help.verbose")))
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    # piccolo_conf.py sits at the project root, which an installed entry point does not put on
    # sys.path by itself.
    root = str(PROJECT_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    # Commands other than `serve` log quietly: a simulation's thousands of requests are not news.
    if not verbose and ctx.invoked_subcommand != "serve":
        os.environ.setdefault("SITEINSPECT_LOGGING_LEVEL", "WARNING")
        logging.getLogger("httpx").setLevel(logging.WARNING)
    get_settings.cache_clear()
    try:
        get_settings()
    except SettingsError as exc:
        raise Failed(t("cli.bad_setting", error=str(exc))) from exc


@cli.command(help=str(t("cli.help.serve")), context_settings=CONTEXT)
@click.option("--host", help=str(t("cli.help.host")))
@click.option("--port", type=click.IntRange(1, 65535), help=str(t("cli.help.port")))
def serve(host: str | None, port: int | None) -> None:
    import msgspec
    import uvicorn

    from api.app import create_app
    from inspection import db

    settings = get_settings()
    server = msgspec.structs.replace(
        settings.server, host=host or settings.server.host, port=port or settings.server.port
    )
    sock = _listening_socket(server.host, server.port)
    with sock:
        pending = _pooled(db.pending_migrations)
        if pending:
            raise Failed(t("cli.migrations_pending_serve", count=len(pending)))
        # the settings the app sees name the address it really serves on: QR codes follow it
        settings = msgspec.structs.replace(settings, server=server)
        base = f"http://{server.host}:{server.port}"
        click.echo(t("cli.serving", base=base))
        click.echo(t("cli.portal_at", base=base))
        click.echo(t("cli.qr_base", base=settings.public_base_url), nl=False)
        click.echo(t("cli.qr_base_set") if settings.reports.public_base_url else t("cli.qr_base_unset"))
        if settings.is_dev:
            from inspection.demo import print_logins

            print_logins()
        sys.stdout.flush()
        uvicorn_server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host=server.host,
                port=server.port,
                log_level="warning",
                # Client addresses (rate limits, audit) come from X-Forwarded-For only when it is
                # sent by a proxy named in server.trusted_proxies; otherwise from the connection.
                proxy_headers=bool(settings.server.trusted_proxies),
                forwarded_allow_ips=settings.server.trusted_proxies or None,
                timeout_keep_alive=settings.server.keep_alive_s,
                # SIGTERM: requests in flight get this long, then the rest are cancelled (503) and
                # the app's shutdown runs: scheduler, render workers, database pool
                timeout_graceful_shutdown=settings.server.shutdown_grace_s,
            )
        )
        uvicorn_server.run(sockets=[sock])
    if not uvicorn_server.started:
        raise Failed(t("cli.server_not_started"))


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else starts: on a busy port `serve` stops here,
    before the app's start-up runs the scheduler (whose jobs would otherwise run against the
    database in a process that serves nothing)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # a restarted server may bind while connections of the last one linger in TIME_WAIT; on
        # Linux this still refuses a port that another socket listens on
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Failed(t("cli.port_taken", host=host, port=port)) from exc
        # the system's own words (its locale's) for anything rarer: a bad address, a privileged port
        raise Failed(t("cli.cannot_listen", host=host, port=port, error=exc.strerror or str(exc))) from exc
    return sock


@cli.command(help=str(t("cli.help.migrate")), context_settings=CONTEXT)
def migrate() -> None:
    from inspection import db

    async def go() -> list[str]:
        await db.apply_migrations()
        return await db.pending_migrations()

    pending = _pooled(go)
    if pending:
        raise Failed(t("cli.migrations_still_pending", names=pending))
    click.echo(t("cli.database_up_to_date"))


@cli.group(help=str(t("cli.help.user")), context_settings=CONTEXT)
def user() -> None:
    pass  # a group: its commands do the work


@user.command("create", help=str(t("cli.help.user_create")), context_settings=CONTEXT)
@click.argument("username")
@click.option("--name", help=str(t("cli.help.name")))
@click.option("--password", help=str(t("cli.help.password")))
@click.option("--organisation", type=UUID_TYPE, help=str(t("cli.help.organisation")))
@click.option("--admin", is_flag=True, help=str(t("cli.help.admin")))
def user_create(username: str, name: str | None, password: str | None, organisation: UUID | None, admin: bool) -> None:
    from inspection.actor import SYSTEM
    from inspection.clock import SystemClock
    from inspection.errors import DomainError
    from inspection.projects import schemas as s
    from inspection.projects.service import ProjectsService

    password = password or click.prompt(str(t("cli.password_prompt")), hide_input=True)
    service = ProjectsService(get_settings(), SystemClock())
    data = s.UserCreate(
        username=username,
        display_name=name or username,
        password=password,
        organisation_id=organisation,
        is_admin=admin,
    )
    try:
        created = _pooled(lambda: service.create_user(SYSTEM, data))
    except DomainError as exc:
        _domain_error(exc)
    if created.is_admin:
        click.echo(t("cli.admin_created", username=created.username, id=created.id))
    else:
        click.echo(t("cli.user_created", username=created.username, id=created.id))


@cli.command(help=str(t("cli.help.demo")), context_settings=CONTEXT)
@click.option("--seed", type=int, default=2026, show_default=True, help=str(t("cli.help.seed")))
@click.option("--quiet", is_flag=True, help=str(t("cli.help.quiet")))
def demo(seed: int, quiet: bool) -> None:
    from contextlib import nullcontext

    from inspection.demo import load_demo, print_logins

    with nullcontext() if quiet else progress_bars():
        created = _pooled(lambda: load_demo(seed=seed, quiet=quiet))
    click.echo(t("cli.demo_loaded") if created else t("cli.demo_present"))
    print_logins()


@cli.group(help=str(t("cli.help.audit")), context_settings=CONTEXT)
def audit() -> None:
    pass  # a group: its commands do the work


@audit.command("verify", help=str(t("cli.help.audit_verify")), context_settings=CONTEXT)
def audit_verify() -> None:
    from inspection.audit.service import verify
    from inspection.settings import secret_key

    key = secret_key(get_settings())
    with spinner(t("cli.audit_verifying")):
        result = _pooled(lambda: verify(key))
    if result.ok:
        click.echo(t("cli.audit_intact", checked=result.checked, checkpoints=result.checkpoints))
        return
    if result.first_bad_id is not None:
        click.echo(t("cli.audit_broken_entry", entry=result.first_bad_id, reason=result.reason))
    elif result.scope is not None:
        click.echo(t("cli.audit_broken_scope", scope=result.scope, reason=result.reason))
    else:
        click.echo(t("cli.audit_broken", reason=result.reason))
    sys.exit(2)


@audit.command("checkpoint", help=str(t("cli.help.audit_checkpoint")), context_settings=CONTEXT)
def audit_checkpoint() -> None:
    from inspection.audit.service import checkpoint
    from inspection.clock import SystemClock
    from inspection.settings import secret_key

    key = secret_key(get_settings())
    made = _pooled(lambda: checkpoint(key, SystemClock()))
    click.echo(t("cli.audit_checkpoint", id=made.id, scopes=made.scopes, entries=made.entries, root=made.root))


@contextmanager
def _simulation_database(url: str | None) -> Iterator[str]:
    """The database a simulation writes to: the one named, or a throw-away SQLite file."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="siteinspect-simulate-") as folder:
        yield f"sqlite:///{Path(folder) / 'simulate.sqlite3'}"


def _live_table(live: Any, seconds: float) -> Any:
    from rich.table import Table

    title = t("cli.simulate_title", tablets=live.tablets, seconds=f"{seconds:.0f}").render()
    table = Table(title=title + (t("cli.simulate_draining").render() if live.draining else ""))
    headers = [t("cli.simulate_online"), t("cli.simulate_offline"), t("cli.simulate_made"), t("cli.simulate_applied")]
    headers += [t("cli.simulate_noop"), t("cli.simulate_conflicts"), t("cli.simulate_rejected")]
    for header in headers:  # in the order of the row below
        table.add_column(str(header), justify="right")
    table.add_row(
        str(live.online),
        str(live.tablets - live.online),
        str(live.mutations_made),
        str(live.count("applied")),
        str(live.count("noop")),
        str(live.count("conflict_recorded")),
        str(live.count("rejected")),
    )
    return table


@cli.command(help=str(t("cli.help.simulate")), context_settings=CONTEXT)
@click.option("--tablets", type=click.IntRange(1, 500), default=10, show_default=True, help=str(t("cli.help.tablets")))
@click.option(
    "--minutes", type=click.FloatRange(0, 600), default=1.0, show_default=True, help=str(t("cli.help.minutes"))
)
@click.option(
    "--offline-share",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.3,
    show_default=True,
    help=str(t("cli.help.offline_share")),
)
@click.option(
    "--database-url",
    help=str(t("cli.help.database_url")),
)
def simulate(tablets: int, minutes: float, offline_share: float, database_url: str | None) -> None:
    from rich.live import Live as LiveDisplay

    seconds = minutes * 60
    with _simulation_database(database_url) as url:
        # before anything opens the database: piccolo_conf.py builds its engine from these settings
        os.environ["SITEINSPECT_DATABASE_URL"] = url
        os.environ.setdefault("SITEINSPECT_SCHEDULER_ENABLED", "false")
        get_settings.cache_clear()
        try:
            settings = get_settings()
        except SettingsError as exc:
            raise Failed(t("cli.bad_setting", error=str(exc))) from exc
        from api.app import create_app
        from inspection import db
        from inspection.tools.simulate import Live, run_simulation

        live = Live()

        async def go() -> Any:
            with redirect_stdout(io.StringIO()):  # the migration runner's report is not this command's
                await db.apply_migrations()
            app = create_app(settings)
            with LiveDisplay(_live_table(live, seconds), console=_console(), refresh_per_second=4) as display:

                async def refresh() -> None:
                    while True:
                        display.update(_live_table(live, seconds))
                        await asyncio.sleep(0.25)

                ticker = asyncio.create_task(refresh())
                try:
                    return await run_simulation(app, settings, tablets, seconds, offline_share, live=live)
                finally:
                    ticker.cancel()
                    display.update(_live_table(live, seconds))

        async def pooled() -> Any:
            async with db.connection_pool(settings):
                return await go()

        report = _run(pooled())
    click.echo(
        t(
            "cli.simulate_summary",
            tablets=report.tablets,
            seconds=f"{report.seconds:.0f}",
            made=report.mutations_made,
            applied=report.applied,
            noop=report.noop,
            conflicts=report.conflicts_recorded,
            conflict_rows=report.conflict_rows,
            rejected=report.rejected,
        )
    )
    click.echo(t("cli.simulate_losses", lost=report.lost, doubled=report.doubled, not_converged=report.not_converged))
    for problem in report.problems:
        click.echo(t("cli.simulate_problem", problem=problem))
    click.echo(t("cli.simulate_ok") if report.ok else t("cli.simulate_failed"))
    if not report.ok:
        sys.exit(2)


@cli.group(help=str(t("cli.help.evidence")), context_settings=CONTEXT)
def evidence() -> None:
    pass  # a group: its commands do the work


@evidence.command("missing", help=str(t("cli.help.evidence_missing")), context_settings=CONTEXT)
@click.option("--days", type=NON_NEGATIVE, default=7, show_default=True, help=str(t("cli.help.announced_days")))
def evidence_missing(days: int) -> None:
    from inspection.clock import SystemClock
    from inspection.evidence.service import missing_uploads

    photos = _pooled(lambda: missing_uploads(SystemClock().now(), days))
    for p in photos:
        click.echo(
            t(
                "cli.missing_photo",
                sha256=p.sha256,
                project=p.project_id,
                announced=p.announced_at,
                uploader=p.uploader_id,
            )
        )
        for record in p.records:
            click.echo(t("cli.missing_photo_cited", record=record))
    click.echo(t("cli.missing_photos", count=len(photos), days=days))


@cli.group(help=str(t("cli.help.templates")), context_settings=CONTEXT)
def templates() -> None:
    pass  # a group: its commands do the work


@templates.command("import", help=str(t("cli.help.templates_import")), context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def templates_import(files: tuple[Path, ...]) -> None:
    from inspection.checklists.catalogue import import_templates
    from inspection.checklists.templates import TemplateError, shipped_files
    from inspection.clock import SystemClock

    paths = list(files) or shipped_files()
    try:
        with progress_bars():
            done = _pooled(lambda: import_templates(paths, SystemClock()))
    except TemplateError as exc:
        for file, item, reason in exc.problems:
            shown = t("cli.template_problem", file=file, item=item or t("cli.template_whole"), reason=reason)
            click.echo(shown, err=True)
        raise Failed(t("cli.templates_refused", count=len(exc.problems))) from exc
    for d in done:
        if d.created:
            click.echo(t("cli.template_imported", code=d.code, version=d.version, digest=d.sha256[:12]))
        else:
            click.echo(t("cli.template_unchanged", code=d.code, version=d.version, digest=d.sha256[:12]))


@templates.command("list", help=str(t("cli.help.templates_list")), context_settings=CONTEXT)
@click.option("--kind", type=click.Choice(["safety", "quality", "passfail"]), help=str(t("cli.help.template_kind")))
@click.option("--all", "every", is_flag=True, help=str(t("cli.help.every_version")))
def templates_list(kind: str | None, every: bool) -> None:
    from inspection.checklists.catalogue import list_versions

    rows = _pooled(lambda: list_versions(kind, latest_only=not every))
    for r in rows:
        click.echo(t("cli.template_row", code=r["code"], version=r["version_number"], kind=r["kind"], title=r["title"]))
    click.echo(t("cli.templates_listed", count=len(rows)))


@cli.group(help=str(t("cli.help.samples")), context_settings=CONTEXT)
def samples() -> None:
    pass  # a group: its commands do the work


@samples.command("ledger", help=str(t("cli.help.samples_ledger")), context_settings=CONTEXT)
@click.argument("project")
@click.option("--from", "arrived_from", type=DAY, help=str(t("cli.help.arrived_from")))
@click.option("--to", "arrived_to", type=DAY, help=str(t("cli.help.arrived_to")))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=str(t("cli.help.output_stdout")))
def samples_ledger(project: str, arrived_from: Any, arrived_to: Any, output: Path | None) -> None:
    from inspection.actor import SYSTEM
    from inspection.clock import SystemClock
    from inspection.errors import DomainError
    from inspection.samples.service import SamplesService

    async def go() -> bytes:
        pid = await project_id_for(project)
        return await SamplesService(get_settings(), SystemClock()).ledger_csv(SYSTEM, pid, arrived_from, arrived_to)

    try:
        body = _pooled(go)
    except DomainError as exc:
        _domain_error(exc)
    if output:
        output.write_bytes(body)
    else:
        sys.stdout.buffer.write(body)


@samples.command("awaiting", help=str(t("cli.help.samples_awaiting")), context_settings=CONTEXT)
@click.option("--days", type=NON_NEGATIVE, default=28, show_default=True, help=str(t("cli.help.taken_days")))
def samples_awaiting(days: int) -> None:
    from datetime import timedelta

    from inspection.clock import SystemClock
    from inspection.samples.queries import samples_awaiting_result

    rows = _pooled(lambda: samples_awaiting_result(SystemClock().now() - timedelta(days=days)))
    for r in rows:
        click.echo(
            t(
                "cli.sample_awaiting",
                label=r["label_code"],
                material=r["material"],
                taken=f"{r['taken_at'].astimezone(LOCAL_ZONE):%Y-%m-%d}",
                recorded=r["results_recorded"],
                expected=r["results_expected"],
                batch=r["batch_id"],
            )
        )
    click.echo(t("cli.samples_awaiting", count=len(rows), days=days))


@cli.group(help=str(t("cli.help.alerts")), context_settings=CONTEXT)
def alerts() -> None:
    pass  # a group: its commands do the work


@alerts.command("run", help=str(t("cli.help.alerts_run")), context_settings=CONTEXT)
@click.option("--job", "names", multiple=True, help=str(t("cli.help.job")))
def alerts_run(names: tuple[str, ...]) -> None:
    import json

    from inspection.alerts.jobs import JOBS, job_named
    from inspection.alerts.runner import run_jobs, summary
    from inspection.clock import SystemClock

    try:
        jobs = [job_named(n) for n in names] if names else JOBS
    except KeyError as exc:
        raise Failed(t("cli.no_job", name=exc.args[0], jobs=", ".join(j.name for j in JOBS))) from exc
    with progress_bars():
        results = _pooled(lambda: run_jobs(jobs, get_settings(), SystemClock()))
    click.echo(json.dumps(summary(results), ensure_ascii=False))
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@cli.command(
    "report",
    help=str(t("cli.help.report")),
    context_settings=CONTEXT,
    epilog=f"\b\n{t('cli.help.report_kinds')}\n" + "\n".join(f"  {k:<11} {v}" for k, v in KINDS.items()),
)
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("subject", metavar="ID")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=str(t("cli.help.output")))
@click.option("--user", help=str(t("cli.help.as_user")))
@click.option("--week", type=DAY, help=str(t("cli.help.week")))
@click.option("--from", "date_from", type=DAY, help=str(t("cli.help.date_from")))
@click.option("--to", "date_to", type=DAY, help=str(t("cli.help.date_to")))
def report(
    kind: str,
    subject: str,
    output: Path | None,
    user: str | None,
    week: date | None,
    date_from: date | None,
    date_to: date | None,
) -> None:
    from inspection.clock import SystemClock
    from inspection.errors import DomainError

    settings = get_settings()
    if kind not in PROJECT_KINDS:
        subject_id = UUID_TYPE.convert(subject, None, click.get_current_context())

    async def go() -> Any:
        target = await project_id_for(subject) if kind in PROJECT_KINDS else subject_id
        return await make_report(settings, SystemClock(), kind, target, user, week, date_from, date_to)

    try:
        with spinner(t("cli.report_rendering", kind=kind)):
            rendered = _pooled(go)
    except DomainError as exc:
        _domain_error(exc)
    out = output or Path(rendered.fallback_filename)
    out.write_bytes(rendered.pdf)
    click.echo(t("cli.report_written", number=rendered.number, size=f"{len(rendered.pdf):,}", path=out))


def _usage_text(exc: click.UsageError) -> Message | str:
    """What was wrong with the command line, in the operator's words where click's own are English
    (a check of click's own types, such as a range, keeps click's explanation inside)."""
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, click.BadParameter):
        name = _label(exc.param) if exc.param is not None else str(exc.param_hint or "")
        if isinstance(exc, click.MissingParameter):
            return t("cli.missing_parameter", name=name)
        kind = exc.param.type if exc.param is not None else None
        if isinstance(kind, click.Choice):
            return t("cli.not_a_choice", name=name, choices=[str(c) for c in kind.choices])
        if isinstance(kind, click.IntRange | click.FloatRange):
            # click's own notation of the range (0<=x<1) reads the same in any language
            return t("cli.out_of_range", name=name, range=kind._describe_range())
        return t("cli.bad_parameter", name=name, message=exc.message)
    if isinstance(exc, click.NoSuchOption):
        if exc.possibilities:
            return t("cli.no_such_option_like", name=exc.option_name, like=exc.possibilities)
        return t("cli.no_such_option", name=exc.option_name)
    return exc.format_message()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status (0 ok, 1 failed, 2 usage or a check that failed)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="siteinspect", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(t("cli.failed", message=_usage_text(exc)), err=True)
        if exc.ctx is not None:
            click.echo(t("cli.see_help", command=f"{exc.ctx.command_path} --help"), err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo(t("cli.aborted"), err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
