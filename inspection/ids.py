"""Record ids made anywhere (server, tablet, CLI) without asking the database."""

from __future__ import annotations

import os
import time
from uuid import UUID


def new_id() -> UUID:
    """UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; time-ordered, so ids made
    offline on tablets index well. Python 3.11 has no uuid7 of its own."""
    ms = time.time_ns() // 1_000_000
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return UUID(int=value)
