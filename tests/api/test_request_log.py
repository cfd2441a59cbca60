"""One access line per request: method, route template, status, milliseconds, user, request id;
as text or as JSON by the logging.format setting."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from api.logs import JsonFormatter, RequestIdFilter
from tests.factories import World


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access() -> Iterator[Lines]:
    logger = logging.getLogger("siteinspect.access")
    lines = Lines()
    logger.addHandler(lines)
    was = logger.level
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(was)


async def test_a_line_per_request(world: World, access: Lines) -> None:
    pid = world.id_of("p1")
    access.records.clear()
    r = await world.get("inspector", f"/api/v1/projects/{pid}", params={"token": "never-logged"})
    assert r.status_code == 200
    [line] = access.records
    text = line.getMessage()
    assert text.startswith("GET /api/v1/projects/{project_id} 200 ")
    assert f"user={world.users['inspector'].id}" in text and " ms " in text
    assert str(pid) not in text and "never-logged" not in text  # the template, never the values
    assert line.request_id == r.headers["x-request-id"]  # type: ignore[attr-defined]
    entry = json.loads(JsonFormatter().format(line))
    assert entry["method"] == "GET" and entry["status"] == 200 and entry["path"] == "/api/v1/projects/{project_id}"
    assert entry["user_id"] == str(world.users["inspector"].id) and entry["ms"] >= 0
    assert entry["request_id"] == r.headers["x-request-id"]

    access.records.clear()
    r = await world.client.get("/no/such/route/<script>")
    assert r.status_code == 404
    [line] = access.records
    assert line.getMessage().startswith("GET (no route) 404 ") and "user=-" in line.getMessage()
    assert "<script>" not in line.getMessage()
