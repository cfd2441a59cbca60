"""The guards behind the README's guarantees, for scripts/guard_check.py: where each promise is kept
in the code, what taking it away looks like, and the tests that must then fail. `name` starts with
the README row it serves. A promise kept in several places has a guard for each that matters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guard:
    name: str
    path: str
    old: str  # must occur exactly `occurrences` times in `path`; every one is replaced
    new: str
    tests: tuple[str, ...]
    database: str = "sqlite"  # or "postgres": the tests say the race needs concurrent commits
    timeout_s: int = 600
    occurrences: int = 1


AUDIT = "tests/audit/test_audit.py"
SCOPES = "tests/audit/test_scopes.py"
RACES = "tests/changefeed/test_races.py"

GUARDS: tuple[Guard, ...] = (
    Guard(
        "write all or nothing: one transaction",
        "inspection/records.py",
        "    async with _gate(), db.transaction():\n        pending = Pending()",
        "    async with _gate():\n        pending = Pending()",
        (f"{AUDIT}::test_failed_write_leaves_no_audit_or_change",),
    ),
    Guard(
        "audit log: an edited entry's hash is checked",
        "inspection/audit/service.py",
        'if entry_hash(fields, row["prev_hash"]) != row["hash"]:',
        "if False:",
        (f"{AUDIT}::test_edited_entry_is_named", f"{SCOPES}::test_an_edited_entry_names_its_scope"),
    ),
    Guard(
        "audit log: removed or reordered entries break the chain",
        "inspection/audit/service.py",
        'if row["scope_no"] != no + 1 or row["prev_hash"] != prev:',
        "if False:",
        (
            f"{SCOPES}::test_a_removed_entry_within_a_scope_is_found",
            f"{SCOPES}::test_reordered_entries_within_a_scope_are_found",
        ),
    ),
    Guard(
        "audit log: a scope's chain ends at its head",
        "inspection/audit/service.py",
        "if head[0] != end[0] or (head[0] and head[1] != end[1]):",
        "if False:",
        (f"{SCOPES}::test_removed_newest_entries_of_a_scope_are_found", f"{AUDIT}::test_removed_newest_entry_is_found"),
    ),
    Guard(
        "audit log: a rewritten chain does not match the checkpoint",
        "inspection/audit/service.py",
        'if leaf[1] != row["hash"]:',
        "if False:",
        (f"{SCOPES}::test_a_rewritten_scope_chain_does_not_match_the_checkpoint",),
    ),
    Guard(
        "pull never skips a late commit: scope rows locked while numbering",
        "inspection/changefeed/pending.py",
        'lock = "" if db.is_sqlite() else " FOR UPDATE"',
        'lock = ""',
        (
            "tests/sync/test_sync.py::test_concurrent_long_writers_never_skip_a_change",
            "tests/changefeed/test_ordering.py::test_pullers_get_every_committed_pair_whole",
        ),
        database="postgres",
    ),
    Guard(
        "a held project delays no other: only the written scopes are locked",
        "inspection/changefeed/pending.py",
        '+ ") ORDER BY scope"\n        + lock,',
        '+ ") OR TRUE ORDER BY scope"\n        + lock,',
        ("tests/changefeed/test_ordering.py::test_a_held_project_delays_no_other",),
        database="postgres",
        timeout_s=300,
    ),
    Guard(
        "pushed twice applies once: a replay returns the stored outcome",
        "inspection/sync/service.py",
        'if check.kind == "replay":',
        'if check.kind == "replay" and False:',
        ("tests/sync/test_sync.py::test_duplicate_push_after_a_lost_answer_applies_once",),
    ),
    Guard(
        "a stale tablet cannot reopen a closed order: no move out of closed",
        "inspection/rectification/rules.py",
        "    (OrderState.closed, Action.resume): OrderState.closed,\n",
        "    (OrderState.closed, Action.resume): OrderState.closed,\n"
        "    (OrderState.closed, Action.respond): OrderState.responded,\n",
        ("tests/sync/test_order_sync.py::test_stale_tablets_cannot_reopen_a_closed_order",),
    ),
    Guard(
        "every route needs a token unless marked public",
        "api/deps.py",
        '    if handler.opt.get("public"):\n        return\n    token =',
        "    if True:\n        return\n    token =",
        ("tests/projects/test_authorisation_matrix.py::test_every_route_needs_a_token_unless_marked_public",),
    ),
    Guard(
        "security headers: no-store unless the answer sets its own caching",
        "api/security.py",
        '        headers.append((b"cache-control", b"no-store"))',
        "        pass",
        ("tests/security/test_basics.py",),
    ),
    Guard(
        "security headers: nosniff on every answer",
        "api/security.py",
        '    (b"x-content-type-options", b"nosniff"),\n',
        "",
        ("tests/security/test_basics.py",),
    ),
    Guard(
        "a reused refresh token revokes the device session",
        "inspection/projects/auth.py",
        "        await self._revoke_reused(reused, device_id)\n",
        "",
        ("tests/security/test_refresh_reuse.py",),
    ),
    Guard(
        "session cookie Secure from mode and the browser's own scheme",
        "api/portal/cookies.py",
        '    if mode != "dev" or came_over_https(scheme, peer, forwarded_proto, trusted_proxies):',
        '    if mode != "dev":',
        ("tests/security/test_session_cookie.py",),
    ),
    Guard(
        "evidence that is not an image is an attachment",
        "inspection/evidence/rules.py",
        'how = "inline" if content_type in INLINE_TYPES else "attachment"',
        'how = "inline"',
        ("tests/evidence/test_serving.py",),
    ),
    Guard(
        "evidence answers carry a sandbox CSP",
        "api/security.py",
        "        headers.append(_EVIDENCE_CSP)",
        "        pass",
        ("tests/evidence/test_serving.py",),
    ),
    Guard(
        "knowing a photo's hash gives nothing: filings filtered by entitlement",
        "inspection/evidence/links.py",
        "    found = [r for r in rows if await entitled(actor, r)]",
        "    found = list(rows)",
        ("tests/evidence/test_hash_knowledge.py",),
    ),
    Guard(
        "complaints reach the office roles only: the office bucket",
        "inspection/sync/service.py",
        "        if acc.has(*OFFICE_ROLES):",
        "        if True:",
        ("tests/security/test_sync_matches_rest.py",),
    ),
    Guard(
        "rate limits: an event over the window's count waits",
        "inspection/projects/ratelimit.py",
        "        if len(rows) < window.max_events:\n            return None",
        "        if True:\n            return None",
        ("tests/api/test_rate_limits.py",),
    ),
    Guard(
        "CSV cells starting a formula are neutralised",
        "inspection/csvsafe.py",
        "    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):",
        "    if False:",
        ("tests/security/test_csv_injection.py",),
    ),
    Guard(
        "order moves: an illegal move is refused",
        "inspection/rectification/rules.py",
        "    nxt = TRANSITIONS.get((state, action))\n    if nxt is None:",
        "    nxt = TRANSITIONS.get((state, action), state)\n    if nxt is None:",
        ("tests/sync/test_order_sync.py::test_stale_tablets_cannot_reopen_a_closed_order",),
    ),
    Guard(
        "nobody can lock another out: failures counted per account and address",
        "inspection/projects/auth.py",
        '    return f"login-account:{client}|{username.lower()}"',
        '    return f"login-account:{client}"',
        ("tests/security/test_login_lockout.py",),
    ),
    Guard(
        "a webhook reaches no internal address",
        "inspection/notifications/rules.py",
        "        return None\n    return UrlProblem.private",
        "        return None\n    return None",
        ("tests/alerts/test_webhook_targets.py",),
    ),
    Guard(
        "each event tells exactly its people: an order issued tells its contractor",
        "inspection/rectification/service.py",
        "    if spec.issue:\n        await notices.issued(w, order, actor.user_id)\n",
        "",
        ("tests/notifications/test_events.py::test_an_orders_moves_tell_each_party_once",),
    ),
    Guard(
        "a person's choice per kind: mandatory kinds are told whatever was chosen",
        "inspection/notifications/outbox.py",
        "    if kind in MANDATORY or not users:",
        "    if not users:",
        ("tests/notifications/test_events.py::test_a_stop_and_its_resumption_tell_contractor_owner_and_station",),
    ),
    Guard(
        "a person's choice per kind: mandatory kinds cannot be switched off",
        "inspection/notifications/service.py",
        "            if kind in MANDATORY and mode is not Mode.immediate:",
        "            if False:",
        ("tests/notifications/test_preferences.py::test_refusals_name_the_field_and_change_nothing",),
    ),
    Guard(
        "a person's choice per kind: the personal digest goes out once a day",
        "inspection/notifications/digest.py",
        "            occurrence=today.toordinal(),",
        "            occurrence=len(items),",
        ("tests/notifications/test_preferences.py::test_the_daily_digest_once_at_the_chosen_time_by_email",),
    ),
    Guard(
        "PostgreSQL down: 503 with Retry-After, never 500",
        "api/errors.py",
        "    **dict.fromkeys(DATABASE_DOWN, database_down_handler),\n",
        "",
        ("tests/reliability/test_database_restart.py",),
        database="postgres",
    ),
    Guard(
        "a photo is counted only when the server hashed its bytes",
        "inspection/evidence/service.py",
        "            if digest != sha256:\n                raise ValidationFailed(\n"
        '                    t("evidence.body_s_sha_256_not_url"',
        "            if False:\n                raise ValidationFailed(\n"
        '                    t("evidence.body_s_sha_256_not_url"',
        ("tests/evidence/test_bad_input.py",),
    ),
    Guard(
        "problem answers in English when Accept-Language prefers it",
        "inspection/messages/__init__.py",
        "    return best[2] if best else DEFAULT_LANG",
        "    return DEFAULT_LANG",
        ("tests/api/test_languages.py",),
    ),
    Guard(
        "hostile input: a NUL character is refused naming its field",
        "inspection/records.py",
        '        if isinstance(value, str) and "\\x00" in value:',
        "        if False:",
        ("tests/security/test_hostile_input.py",),
    ),
    Guard(
        "a stalled request body is cut off with 408",
        "api/security.py",
        "                async with asyncio.timeout(max(wait, 0)):",
        "                async with asyncio.timeout(None):",
        ("tests/security/test_slow_clients.py",),
        timeout_s=300,
    ),
    Guard(
        "a report that renders too long is stopped at the limit",
        "inspection/reports/pool.py",
        "            async with asyncio.timeout(self.timeout_s):",
        "            async with asyncio.timeout(None):",
        ("tests/reports/test_render_limits.py",),
        timeout_s=900,
    ),
    Guard(
        "SIGTERM ends the server within the grace period",
        "inspection/cli.py",
        "                timeout_graceful_shutdown=settings.server.shutdown_grace_s,",
        "                timeout_graceful_shutdown=None,",
        ("tests/test_serve.py",),
        timeout_s=600,
    ),
    Guard(
        "a tablet command stores nothing the REST API would refuse: strict decoding",
        "inspection/sync/commands/base.py",
        "        return msgspec.convert(args, shape, strict=True)",
        "        return msgspec.convert(args, shape, strict=False)",
        ("tests/sync/test_commands.py",),
    ),
    Guard(
        "no route shows another project's records: membership required",
        "inspection/projects/access.py",
        "    if not exists or (not roles and not actor.is_admin):",
        "    if False:",
        ("tests/security/test_route_sweep.py",),
    ),
    Guard(
        "documents issued at once get distinct numbers: the counter row is locked",
        "inspection/reports/register.py",
        '    lock = "" if db.is_sqlite() else " FOR UPDATE"\n    sql = "SELECT last FROM document_counter',
        '    lock = ""\n    sql = "SELECT last FROM document_counter',
        (f"{RACES}::test_concurrent_documents_get_distinct_numbers",),
        database="postgres",
    ),
    Guard(
        "a transaction writes to one project unless it says so",
        "inspection/changefeed/pending.py",
        "                    raise ProjectSwitch(scope)",
        "                    pass",
        ("tests/changefeed/test_partition.py",),
    ),
    Guard(
        "two moves of one order at once: the update compares its version",
        "inspection/records.py",
        """WHERE "{key}" = {{}} AND "version" = {{}}'""",
        """WHERE "{key}" = {{}} AND {{}} IS NOT NULL'""",
        (f"{RACES}::test_two_moves_of_one_order_one_wins",),
        database="postgres",  # on SQLite one writer at a time: the service's version check decides
    ),
    Guard(
        "a membership removed during its member's write waits for it",
        "inspection/projects/access.py",
        '_ROLES + share_lock("m"), project_id',
        "_ROLES, project_id",
        (f"{RACES}::test_a_membership_removed_during_a_write_waits_for_it",),
        database="postgres",
    ),
    Guard(
        "a lot above GB 50300 table 3.0.9 is refused",
        "inspection/checklists/scoring.py",
        "            return min(int(size), lot_capacity)\n    raise LotCapacityError(LOT_TOO_LARGE)",
        "            return min(int(size), lot_capacity)\n    return 3200",
        ("tests/checklists/test_scoring.py", "tests/checklists/test_api.py"),
    ),
    Guard(
        "a failed lot in the structure is never returned",
        "inspection/samples/rules.py",
        '    if kind not in IN_STRUCTURE_KINDS:\n        return "kind", (',
        '    if False:\n        return "kind", (',
        ("tests/samples/test_rules.py", "tests/samples/test_lots.py"),
    ),
    Guard(
        "a hold point refuses the next step until it passed",
        "inspection/checklists/supervision.py",
        '                if violation_mode() == "refuse":',
        "                if False:",
        ("tests/checklists/test_work_types.py",),
    ),
    Guard(
        "HEIC photos from iPhones are accepted",
        "inspection/evidence/images.py",
        "pillow_heif.register_heif_opener()\n",
        "",
        ("tests/evidence/test_images.py",),
    ),
    Guard(
        "a household's survey answer is read by the office roles only",
        "inspection/programme/survey.py",
        '        if not await may_read_answers(actor, site["project"]):',
        "        if False:",
        ("tests/programme/test_survey.py",),
    ),
    Guard(
        "ten tablets pushing an edit of one site all apply: a lost race reads the record locked",
        "inspection/records.py",
        '        sql += "" if db.is_sqlite() else " FOR UPDATE"',
        '        sql += ""',
        ("tests/sync/test_contention.py::test_ten_tablets_editing_one_site_all_apply",),
        database="postgres",
    ),
    Guard(
        "two pushes locking two buildings in opposite orders: a deadlock's victim runs again",
        "inspection/db.py",
        'TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})',
        'TRANSIENT_SQLSTATES = frozenset({"40001"})',
        ("tests/sync/test_contention.py::test_two_pushes_locking_two_buildings_in_opposite_orders",),
        database="postgres",
    ),
    Guard(
        "a pulled row says what the stored row says: a REAL as Python reads it",
        "inspection/sync/registry.py",
        "    Real: \"CASE WHEN {c} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE CAST({c} AS DOUBLE PRECISION) END\",",  # noqa: E501 (the guarded line, verbatim)
        '    Real: "{c}",',
        ("tests/sync/test_pull_json.py",),
        database="postgres",
    ),
    Guard(
        "a finalised month is read from its revision, never recomputed",
        "inspection/programme/evaluation.py",
        '        frozen = json.loads(revision["figures"])',
        "        frozen = await compute(programme_id, Period.of_month(month, now))",
        ("tests/programme/test_evaluation.py",),
    ),
    Guard(
        "the object store down: 503 with Retry-After",
        "inspection/evidence/store.py",
        "        except BotoCoreError as exc:\n            raise unavailable(what, exc) from exc",
        "        except BotoCoreError:\n            raise",
        ("tests/evidence/test_outage.py",),
    ),
    Guard(
        "sync conflicts: seen and resolved only by the project's supervisors and inspectors",
        "inspection/sync/resolution.py",
        "        if project_id is None or not (await project_access(actor, project_id)).has(*RESOLVING_ROLES):",
        "        if project_id is None:",
        ("tests/portal/test_conflict_pages.py::test_other_members_and_outsiders_get_404",),
    ),
    Guard(
        "sync conflicts: keeping the overwritten value goes through the record's own rules",
        "inspection/sync/resolution.py",
        "                await self._apply(actor, row)\n",
        "",
        (
            "tests/portal/test_conflict_pages.py::test_keeping_the_overwritten_value_writes_it_back",
            "tests/portal/test_conflict_pages.py::test_refusals_are_chinese_and_leave_nothing_behind",
        ),
    ),
    Guard(
        "no English on any portal page: an escalation's internal note stays off the order page",
        "api/portal/templates/order.html",
        "{% if e.reason and e.action != 'escalate' %}",
        "{% if e.reason %}",
        ("tests/portal/test_chinese_walk.py::test_every_page_each_demo_role_reaches_reads_chinese",),
    ),
    # The tablet app: its unit tests run under node, its browser tests on the app built from the
    # mutated sources (scripts/guard_check.py builds it).
    Guard(
        "tablet: a pull page and its cursor in one local transaction (a page failing half-way leaves nothing)",
        "tablet/src/lib/store.js",
        "        tx.abort();\n",
        "",
        ("tablet/test/store.test.mjs",),
    ),
    Guard(
        "tablet: a pull page's cursor is written with its rows, never before them",
        "tablet/src/lib/store.js",
        "  async applyPage(user, page) {\n",
        "  async applyPage(user, page) {\n"
        "    await this.db.put('meta', { user, key: 'cursor', value: page.cursor });\n",
        ("tablet/test/store.test.mjs",),
    ),
    Guard(
        "tablet: the outbox is numbered per user and a number is never used twice",
        "tablet/src/lib/store.js",
        "const seq = Math.max(made, last ? last.value.seq : 0) + 1;",
        "const seq = (last ? last.value.seq : 0) + 1;",
        ("tablet/test/store.test.mjs",),
    ),
    Guard(
        "tablet never loses an answer: a photo refused for good is taken out of the change citing it",
        "tablet/src/lib/sync.js",
        "      if (entry.sent || !citedPhotos(entry.mutation).includes(p.sha256)) continue;",
        "      continue;",
        ("tablet/test/sync.test.mjs",),
    ),
    Guard(
        "tablet never loses an answer: a new version waits while an inspection is open",
        "tablet/src/lib/updater.js",
        "    if (this.busy || !reg || !reg.waiting) return;",
        "    if (!reg || !reg.waiting) return;",
        ("tests/tablet/test_sync_cases.py::test_a_new_version_waits_until_no_inspection_is_open",),
    ),
    Guard(
        "tablet: the app opens offline (the service worker answers its pages from the cache)",
        "tablet/src/sw.js",
        "caches.open(CACHE).then(async (cache) => (await cache.match(SCOPE)) || fetch(request)),",
        "fetch(request),",
        ("tests/tablet/test_offline.py",),
    ),
    # The layout of reports (the QR row has no guard: WeasyPrint fits a QR code's SVG to the box the
    # stylesheet gives it however segno sizes it, and a smaller quiet zone still reads on a white
    # page; tests/reports/test_layout.py::test_the_qr_check_fails_on_a_cropped_code shows the
    # decoder check can fail)
    Guard(
        "report layout: the signature block is never alone on a page",
        "pdf_templates/report.css",
        ".closing { break-inside: avoid; break-before: avoid; }",
        ".closing { }",
        ("tests/reports/test_layout.py::test_signatures_are_never_alone_on_a_page",),
    ),
    Guard(
        "tablets' cursors from before scopes pull on after the migration: scopes start at the old counter",
        "inspection/changefeed/migrations/changefeed_2026_12_01t09_02_00_000000.py",
        "                scope,\n                counter,\n                scope_seed(",
        "                scope,\n                0,\n                scope_seed(",
        ("tests/changefeed/test_migration.py",),
    ),
)
