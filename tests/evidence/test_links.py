"""Linking evidence to records: announce first, link within the record's transaction, read access
follows the records that cite it."""

from __future__ import annotations

import hashlib
from uuid import UUID

import pytest

from inspection.actor import SYSTEM, Actor
from inspection.errors import Conflict, ValidationFailed
from inspection.evidence import links
from inspection.evidence.tables import Evidence, EvidenceLink
from inspection.records import new_id, write
from tests.factories import World


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def actor_of(world: World, who: str) -> Actor:
    u = world.users[who]
    org = next((o for o in world.orgs.values() if o.id == u.organisation_id), None)
    return Actor(
        user_id=u.id,
        username=u.username,
        organisation_id=u.organisation_id,
        organisation_kind=org.kind.value if org else None,
    )


async def test_announce_link_and_list(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    record = new_id()
    p1 = world.id_of("p1")
    async with write(SYSTEM, clock) as w:
        first = await links.announce(w, sha("a"), project_id=p1, organisation_id=None, content_type="image/jpeg")
        again = await links.announce(w, sha("a"), project_id=p1, organisation_id=None)
        assert first["id"] == again["id"]
        await links.announce(w, sha("b"), project_id=p1, organisation_id=None)
        await links.attach(w, [sha("a"), sha("b"), sha("a")], record_table="thing", record_id=record, project_id=p1)
    async with write(SYSTEM, clock) as w:  # linking again adds nothing
        await links.attach(w, [sha("a")], record_table="thing", record_id=record, project_id=p1)
    listed = await links.linked("thing", [record])
    assert [e.sha256 for e in listed[record]] == [sha("a"), sha("b")]
    assert all(e.status == "pending" for e in listed[record])
    assert await links.pending_among([sha("a")]) == [sha("a")]
    with pytest.raises(Conflict):
        await links.require_stored([sha("a"), sha("b")])
    await Evidence.update({Evidence.status: "stored"}).where(Evidence.sha256.is_in([sha("a"), sha("b")]))
    await links.require_stored([sha("a"), sha("b")])


@pytest.mark.parametrize(
    ("value", "why"),
    [("x" * 64, "not hex"), (sha("z").upper(), "upper case"), ("../../etc/passwd", "path"), (sha("never"), "unknown")],
)
async def test_bad_links_write_nothing(world: World, clock, value: str, why: str) -> None:  # type: ignore[no-untyped-def]
    before = await EvidenceLink.count()
    with pytest.raises(ValidationFailed) as info:
        async with write(SYSTEM, clock) as w:
            await links.attach(w, [value], record_table="thing", record_id=new_id(), project_id=world.id_of("p1"))
    assert info.value.field == "photos", why
    assert await EvidenceLink.count() == before


async def test_evidence_of_another_project_is_refused(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    async with write(SYSTEM, clock) as w:
        await links.announce(w, sha("p2"), project_id=world.id_of("p2"), organisation_id=None)
    with pytest.raises(ValidationFailed):
        async with write(SYSTEM, clock) as w:
            await links.attach(w, [sha("p2")], record_table="thing", record_id=new_id(), project_id=world.id_of("p1"))


async def test_read_access_follows_the_citing_record(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    owned_by_a = new_id()

    async def contractor_a_only(actor: Actor, record_id: UUID) -> bool:
        return record_id == owned_by_a and actor.organisation_id == world.orgs["contractor_a"].id

    links.register_reader("test_record", contractor_a_only)
    async with write(actor_of(world, "inspector"), clock) as w:
        await links.announce(w, sha("photo"), project_id=world.id_of("p1"), organisation_id=None)
        await links.attach(
            w, [sha("photo")], record_table="test_record", record_id=owned_by_a, project_id=world.id_of("p1")
        )

    async def may_read(who: str, digest: str) -> bool:
        return bool(await links.readable_filings(actor_of(world, who), digest))

    assert await may_read("contractor_a", sha("photo"))
    assert not await may_read("contractor_b", sha("photo"))
    assert await may_read("inspector", sha("photo")), "the uploader reads their own photo"
    assert not await may_read("contractor_a", sha("unknown"))
