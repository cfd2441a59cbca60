"""A model of the change feed, checked by Hypothesis: random writes (creates, renames, deletes,
some across two projects), random pulls page by page with random page sizes. A reader sees
exactly the live records of its projects once a pull that no write overlapped is complete,
never a record of a project it is not in, and never half of a transaction's creates."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from inspection.actor import SYSTEM
from inspection.projects.tables import Building
from inspection.records import context_buckets, write
from tests.changefeed.conftest import Tablet, make_land

STEPS = 30
EXAMPLES = 20


async def test_the_feed_matches_a_model_of_it(app, clock) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    class Feed(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # each example its own projects: the reader is in three, not the fourth, whose
            # records must never show
            self.land = run(make_land(app, projects_in=4, member_of=3))
            self.member = self.land.projects[:3]
            self.live: dict[str, tuple[UUID, str]] = {}  # what the database holds: id -> (project, name)
            self.together: list[set[str]] = []  # ids made in one transaction
            self.changed: set[str] = set()  # ids changed or deleted after they were made
            self.tablet = Tablet(self.land)
            self.pulling = False
            self.overlapped = False  # a write since the pull under way began
            self.names = 0

        def _name(self) -> str:
            self.names += 1
            return f"b{self.names}"

        def _wrote(self) -> None:
            self.overlapped = self.pulling

        @rule(project=st.sampled_from(range(4)), count=st.integers(1, 3))
        def create(self, project: int, count: int) -> None:
            async def go() -> None:
                made = set()
                async with write(SYSTEM, clock) as w:
                    for _ in range(count):
                        name = self._name()
                        rid = await self.land.add_building(w, self.land.projects[project], name)
                        made.add(rid)
                        self.live[rid] = (self.land.projects[project], name)
                self.together.append(made)

            run(go())
            self._wrote()

        @rule(first=st.sampled_from(range(4)), second=st.sampled_from(range(4)))
        def create_across(self, first: int, second: int) -> None:
            async def go() -> None:
                made = set()
                async with write(SYSTEM, clock) as w:
                    w.allow_projects(self.land.projects[first], self.land.projects[second])
                    for p in (first, second):
                        name = self._name()
                        rid = await self.land.add_building(w, self.land.projects[p], name)
                        made.add(rid)
                        self.live[rid] = (self.land.projects[p], name)
                self.together.append(made)

            run(go())
            self._wrote()

        @precondition(lambda self: bool(self.live))
        @rule(pick=st.integers(0, 1000), delete=st.booleans())
        def change(self, pick: int, delete: bool) -> None:
            live = self.live
            rid = sorted(live)[pick % len(live)]
            project, _ = self.live[rid]
            self.changed.add(rid)

            async def go() -> None:
                async with write(SYSTEM, clock) as w:
                    if delete:
                        await w.tombstone(Building, UUID(rid), context_buckets(project))
                        del self.live[rid]
                    else:
                        name = self._name()
                        await w.update(Building, UUID(rid), {"name": name}, context_buckets(project))
                        self.live[rid] = (project, name)

            run(go())
            self._wrote()

        @rule(limit=st.integers(1, 5))
        def page(self, limit: int) -> None:
            if not self.pulling:
                self.pulling, self.overlapped = True, False
            more = run(self.tablet.page(limit))
            if not more:
                self.pulling = False
                if not self.overlapped:
                    self.check_complete()

        @rule()
        def pull(self) -> None:
            """Finish the pull under way; if a write overlapped it, what changed meanwhile comes with
            the next one: pull again."""
            run(self.tablet.pull(limit=7))
            if self.pulling and self.overlapped:
                run(self.tablet.pull(limit=7))
            self.pulling = False
            self.check_complete()

        def check_complete(self) -> None:
            mine = {rid: name for rid, (project, name) in self.live.items() if project in self.member}
            assert self.tablet.rows == mine

        @invariant()
        def only_its_projects(self) -> None:
            others = {rid for rid, (project, _) in self.live.items() if project not in self.member}
            assert not others & set(self.tablet.rows)

        @invariant()
        def no_half_transactions(self) -> None:
            if self.pulling:
                return
            held = set(self.tablet.rows)
            for made in self.together:
                # records created together and never changed since: a complete pull has all of
                # them or none (a record changed since is sent with its later change)
                visible = {rid for rid in made - self.changed if self.live[rid][0] in self.member}
                assert not (visible & held) or visible <= held

    config = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    await asyncio.to_thread(run_state_machine_as_test, Feed, settings=config)
