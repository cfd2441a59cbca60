"""The `siteinspect` command: serve, migrate, user create, demo, audit verify, evidence missing."""

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
        proxy_headers=False,
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

    result = _run(_with_pool(verify))
    if result.ok:
        print(f"audit chain intact: {result.checked} entries verified")
        return 0
    print(f"audit chain BROKEN at entry {result.first_bad_id}: {result.reason}")
    return 2


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
    p = audit.add_parser("verify", help="check the hash chain; names the first entry edited, removed or reordered")
    p.set_defaults(func=cmd_audit_verify)

    evidence = sub.add_parser("evidence", help="photo and document evidence").add_subparsers(
        dest="evidence_command", required=True
    )
    p = evidence.add_parser("missing", help="photos named by records but never uploaded")
    p.add_argument("--days", type=int, default=7, help="announced at least this many days ago (default 7)")
    p.set_defaults(func=cmd_evidence_missing)
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
