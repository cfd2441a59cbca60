"""The `siteinspect` command: serve, migrate, user create, demo, audit verify, evidence missing,
templates import / list, samples ledger and awaiting, alerts run, report."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from inspection.settings import PROJECT_ROOT, SettingsError, get_settings


def _fail(message: str) -> int:
    print(f"siteinspect: {message}", file=sys.stderr)
    return 1


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_pool(coro_fn: Any) -> Any:
    from inspection import db

    async with db.connection_pool(get_settings()):
        return await coro_fn()


def cmd_migrate(args: argparse.Namespace) -> int:
    from inspection import db

    async def go() -> list[str]:
        await db.apply_migrations()
        return await db.pending_migrations()

    pending = _run(_with_pool(go))
    if pending:
        return _fail(f"migrations still pending: {', '.join(pending)}")
    print("database is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from inspection import db

    settings = get_settings()
    pending = _run(_with_pool(db.pending_migrations))
    if pending:
        return _fail(f"the database has {len(pending)} migration(s) not applied; run: siteinspect migrate")
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    print(f"siteinspect serving on http://{host}:{port}  (API docs: http://{host}:{port}/schema)", flush=True)
    print(f"web portal: http://{host}:{port}/portal/", flush=True)
    if settings.is_dev:
        from inspection.demo import print_logins

        print_logins()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        # Client addresses (rate limits, audit) come from X-Forwarded-For only when it is sent by
        # a proxy named in server.trusted_proxies; otherwise from the connection itself.
        proxy_headers=bool(settings.server.trusted_proxies),
        forwarded_allow_ips=settings.server.trusted_proxies or None,
        timeout_keep_alive=settings.server.keep_alive_s,
    )
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from inspection.actor import SYSTEM
    from inspection.clock import SystemClock
    from inspection.errors import DomainError
    from inspection.projects import schemas as s
    from inspection.projects.service import ProjectsService

    password = args.password or getpass.getpass("password: ")
    service = ProjectsService(get_settings(), SystemClock())
    data = s.UserCreate(
        username=args.username,
        display_name=args.name or args.username,
        password=password,
        organisation_id=args.organisation,
        is_admin=args.admin,
    )
    try:
        user = _run(_with_pool(lambda: service.create_user(SYSTEM, data)))
    except DomainError as exc:
        return _fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    print(f"created user {user.username} ({user.id}){' as administrator' if user.is_admin else ''}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from inspection.demo import load_demo, print_logins

    created = _run(_with_pool(lambda: load_demo(seed=args.seed, quiet=args.quiet)))
    print("demo data loaded" if created else "demo data already present; nothing added")
    print_logins()
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from inspection.audit.service import verify
    from inspection.settings import secret_key

    key = secret_key(get_settings())
    result = _run(_with_pool(lambda: verify(key)))
    if result.ok:
        print(f"audit chain intact: {result.checked} entries verified, {result.checkpoints} signed checkpoints")
        return 0
    where = f"at entry {result.first_bad_id}" if result.first_bad_id is not None else f"in scope {result.scope}"
    print(f"audit chain BROKEN {where}: {result.reason}")
    return 2


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from inspection.audit.service import checkpoint
    from inspection.clock import SystemClock
    from inspection.settings import secret_key

    key = secret_key(get_settings())
    made = _run(_with_pool(lambda: checkpoint(key, SystemClock())))
    print(f"audit checkpoint {made.id}: {made.scopes} scopes, {made.entries} entries, root {made.root}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from api.app import create_app
    from inspection.sync.simulate import run_simulation

    if not 0 <= args.offline_share < 1:
        return _fail("--offline-share must be from 0 up to (not including) 1")
    settings = get_settings()

    async def go() -> Any:
        return await run_simulation(create_app(settings), settings, args.tablets, args.minutes * 60, args.offline_share)

    report = _run(_with_pool(go))
    print(
        f"{report.tablets} tablets for {report.seconds:.0f} s: {report.mutations_made} mutations made; "
        f"{report.applied} applied, {report.noop} no-ops, {report.conflicts_recorded} with conflicts recorded "
        f"({report.conflict_rows} "
        f"conflict records), {report.rejected} rejected"
    )
    print(f"lost: {report.lost}  doubled: {report.doubled}  tablets not converged: {report.not_converged}")
    for problem in report.problems:
        print(f"problem: {problem}")
    print("OK" if report.ok else "FAILED")
    return 0 if report.ok else 2


def cmd_evidence_missing(args: argparse.Namespace) -> int:
    from inspection.clock import SystemClock
    from inspection.evidence.service import missing_uploads

    if args.days < 0:
        return _fail("--days must not be negative")
    photos = _run(_with_pool(lambda: missing_uploads(SystemClock().now(), args.days)))
    for p in photos:
        print(f"{p.sha256}  project {p.project_id}  announced {p.announced_at:%Y-%m-%d %H:%M}  by {p.uploader_id}")
        for record in p.records:
            print(f"    cited by {record}")
    print(f"{len(photos)} photo(s) cited by records and not uploaded after {args.days} day(s)")
    return 0


def cmd_templates_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from inspection.checklists.catalogue import import_templates
    from inspection.checklists.templates import TemplateError, shipped_files
    from inspection.clock import SystemClock

    paths = [Path(p) for p in args.files] or shipped_files()
    try:
        done = _run(_with_pool(lambda: import_templates(paths, SystemClock())))
    except TemplateError as exc:
        for file, item, reason in exc.problems:
            print(f"{file}: {item or '(template)'}: {reason}", file=sys.stderr)
        return _fail(f"{len(exc.problems)} problem(s); nothing imported")
    for d in done:
        print(f"{d.code:<36} v{d.version:<3} {'imported' if d.created else 'unchanged'}  {d.sha256[:12]}")
    return 0


def cmd_templates_list(args: argparse.Namespace) -> int:
    from inspection.checklists.catalogue import list_versions

    rows = _run(_with_pool(lambda: list_versions(args.kind, latest_only=not args.all)))
    for r in rows:
        print(f"{r['code']:<36} v{r['version_number']:<3} {r['kind']:<9} {r['title']}")
    print(f"{len(rows)} template version(s)")
    return 0


def cmd_samples_ledger(args: argparse.Namespace) -> int:
    from datetime import date

    from inspection.actor import SYSTEM
    from inspection.clock import SystemClock
    from inspection.projects.tables import Project
    from inspection.samples.service import SamplesService

    try:
        start = date.fromisoformat(args.arrived_from) if args.arrived_from else None
        end = date.fromisoformat(args.arrived_to) if args.arrived_to else None
    except ValueError:
        return _fail("give dates as YYYY-MM-DD")

    async def go() -> bytes | None:
        row = await Project.select(Project.id).where(Project.code == args.project).first()
        if row is None:
            return None
        return await SamplesService(get_settings(), SystemClock()).ledger_csv(SYSTEM, row["id"], start, end)

    body = _run(_with_pool(go))
    if body is None:
        return _fail(f"no project with code {args.project}")
    if args.output:
        with open(args.output, "wb") as f:
            f.write(body)
    else:
        sys.stdout.buffer.write(body)
    return 0


def cmd_samples_awaiting(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from inspection.clock import SystemClock
    from inspection.samples.queries import samples_awaiting_result

    if args.days < 0:
        return _fail("--days must not be negative")
    rows = _run(_with_pool(lambda: samples_awaiting_result(SystemClock().now() - timedelta(days=args.days))))
    for r in rows:
        print(
            f"{r['label_code']}  {r['material']}  taken {r['taken_at']:%Y-%m-%d}  "
            f"results {r['results_recorded']}/{r['results_expected']}  batch {r['batch_id']}"
        )
    print(f"{len(rows)} sample(s) without a full lab result after {args.days} day(s)")
    return 0


def cmd_alerts_run(args: argparse.Namespace) -> int:
    import json

    from inspection.alerts.jobs import JOBS, job_named
    from inspection.alerts.runner import run_jobs, summary
    from inspection.clock import SystemClock

    try:
        jobs = [job_named(n) for n in args.job] if args.job else JOBS
    except KeyError as exc:
        return _fail(f"no job named {exc}; jobs: {', '.join(j.name for j in JOBS)}")
    results = _run(_with_pool(lambda: run_jobs(jobs, get_settings(), SystemClock())))
    print(json.dumps(summary(results), ensure_ascii=False))
    return 1 if any(r.status == "failed" for r in results) else 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from inspection.clock import SystemClock
    from inspection.errors import DomainError
    from inspection.reports.cli import make_report

    settings = get_settings()

    async def go() -> Any:
        return await make_report(settings, SystemClock(), args)

    try:
        rendered = _run(_with_pool(go))
    except DomainError as exc:
        return _fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    out = Path(args.output or rendered.fallback_filename)
    out.write_bytes(rendered.pdf)
    print(f"{rendered.number}: {len(rendered.pdf):,} bytes written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="siteinspect", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the API (refuses an unmigrated database)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("create", help="create an account")
    p.add_argument("username")
    p.add_argument("--name", help="display name")
    p.add_argument("--password", help="prompted for when left out")
    p.add_argument("--organisation", help="organisation id (UUID)")
    p.add_argument("--admin", action="store_true", help="make the account an administrator")
    p.set_defaults(func=cmd_user_create)

    p = sub.add_parser("demo", help="load demo data once (Faker zh_CN, one district programme)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="drive reference tablets offline and online, then check convergence")
    p.add_argument("--tablets", type=int, default=10)
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--offline-share", type=float, default=0.3, help="share of rounds a tablet spends offline")
    p.set_defaults(func=cmd_simulate)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser(
        "verify", help="check the hash chains and checkpoints; names the first entry edited, removed or reordered"
    )
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("checkpoint", help="sign the Merkle root over every scope's chain head now")
    p.set_defaults(func=cmd_audit_checkpoint)

    evidence = sub.add_parser("evidence", help="photo and document evidence").add_subparsers(
        dest="evidence_command", required=True
    )
    p = evidence.add_parser("missing", help="photos named by records but never uploaded")
    p.add_argument("--days", type=int, default=7, help="announced at least this many days ago (default 7)")
    p.set_defaults(func=cmd_evidence_missing)

    templates = sub.add_parser("templates", help="checklist templates").add_subparsers(
        dest="templates_command", required=True
    )
    p = templates.add_parser("import", help="import template files as new versions (default: the shipped ones)")
    p.add_argument("files", nargs="*", help="TOML files; none: inspection/checklists/templates/*.toml")
    p.set_defaults(func=cmd_templates_import)
    p = templates.add_parser("list", help="list imported templates (latest version of each)")
    p.add_argument("--kind", choices=["safety", "quality", "passfail"])
    p.add_argument("--all", action="store_true", help="every version, not only the latest")
    p.set_defaults(func=cmd_templates_list)
    samples = sub.add_parser("samples", help="material batches and samples").add_subparsers(
        dest="samples_command", required=True
    )
    p = samples.add_parser("ledger", help="a project's material ledger (台账) as CSV, UTF-8 with BOM")
    p.add_argument("project", help="project code")
    p.add_argument("--from", dest="arrived_from", help="first arrival date, YYYY-MM-DD")
    p.add_argument("--to", dest="arrived_to", help="last arrival date, YYYY-MM-DD")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_samples_ledger)
    p = samples.add_parser("awaiting", help="samples sent to a lab without a full result")
    p.add_argument("--days", type=int, default=28, help="taken at least this many days ago (default 28)")
    p.set_defaults(func=cmd_samples_awaiting)
    alerts = sub.add_parser("alerts", help="warranty, deadline and inspection alerts").add_subparsers(
        dest="alerts_command", required=True
    )
    p = alerts.add_parser("run", help="run every alert job once (for cron instead of the in-server scheduler)")
    p.add_argument("--job", action="append", help="run only this job (repeatable)")
    p.set_defaults(func=cmd_alerts_run)
    from inspection.reports.cli import add_report_parser

    add_report_parser(sub, cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # piccolo_conf.py sits at the project root, which an installed entry point does not put on
    # sys.path by itself.
    root = str(PROJECT_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        get_settings()
    except SettingsError as exc:
        return _fail(f"bad setting: {exc}")
    if getattr(args, "organisation", None):
        from uuid import UUID

        try:
            args.organisation = UUID(args.organisation)
        except ValueError:
            return _fail("--organisation must be a UUID")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
