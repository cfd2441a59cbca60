"""Schemathesis over the app's own OpenAPI document (`/schema/openapi.json`), signed in as every
role, against a real server process on 127.0.0.1:

- no answer is a 5xx;
- every answer is one the document describes (status, media type, headers, body schema);
- schema-valid requests are not refused as malformed (400), and malformed ones are refused;
- a member of another project, or a contractor of another company, never gets a 2xx for project
  P1's (contractor A's) records and never sees their ids in any answer.

Path and query parameters are seeded with real ids (the authorisation sweep's records) so that the
fuzzer reaches real rows, not only 404s. `make test` runs a bounded, deterministic number of
examples; `make fuzz` runs the same test with SITEINSPECT_FUZZ_EXAMPLES=500."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from inspection.tools.devserver import DevServer
from tests.alerts.helpers import app_allowing_loopback
from tests.factories import PEOPLE, World
from tests.security.test_route_sweep import CONTRACTOR_A_RECORDS, OWN, SHARED, _victims

# Examples per operation and generation mode (valid and invalid input); the intruders get a third as many.
EXAMPLES = int(os.environ.get("SITEINSPECT_FUZZ_EXAMPLES", "5"))
# Reports render a PDF per call (a second or so each): a tenth as many examples. Their inputs are a
# few ids, a kind and a week, which that many cover; their render limits are tests/reports' own.
SLOW = re.compile(r"^/api/v1/reports/")
SLOW_EXAMPLES = max(5, EXAMPLES // 10)
# `make fuzz` runs shards at once, each on a database and server of its own: "i/n" takes every
# n-th operation from the i-th (0/1, all of them, by default).
SHARD, SHARDS = (int(n) for n in os.environ.get("SITEINSPECT_FUZZ_SHARD", "0/1").split("/"))
ROLES = tuple(PEOPLE)
# The outsider belongs to project P2 only; contractor B shares P1 with contractor A.
INTRUDERS = ("outsider", "contractor_b")
# Signing out would end the fuzzing session, and every later request would be a 401. Sign-out is
# tested in tests/api/test_auth.py.
SKIP = {("POST", "/api/v1/auth/logout")}
# Never seeded: the sweep's device id is the one every test session signed in on, and revoking it
# (DELETE /auth/devices/{device_id}) would sign the fuzzer out like the route above.
NOT_SEEDED = {"device_id"}
# Query parameters seeded with the record of the path parameter named on the right.
QUERY_SEEDS = {
    "project_id": "project_id",
    "site_id": "site_id",
    "work_item_id": "work_item_id",
    "contractor_id": "org_id",
}

CONFIG_DATA: dict[str, Any] = {
    # The fuzzer signs in as a role and makes up no Authorization headers of its own; missing
    # and forged tokens are tests/api/test_auth.py's and the ignored_auth check's.
    "generation": {"with-security-parameters": False},
    "checks": {
        "positive_data_acceptance": {
            # 422: the domain refusing a well-formed request for a rule a JSON schema cannot state
            # (a credit code's check character, a device other than the session's, an order in the
            # wrong state). 415: a file type this server's image decoders cannot read, which
            # depends on what is installed. 400 stays a failure: the server and the document disagree.
            "expected-statuses": ["2xx", "401", "403", "404", "409", "415", "422", "429"]
        },
        "negative_data_rejection": {
            # schemathesis's list, plus 413: a body past the server's size limit (a megabyte of
            # cursor) is refused as too large before anyone reads what is wrong inside it
            "expected-statuses": [
                "400",
                "401",
                "403",
                "404",
                "405",
                "406",
                "409",
                "413",
                "415",
                "422",
                "428",
                "429",
                "5xx",
            ]
        },
    },
}
CONFIG = SchemathesisConfig.from_dict(CONFIG_DATA)

# msgspec documents Decimal fields as strings of format "decimal" and reads whatever Decimal() reads,
# NaN, sNaN, Infinity and 1E+999999 included: the domain must refuse those cleanly.
schemathesis.openapi.format("decimal", st.decimals().map(str))


def _intruded(who: str, path: str, seeded: set[str]) -> bool:
    """Whether `who` must not get a 2xx for this path with these parameters naming P1's records."""
    if who not in INTRUDERS or path in SHARED or path in OWN:
        return False
    records = seeded - {"point_code"}
    return bool(records & CONTRACTOR_A_RECORDS) if who == "contractor_b" else bool(records)


class Fuzz:
    """One run: the server, the records to seed, and every failure found, one per operation and check."""

    def __init__(self, world: World, base_url: str, victims: dict[str, Any]) -> None:
        self.world = world
        self.base_url = base_url
        self.params = {k: str(v) for k, v in victims["params"].items() if k not in NOT_SEEDED}
        self.secret: set[str] = victims["secret"]
        self.session = requests.Session()
        self.failures: dict[tuple[str, str], str] = {}
        self.calls = 0
        self.answers: Counter[str] = Counter()  # by status class, to show how deep the run reached

    def seeded(self, op: Any, mode: GenerationMode) -> Any | None:
        """Cases whose path (and filter) parameters name P1's records; None if the path names none.
        Seeded when generated, so schemathesis knows these values are valid."""
        path = {n: self.params[n] for n in re.findall(r"{(\w+)}", op.path) if n in self.params}
        if not path:
            return None
        names = {p.name for p in op.query}
        query = {n: self.params[source] for n, source in QUERY_SEEDS.items() if n in names}
        return op.as_strategy(generation_mode=mode, path_parameters=path, query=query or None)

    def run(self, case: Any, who: str) -> None:
        label = f"{case.method.upper()} {case.operation.path}"
        seeded = {n for n, v in (case.path_parameters or {}).items() if self.params.get(n) == v}
        self.calls += 1
        try:
            response = case.call_and_validate(
                base_url=self.base_url, session=self.session, headers=self.world.headers(who)
            )
        except (FailureGroup, requests.RequestException) as exc:
            for failure in getattr(exc, "exceptions", [exc]):
                title = getattr(failure, "title", type(failure).__name__)
                self.failures.setdefault((label, title), f"as {who}: {exc}"[:3000])
            return
        self.answers[f"{response.status_code // 100}xx"] += 1
        if _intruded(who, case.operation.path, seeded) and 200 <= response.status_code < 300:
            self.failures.setdefault(
                (label, "2xx for another party's record"), f"as {who}: {response.status_code} {response.text[:500]}"
            )
        if who in INTRUDERS:
            # a problem's `instance` and `detail` may echo the ids the caller itself sent
            answer = response.content.decode("utf-8", "replace")
            leaked = sorted(s for s in self.secret - {self.params[n] for n in seeded} if s in answer)
            if leaked:
                self.failures.setdefault(
                    (label, "another party's ids in the answer"), f"as {who}: {leaked} in {answer[:600]}"
                )

    @staticmethod
    def drive(strategy: Any, body: Callable[..., None], examples: int) -> None:
        @settings(
            max_examples=examples,
            derandomize=True,  # the same cases on every run, so CI is reproducible
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def test(drawn: Any) -> None:
            body(*drawn)

        try:
            test()
        except Unsatisfiable:
            pass  # nothing to make invalid: no parameters and no body, or all of them seeded

    def operation(self, op: Any) -> None:
        examples = SLOW_EXAMPLES if SLOW.match(op.path) else EXAMPLES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases = op.as_strategy(generation_mode=mode)
            seeded = self.seeded(op, mode)
            if seeded is not None:
                cases = st.one_of(cases, seeded)
            self.drive(st.tuples(cases, st.sampled_from(ROLES)), self.run, examples)
        # the intruders, every path parameter naming one of P1's records
        seeded = self.seeded(op, GenerationMode.POSITIVE)
        names = set(re.findall(r"{(\w+)}", op.path)) & set(self.params)
        for who in INTRUDERS:
            if seeded is not None and _intruded(who, op.path, names):
                self.drive(st.tuples(seeded, st.just(who)), self.run, max(2, examples // 3))


@pytest.fixture
def app(clock):  # type: ignore[no-untyped-def]
    """The app `_victims` writes through: it subscribes a webhook on loopback."""
    return app_allowing_loopback(clock)


async def test_fuzz_every_operation_as_every_role(world: World, app, clock) -> None:  # type: ignore[no-untyped-def]
    victims = await _victims(world, app, clock)
    server = DevServer()
    server.start()
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json", config=CONFIG)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 100
        fuzz = Fuzz(world, server.url, victims)
        started = time.monotonic()
        took: dict[str, float] = {}
        ordered = sorted(operations, key=lambda op: (op.path, op.method))
        for op in ordered[SHARD::SHARDS]:
            if (op.method.upper(), op.path) not in SKIP:
                began = time.monotonic()
                fuzz.operation(op)
                took[f"{op.method.upper()} {op.path}"] = time.monotonic() - began
        elapsed = time.monotonic() - started
        found = sorted(fuzz.failures.items())
        report = "\n\n".join(f"== {label}: {title}\n{example}" for (label, title), example in found)
        assert not found, f"{len(found)} failures in {fuzz.calls} calls:\n\n{report}"
        answers = ", ".join(f"{n} {status}" for status, n in sorted(fuzz.answers.items()))
        print(
            f"fuzz (shard {SHARD}/{SHARDS}): {len(took)} operations, {fuzz.calls} calls ({answers}) in {elapsed:.0f} s,"
            f" {EXAMPLES} examples per operation and mode ({SLOW_EXAMPLES} for reports)"
        )
        slowest = sorted(took.items(), key=lambda kv: -kv[1])[:8]
        print("fuzz: slowest operations: " + ", ".join(f"{label} {s:.0f} s" for label, s in slowest))
    finally:
        server.stop()
