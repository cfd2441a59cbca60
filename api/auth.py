"""Sign in, refresh, sign out, and the devices signed in to an account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.deps import PROVIDERS, AuthenticatorDep, ProjectsDep
from inspection.actor import Actor
from inspection.projects import schemas as s
from inspection.projects.auth import IssuedTokens


class LoginIn(s.Input):
    # no control characters: no account has them, and PostgreSQL cannot even compare text with NUL
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=150, pattern=r"^[^\x00-\x1f\x7f]+$")]
    password: s.Password
    device_id: s.DeviceId


class RefreshIn(s.Input):
    refresh_token: Annotated[str, msgspec.Meta(min_length=16, max_length=200)]
    device_id: s.DeviceId


class TokensOut(s.Output):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    refresh_expires_at: datetime
    session_id: UUID


class LoginOut(TokensOut, kw_only=True):
    user: s.UserOut


class DeviceOut(s.Output):
    session_id: UUID
    device_id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


class RevokedOut(s.Output):
    device_id: str
    sessions_revoked: int


def _tokens(t: IssuedTokens) -> dict[str, Any]:
    return {
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "token_type": "Bearer",
        "expires_in": t.expires_in,
        "refresh_expires_at": t.refresh_expires_at,
        "session_id": t.session_id,
    }


class AuthController(Controller):
    path = "/auth"
    dependencies = {"authenticator": PROVIDERS["authenticator"], "projects": PROVIDERS["projects"]}
    tags = ["auth"]

    @post("/login", opt={"public": True}, status_code=HTTP_200_OK, operation_id="login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        authenticator: AuthenticatorDep,
        projects: ProjectsDep,
    ) -> LoginOut:
        """Sign in with a user name and password on one device; rate-limited per name and address."""
        client = request.client.host if request.client else "unknown"
        issued = await authenticator.login(
            data.username, data.password, data.device_id, client, request.headers.get("user-agent", "")
        )
        user = await projects.get_user(
            Actor(user_id=issued.user_id, username=data.username, is_admin=True), issued.user_id
        )
        return LoginOut(**_tokens(issued), user=user)

    @post("/refresh", opt={"public": True}, status_code=HTTP_200_OK, operation_id="refresh")
    async def refresh(self, data: JSONBody[RefreshIn], authenticator: AuthenticatorDep) -> TokensOut:
        """Swap a refresh token for a new pair; the old refresh token stops working."""
        return TokensOut(**_tokens(await authenticator.refresh(data.refresh_token, data.device_id)))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, operation_id="logout")
    async def logout(self, actor: NamedDependency[Actor], authenticator: AuthenticatorDep) -> None:
        """Sign this session out; its access and refresh tokens stop working at once."""
        if actor.session_id:
            await authenticator.revoke_session(actor.session_id)

    @get("/devices", operation_id="list_devices")
    async def devices(self, actor: NamedDependency[Actor], authenticator: AuthenticatorDep) -> list[DeviceOut]:
        """The devices signed in to this account."""
        assert actor.user_id
        rows = await authenticator.sessions(actor.user_id)
        return [
            DeviceOut(
                session_id=r["id"],
                device_id=r["device_id"],
                created_at=r["created_at"],
                last_used_at=r["last_used_at"],
                expires_at=r["expires_at"],
                user_agent=r["user_agent"],
                current=r["id"] == actor.session_id,
            )
            for r in rows
        ]

    @delete("/devices/{device_id:str}", status_code=HTTP_200_OK, operation_id="revoke_device")
    async def revoke_device(
        self,
        device_id: Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")],
        actor: NamedDependency[Actor],
        authenticator: AuthenticatorDep,
    ) -> RevokedOut:
        """Sign a lost or handed-on device out of this account."""
        assert actor.user_id
        count = await authenticator.revoke_device(actor.user_id, device_id)
        return RevokedOut(device_id=device_id, sessions_revoked=count)
