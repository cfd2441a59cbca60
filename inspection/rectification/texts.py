"""Order kinds and states as a reader names them (the enums' values are codes)."""

from __future__ import annotations

from inspection.messages import t
from inspection.rectification.rules import OrderKind, OrderState

KIND_NAMES = {
    OrderKind.quality: t("order_kind.quality"),
    OrderKind.safety: t("order_kind.safety"),
    OrderKind.stop_work: t("order_kind.stop_work"),
    OrderKind.warranty: t("order_kind.warranty"),
}
STATE_NAMES = {
    OrderState.draft: t("order_state.draft"),
    OrderState.issued: t("order_state.issued"),
    OrderState.responded: t("order_state.responded"),
    OrderState.rejected: t("order_state.rejected"),
    OrderState.closed: t("order_state.closed"),
    OrderState.cancelled: t("order_state.cancelled"),
}
