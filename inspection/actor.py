"""The acting user (or the system) that every service call receives."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UUID | None
    username: str
    organisation_id: UUID | None = None
    organisation_kind: str | None = None
    is_admin: bool = False
    device_id: str = ""
    session_id: UUID | None = None
    # server time minus the device's clock, measured on this request when it carried the device's
    # time (sync pushes): device times it reports are corrected by it. None when not measured.
    clock_skew_ms: int | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None


SYSTEM = Actor(user_id=None, username="system", is_admin=True, device_id="server")
