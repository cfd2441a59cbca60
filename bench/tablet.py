# ruff: noqa: E501 - benchmark driver: embedded template and page scripts
"""Tablet app benchmark (issue 16): the app in Debian's Chromium, headless, against a real server
process on 127.0.0.1 with the 20,000-row project of bench/sync.py.

    make tablet && .venv/bin/python bench/tablet.py [--rows 20000] [--items 60]

Measures: the first sync into the browser's storage (the app's pull, and from the sign-in click
to synced) against the reference client (inspection/sync/client.py) pulling the same data in the
same run, at the app's page size and at bench/sync.py's; opening an inspection of 60 answered
items; loading the app shell offline from its service worker; the JavaScript and CSS transferred
(gzipped); the JS heap after the first sync. The last line printed is one JSON object.
Goals: first sync ≤ 10 s and ≤ 2× the reference; opening ≤ 300 ms; shell ≤ 1 s; ≤ 300 KB; ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspection.tools.devserver import DevServer  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "bench" / "sync.py")
assert _spec and _spec.loader
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)

CHROMIUM = os.environ.get("SITEINSPECT_CHROMIUM") or "/usr/bin/chromium"
DIST = ROOT / "tablet" / "dist"
APP_PAGE = {"limit": 2500, "max_bytes": 6_000_000}  # what tablet/src/lib/sync.js asks for


def template_toml(items: int) -> str:
    """A pass/fail checklist of `items` items in sections of ten: a long site inspection."""
    sections = (items + 9) // 10
    out = [
        'code = "bench-long-passfail"',
        'kind = "passfail"',
        'title = "基准：长检查表"',
        'standard = "bench"',
        'source = "bench/tablet.py"',
        "[scoring]",
    ]
    for s in range(sections):
        out += ["[[sections]]", f'code = "s{s + 1}"', f'title = "第{s + 1}部分"']
    for i in range(items):
        out += [
            "[[items]]",
            f'code = "P{i + 1}"',
            f'section = "s{i // 10 + 1}"',
            f'text = "检查项 {i + 1}：临边防护、用电、消防等现场情况符合要求"',
            'class = "check"',
            'answer = "pass_fail"',
            f"photo_on_failure = {'true' if i % 3 == 0 else 'false'}",
        ]
    return "\n".join(out) + "\n"


SHELL_WATCH = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-testid=statusbar]')) {
    window.__shellMs = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""

OPEN_INSPECTION = """
async ([id, count]) => {
  location.hash = '#/';
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  location.hash = `#/inspection/${id}`;
  await new Promise((resolve) => {
    const check = () => (document.querySelectorAll('[data-testid=item]').length >= count ? resolve() : requestAnimationFrame(check));
    check();
  });
  // the frame that shows them
  await new Promise((r) => requestAnimationFrame(() => r()));
  return performance.now() - t0;
}
"""


async def reference_pull(http: Any, tmp: Path, user: str, name: str, page_limit: int) -> dict[str, Any]:
    from inspection.sync.client import TabletClient

    client = TabletClient(http, str(tmp / f"{name}.sqlite3"), f"bench-{name}", page_limit=page_limit)
    await client.login(user, bench_sync.PASSWORD)
    start = time.perf_counter()
    report = await client.pull()
    seconds = time.perf_counter() - start
    client.close()
    return {"s": round(seconds, 3), "pages": report.pulled_pages, "rows": report.upserts}


def prepare(rows: int, items: int) -> tuple[Path, str, dict[str, str], dict[str, Any]]:
    """A fresh database with the bench/sync.py project and a checklist of `items` items."""
    if not (DIST / "index.html").exists():
        raise SystemExit("build the tablet app first: make tablet")
    tmp = Path(tempfile.mkdtemp(prefix="si-bench-tablet-"))
    db_url = os.environ.get("SITEINSPECT_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = bench_sync.base_env(db_url, tmp)
    env["SITEINSPECT_TABLET_DIST_DIR"] = str(DIST)
    env["SITEINSPECT_SCHEDULER_ENABLED"] = "false"
    seeded = bench_sync.run_py(bench_sync.SEED, env, str(rows), "3", bench_sync.PASSWORD)
    template = tmp / "bench-long.toml"
    template.write_text(template_toml(items), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "inspection.cli", "templates", "import", str(template)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tmp, db_url, env, seeded


async def run(rows: int, items: int) -> dict[str, Any]:
    import httpx
    from playwright.async_api import async_playwright

    tmp, db_url, env, seeded = prepare(rows, items)
    server = DevServer(env).start()
    result: dict[str, Any] = {"engine": "postgres" if db_url.startswith("postgres") else "sqlite", "rows": rows}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            ref_app = await reference_pull(http, tmp, seeded["users"][1], "ref-app-page", APP_PAGE["limit"])
            ref_bench = await reference_pull(http, tmp, seeded["users"][2], "ref-1000", 1000)
            # an inspection of `items` answered items for the user the app signs in as
            r = await http.post(
                "/api/v1/auth/login",
                json={"username": seeded["users"][0], "password": bench_sync.PASSWORD, "device_id": "bench-setup"},
            )
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await http.post(
                "/api/v1/inspections/",
                json={
                    "project_id": seeded["project"],
                    "site_id": seeded["site"],
                    "template_code": "bench-long-passfail",
                },
                headers=headers,
            )
            assert r.status_code == 201, r.text
            iid = r.json()["inspection"]["id"]
            answers = [{"item_code": f"P{i + 1}", "value": "pass"} for i in range(items)]
            r = await http.put(f"/api/v1/inspections/{iid}/answers", json={"answers": answers}, headers=headers)
            assert r.status_code == 200, r.text

        async with async_playwright() as pw:
            ctx = await pw.chromium.launch_persistent_context(
                str(tmp / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox"],
                base_url=server.url,
                viewport={"width": 1280, "height": 800},
                locale="zh-CN",
            )
            ctx.set_default_timeout(120_000)
            await ctx.add_init_script(SHELL_WATCH)
            page = ctx.pages[0] if ctx.pages else await ctx.new_page()
            await page.goto("/tablet/")
            assets = await page.evaluate(
                "performance.getEntriesByType('resource').filter(e => /\\/tablet\\/assets\\/.*\\.(js|css)$/.test(e.name))"
                ".map(e => ({name: e.name, transferred: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"
            )
            await page.get_by_label("用户名").fill(seeded["users"][0])
            await page.get_by_label("密码").fill(bench_sync.PASSWORD)
            start = time.perf_counter()
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_function(
                "() => siteinspect.tablet.lastPull && !siteinspect.tablet.status.syncing", timeout=300_000
            )
            total_s = time.perf_counter() - start
            pulled = await page.evaluate("() => siteinspect.tablet.lastPull")
            stored = await page.evaluate("() => siteinspect.store.countRows(siteinspect.tablet.user)")
            cdp = await ctx.new_cdp_session(page)
            await cdp.send("HeapProfiler.collectGarbage")
            heap = await cdp.send("Runtime.getHeapUsage")

            opened = [await page.evaluate(OPEN_INSPECTION, [iid, items]) for _ in range(7)]

            await page.evaluate("navigator.serviceWorker.ready")
            await ctx.set_offline(True)
            shells = []
            for _ in range(5):
                await page.goto("/tablet/#/")
                await page.wait_for_selector("[data-testid=statusbar]")
                shells.append(await page.evaluate("window.__shellMs"))
            offline_label = await page.get_by_test_id("net").inner_text()
            await ctx.close()

        js_css = sum(a["encoded"] for a in assets)
        result.update(
            first_sync_s=round(pulled["ms"] / 1000, 3),
            first_sync_total_s=round(total_s, 3),
            first_sync_pages=pulled["pages"],
            first_sync_wait_s=round(pulled["waitMs"] / 1000, 3),
            first_sync_apply_s=round(pulled["applyMs"] / 1000, 3),
            first_sync_rows=pulled["upserts"],
            rows_stored=stored,
            reference_s=ref_app["s"],
            reference_pages=ref_app["pages"],
            reference_page1000_s=ref_bench["s"],
            ratio_to_reference=round(pulled["ms"] / 1000 / ref_app["s"], 2),
            open_inspection_ms=round(statistics.median(opened), 1),
            open_inspection_items=items,
            shell_offline_ms=round(statistics.median(shells), 1),
            shell_offline_shown=offline_label,
            js_css_transferred_kb=round(js_css / 1024, 1),
            js_css_decoded_kb=round(sum(a["decoded"] for a in assets) / 1024, 1),
            js_heap_mb=round(heap["usedSize"] / 1024 / 1024, 1),
        )
        result["goals_met"] = {
            "first_sync_10s": result["first_sync_s"] <= 10,
            "first_sync_2x_reference": result["ratio_to_reference"] <= 2,
            "open_inspection_300ms": result["open_inspection_ms"] <= 300,
            "shell_offline_1s": result["shell_offline_ms"] <= 1000,
            "js_css_300kb": result["js_css_transferred_kb"] <= 300,
            "heap_150mb": result["js_heap_mb"] <= 150,
        }
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=60)
    args = parser.parse_args()
    result = asyncio.run(run(args.rows, args.items))
    for key, value in result.items():
        if key != "goals_met":
            print(f"{key:28} {value}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
