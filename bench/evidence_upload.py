"""Benchmark: one 50 MB upload through the API to the disk store.

Starts the real server (uvicorn in a subprocess on 127.0.0.1, a temporary SQLite database and
evidence folder, migrated), sends the body in 1 MiB pieces, and compares the throughput with the
floor: hashing and writing the same bytes in a plain loop in this process. Also reports how much
the server's resident memory grew (peak, from /proc/PID/status), which shows the body is streamed
and not held. Goals: ratio >= 0.5, growth <= 30 MB. The last line printed is one JSON object.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspection.projects.rules import CREDIT_CODE_ALPHABET, credit_code_check_char  # noqa: E402
from inspection.tools.devserver import DevServer  # noqa: E402

SIZE = 50 * 1000 * 1000
PIECE = 1024 * 1024
PASSWORD = "bench-password-2026"
RUNS = 5
GOAL_RATIO = 0.5
GOAL_GROWTH_MB = 30


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def document(size: int) -> bytes:
    """A PDF-shaped body of `size` bytes: a header, incompressible content, the end marker."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def pieces(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), PIECE):
        yield bytes(view[start : start + PIECE])


def floor_seconds(data: bytes, folder: Path) -> float:
    """Hash and write the same bytes in the same pieces, then fsync: what the server can't beat."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    with (folder / "floor.bin").open("wb") as f:
        for piece in pieces(data):
            digest.update(piece)
            f.write(piece)
        f.flush()
        os.fsync(f.fileno())
    digest.hexdigest()
    return time.perf_counter() - start


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="siteinspect-bench-"))
    try:
        measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path) -> None:
    env = {
        "SITEINSPECT_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "SITEINSPECT_STORAGE_BACKEND": "disk",
        "SITEINSPECT_STORAGE_DISK_ROOT": str(work / "evidence"),
        "SITEINSPECT_STORAGE_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
        "SITEINSPECT_SECURITY_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "SITEINSPECT_SECURITY_ARGON2_TIME_COST": "1",
        "SITEINSPECT_SECURITY_ARGON2_MEMORY_KIB": "8",
        "SITEINSPECT_SECURITY_ARGON2_PARALLELISM": "1",
        "SITEINSPECT_LOGGING_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "inspection.cli"]
    server = DevServer(env)
    run([*cli, "migrate"], server.env)
    run([*cli, "user", "create", "bench", "--admin", "--password", PASSWORD], server.env)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            token = client.post(
                "/api/v1/auth/login", json={"username": "bench", "password": PASSWORD, "device_id": "bench"}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            code = "91" + "".join(CREDIT_CODE_ALPHABET[i % 31] for i in range(15))
            org = client.post(
                "/api/v1/organisations",
                json={"name": "基准建设单位", "kind": "owner", "credit_code": code + credit_code_check_char(code)},
            ).json()
            project = client.post(
                "/api/v1/projects",
                json={"code": "BENCH-1", "name": "基准项目", "year": 2026, "owner_organisation_id": org["id"]},
            ).json()

            def upload(data: bytes) -> float:
                # http.client hands the whole body to the kernel in one sendall, so the client
                # costs little CPU: on a small machine it shares the cores with the server.
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                start = time.perf_counter()
                conn.request(
                    "PUT",
                    f"/api/v1/evidence/{hashlib.sha256(data).hexdigest()}?project_id={project['id']}",
                    body=data,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
                )
                response = conn.getresponse()
                text = response.read()
                elapsed = time.perf_counter() - start
                conn.close()
                assert response.status == 200, text
                return elapsed

            upload(document(2 * PIECE))  # warm-up: imports, first connection, first transaction
            fixed = min(upload(document(1024)) for _ in range(5))
            before = memory_kib(server.pid)
            # best of a few runs on each side: disk write-back makes single timings noisy
            runs = [document(SIZE) for _ in range(RUNS)]
            seconds = min(upload(data) for data in runs)
            after = memory_kib(server.pid)
    finally:
        server.stop(timeout_s=30)

    floor = min(floor_seconds(data, work) for data in runs)
    mb_s = SIZE / seconds / 1e6
    floor_mb_s = SIZE / floor / 1e6
    ratio = floor / seconds
    growth_mb = max(0, after["VmHWM"] - before["VmRSS"]) / 1024
    ok = ratio >= GOAL_RATIO and growth_mb <= GOAL_GROWTH_MB
    print(f"upload of {SIZE / 1e6:.0f} MB through the API (best of {RUNS}): {seconds:.2f} s, {mb_s:.0f} MB/s")
    print(f"floor (hash + write + fsync in one loop): {floor:.2f} s, {floor_mb_s:.0f} MB/s; ratio {ratio:.2f}")
    print(f"fixed cost of one upload (1 kB, best of 5): {fixed * 1000:.0f} ms")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} (client and server share them)")
    print(
        f"server memory: {before['VmRSS'] / 1024:.0f} MB before, peak {after['VmHWM'] / 1024:.0f} MB; "
        f"growth {growth_mb:.1f} MB (goal <= {GOAL_GROWTH_MB})"
    )
    print(
        json.dumps(
            {
                "bench": "evidence_upload",
                "bytes": SIZE,
                "seconds": round(seconds, 3),
                "mb_per_s": round(mb_s, 1),
                "floor_seconds": round(floor, 3),
                "floor_mb_per_s": round(floor_mb_s, 1),
                "ratio": round(ratio, 2),
                "fixed_ms": round(fixed * 1000, 1),
                "rss_growth_mb": round(growth_mb, 1),
                "cpus": os.cpu_count(),
                "load_avg_1m": round(load, 2),
                "goals": {"ratio_min": GOAL_RATIO, "rss_growth_mb_max": GOAL_GROWTH_MB},
                "ok": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
