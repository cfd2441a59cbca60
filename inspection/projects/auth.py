"""Sign-in: argon2 password hashes, signed short-lived access tokens, device-bound refresh tokens,
and a login rate limit."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inspection import db
from inspection.actor import Actor
from inspection.audit import service as audit
from inspection.clock import Clock
from inspection.errors import NotFound, RateLimited, Unauthorized, ValidationFailed
from inspection.messages import Message, t
from inspection.projects.ratelimit import RateCounter, Window
from inspection.projects.tables import DeviceSession, Organisation, RetiredRefreshToken, User
from inspection.records import new_id, write
from inspection.settings import Settings
from inspection.signing import sign, unsign


def password_hasher(settings: Settings) -> PasswordHasher:
    s = settings.security
    return PasswordHasher(
        time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism
    )


def password_problem(password: str, settings: Settings) -> Message | None:
    minimum = settings.security.password_min_length
    if len(password) < minimum:
        return t("projects.must_at_least_characters", minimum=minimum)
    if len(password) > 256:
        return t("projects.must_at_most_256_characters")
    if password.isdigit() or password.isalpha():
        return t("projects.must_mix_letters_digits_symbols")
    return None


def hash_password(password: str, settings: Settings) -> str:
    return password_hasher(settings).hash(password)


# A hash of a random password, checked when the user name is unknown so that a wrong name and a
# wrong password take the same time.
_DUMMY_HASH: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


def _refresh_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_account_key(username: str, client: str) -> str:
    """The rate-limit key of failed sign-ins to one account from one address."""
    return f"login-account:{client}|{username.lower()}"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_at: datetime
    session_id: UUID
    user_id: UUID


class Authenticator:
    """Everything about proving who is calling. One per application."""

    def __init__(self, settings: Settings, key: bytes, clock: Clock) -> None:
        self.settings = settings
        self.key = key
        self.clock = clock
        self.hasher = password_hasher(settings)
        self.rates = RateCounter(clock)
        self.login_window = Window(settings.security.login_max_failures, settings.security.login_window_s)
        self.address_window = Window(settings.security.login_address_max_failures, settings.security.login_window_s)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _access_token(self, user_id: UUID, session_id: UUID, device_id: str) -> str:
        exp = int(self.clock.now().timestamp()) + self.settings.security.access_token_ttl_s
        return sign({"sub": str(user_id), "sid": str(session_id), "dev": device_id, "exp": exp}, self.key, "access")

    async def _issue(self, user_id: UUID, device_id: str, user_agent: str) -> IssuedTokens:
        """A new device session (a new token family) with its first refresh token."""
        now = self.clock.now()
        refresh = secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=self.settings.security.refresh_token_ttl_s)
        session_id = new_id()
        await DeviceSession.insert(
            DeviceSession(
                id=session_id,
                user=user_id,
                device_id=device_id,
                refresh_hash=_refresh_hash(refresh),
                created_at=now,
                last_used_at=now,
                expires_at=expires,
                user_agent=user_agent[:300],
            )
        )
        return self._tokens(user_id, session_id, device_id, refresh, expires)

    def _tokens(self, user_id: UUID, session_id: UUID, device_id: str, refresh: str, expires: datetime) -> IssuedTokens:
        return IssuedTokens(
            access_token=self._access_token(user_id, session_id, device_id),
            refresh_token=refresh,
            expires_in=self.settings.security.access_token_ttl_s,
            refresh_expires_at=expires,
            session_id=session_id,
            user_id=user_id,
        )

    async def login(
        self, username: str, password: str, device_id: str, client: str, user_agent: str = ""
    ) -> IssuedTokens:
        # Failed sign-ins are counted in the database, so every server process shares the count:
        # per account *from this address* (so failures elsewhere, or an attacker spraying known
        # user names, cannot lock an account's owner out), and per address alone at a much
        # higher limit (one address guessing across many accounts; a site office behind one NAT
        # address stays well under it).
        if "\x00" in username:
            # no account has one, and PostgreSQL refuses NUL in any text it is asked to compare
            # (the portal's form reaches here without the API's pattern)
            raise Unauthorized(t("projects.wrong_user_name_password"))
        account_key = login_account_key(username, client)
        address_key = f"login-address:{client}"
        for key, window in ((account_key, self.login_window), (address_key, self.address_window)):
            wait = await self.rates.wait_s(key, window)
            if wait is not None:
                raise RateLimited(t("projects.too_many_failed_sign_ins_wait"), retry_after=wait)
        user = (
            await User.select(User.id, User.password_hash, User.active, User.deleted)
            .where(User.username == username)
            .first()
        )
        stored = user["password_hash"] if user else _dummy_hash(self.hasher)
        # argon2 is deliberately slow (~0.1 s): keep it off the event loop.
        ok = await asyncio.to_thread(self._verify, stored, password)
        if not ok or user is None or not user["active"] or user["deleted"]:
            await self.rates.record([account_key, address_key])
            raise Unauthorized(t("projects.wrong_user_name_password"))
        await self.rates.forget(account_key)
        async with db.transaction():
            issued = await self._issue(user["id"], device_id, user_agent)
        return issued

    async def refresh(self, refresh_token: str, device_id: str) -> IssuedTokens:
        """Rotate the refresh token. A token used on another device, revoked or expired is refused.

        A token that was already swapped for a new one and is presented again means that two
        parties hold this device session's tokens (RFC 9700 §4.14.2: refresh token rotation): we
        cannot tell the thief from the owner, so the whole session, every access and refresh token
        issued from it, is revoked and the audit log records it. The owner signs in again."""
        digest = _refresh_hash(refresh_token)
        now = self.clock.now()
        async with db.transaction():
            row = await DeviceSession.select().where(DeviceSession.refresh_hash == digest).first()
            if row is None:
                retired = (
                    await RetiredRefreshToken.select(RetiredRefreshToken.session)
                    .where(RetiredRefreshToken.hash == digest)
                    .first()
                )
                if retired is None:
                    raise Unauthorized(t("projects.refresh_token_not_valid_sign_again"), field="refresh_token")
                reused = retired["session"]
            else:
                reused = None
                if row["revoked_at"] is not None or row["expires_at"] <= now:
                    raise Unauthorized(t("projects.refresh_token_not_valid_sign_again"), field="refresh_token")
                if row["device_id"] != device_id:
                    raise Unauthorized(t("projects.refresh_token_belongs_another_device"), field="device_id")
                user = await User.select(User.active, User.deleted).where(User.id == row["user"]).first()
                if user is None or not user["active"] or user["deleted"]:
                    raise Unauthorized(t("projects.account_disabled"))
                refresh = secrets.token_urlsafe(32)
                expires = now + timedelta(seconds=self.settings.security.refresh_token_ttl_s)
                # Only the request that still finds the old hash in place rotates it: of two
                # presenting the same token at once, the other one is a reuse like any later one.
                swapped = await db.raw(
                    "UPDATE device_session SET refresh_hash = {}, last_used_at = {}, expires_at = {}"
                    " WHERE id = {} AND refresh_hash = {} AND revoked_at IS NULL RETURNING id",
                    _refresh_hash(refresh),
                    now,
                    expires,
                    row["id"],
                    digest,
                )
                if swapped:
                    await RetiredRefreshToken.insert(
                        RetiredRefreshToken(hash=digest, session=row["id"], retired_at=now)
                    )
                    # a retired token outlives its use only as long as it could have been used
                    await RetiredRefreshToken.delete().where(
                        RetiredRefreshToken.retired_at
                        <= now - timedelta(seconds=self.settings.security.refresh_token_ttl_s)
                    )
                    return self._tokens(row["user"], row["id"], device_id, refresh, expires)
                reused = row["id"]
        await self._revoke_reused(reused, device_id)
        raise Unauthorized(
            t("projects.refresh_token_was_already_used_device"),
            field="refresh_token",
        )

    async def _revoke_reused(self, session_id: UUID, presented_by: str) -> None:
        """Revoke the token family of a session whose retired refresh token came back, and say so
        in the audit log (once: a family already revoked is only refused)."""
        session = (
            await DeviceSession.select(
                DeviceSession.user,
                DeviceSession.device_id,
                DeviceSession.revoked_at,
                DeviceSession.user.username,
            )
            .where(DeviceSession.id == session_id)
            .first()
        )
        if session is None or session["revoked_at"] is not None:
            return
        actor = Actor(user_id=session["user"], username=session["user.username"], device_id=session["device_id"])
        async with write(actor, self.clock) as w:
            revoked = await db.raw(
                "UPDATE device_session SET revoked_at = {} WHERE id = {} AND revoked_at IS NULL RETURNING id",
                w.now,
                session_id,
            )
            if revoked:
                await audit.append(
                    w,
                    "refresh_token_reused",
                    DeviceSession._meta.tablename,
                    session_id,
                    {"revoked": True, "device_id": session["device_id"], "presented_by_device": presented_by[:64]},
                )

    async def revoke_session(self, session_id: UUID) -> None:
        await DeviceSession.update({DeviceSession.revoked_at: self.clock.now()}).where(
            (DeviceSession.id == session_id) & DeviceSession.revoked_at.is_null()
        )

    async def revoke_device(self, user_id: UUID, device_id: str) -> int:
        """Sign the device out; a device this account never signed in on is not found (signing out
        one already signed out revokes nothing, and says so)."""
        if not await DeviceSession.exists().where(
            (DeviceSession.user == user_id) & (DeviceSession.device_id == device_id)
        ):
            raise NotFound(t("projects.no_device_has_signed_account", device_id=device_id), field="device_id")
        rows = await DeviceSession.select(DeviceSession.id).where(
            (DeviceSession.user == user_id)
            & (DeviceSession.device_id == device_id)
            & DeviceSession.revoked_at.is_null()
        )
        if rows:
            await DeviceSession.update({DeviceSession.revoked_at: self.clock.now()}).where(
                DeviceSession.id.is_in([r["id"] for r in rows])
            )
        return len(rows)

    async def sessions(self, user_id: UUID) -> list[dict[str, Any]]:
        return await (
            DeviceSession.select(
                DeviceSession.id,
                DeviceSession.device_id,
                DeviceSession.created_at,
                DeviceSession.last_used_at,
                DeviceSession.expires_at,
                DeviceSession.user_agent,
            )
            .where((DeviceSession.user == user_id) & DeviceSession.revoked_at.is_null())
            .order_by(DeviceSession.last_used_at, ascending=False)
        )

    async def actor_for(self, access_token: str) -> Actor:
        """The acting user behind a bearer token; the session must still be live."""
        payload = unsign(access_token, self.key, "access")
        if payload is None:
            raise Unauthorized(t("projects.access_token_not_valid"))
        if not isinstance(payload.get("exp"), int) or payload["exp"] <= int(self.clock.now().timestamp()):
            raise Unauthorized(t("projects.access_token_has_expired_refresh"), token_expired=True)
        try:
            user_id, session_id = UUID(payload["sub"]), UUID(payload["sid"])
        except (KeyError, ValueError, TypeError):
            raise Unauthorized(t("projects.access_token_not_valid")) from None
        # One plain statement (prepared once per connection by asyncpg): through the query builder
        # this look-up cost several times the query itself, on every request.
        rows = await db.fetch_tuples(_SESSION, session_id, user_id)
        if not rows:
            raise Unauthorized(t("projects.session_was_signed_out_revoked"))
        revoked_at, device_id, username, active, deleted, is_admin, organisation, organisation_kind = rows[0]
        if revoked_at is not None:
            raise Unauthorized(t("projects.session_was_signed_out_revoked"))
        if not active or deleted:
            raise Unauthorized(t("projects.account_disabled"))
        return Actor(
            user_id=user_id,
            username=username,
            organisation_id=_uuid_or_none(organisation),
            organisation_kind=organisation_kind,
            is_admin=bool(is_admin),
            device_id=device_id,
            session_id=session_id,
        )


_SESSION = (
    "SELECT s.revoked_at, s.device_id, u.username, u.active, u.deleted, u.is_admin, u.organisation, o.kind"
    ' FROM device_session s JOIN app_user u ON u.id = s."user" LEFT JOIN organisation o ON o.id = u.organisation'
    ' WHERE s.id = {} AND s."user" = {}'
)


def _uuid_or_none(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


def validate_device_id(device_id: str) -> str:
    if not device_id or len(device_id) > 64 or not all(c.isalnum() or c in "-_.:" for c in device_id):
        raise ValidationFailed(t("projects.device_id_must_1_64_letters"), field="device_id")
    return device_id


__all__ = ["Authenticator", "IssuedTokens", "Organisation", "hash_password", "password_problem"]
