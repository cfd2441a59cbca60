"""Compact HMAC-SHA256 signed tokens (access tokens, sync cursors); `purpose` keeps them apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], key: bytes, purpose: str) -> str:
    """base64url(JSON) "." base64url(HMAC-SHA256(purpose "." body))."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(token: str, key: bytes, purpose: str, max_length: int = 4096) -> dict[str, Any] | None:
    """The payload, or None when the token is malformed or its signature does not match."""
    if not isinstance(token, str) or len(token) > max_length or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    try:
        expected = hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
