"""Organisation kinds and roles: utility operators (专业经营单位) hold work like contractors."""

from __future__ import annotations

import pytest

from inspection.projects.rules import WORK_PARTY_KINDS, OrgKind, Role, role_problem


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        (Role.contractor, OrgKind.contractor, True),
        # the gas, water, power, heating and telecom companies move their own networks in a
        # renovation: their staff answer for their work items as the responsible party
        (Role.contractor, OrgKind.utility, True),
        (Role.contractor, OrgKind.property, False),
        # a utility operator does not supervise or inspect
        (Role.supervisor, OrgKind.utility, False),
        (Role.inspector, OrgKind.utility, False),
        (Role.viewer, OrgKind.utility, True),
    ],
)
def test_roles_by_organisation_kind(role: Role, kind: OrgKind, allowed: bool) -> None:
    assert (role_problem(role, kind) is None) is allowed


def test_work_items_belong_to_contractors_and_utility_operators() -> None:
    assert frozenset({OrgKind.contractor, OrgKind.utility}) == WORK_PARTY_KINDS
