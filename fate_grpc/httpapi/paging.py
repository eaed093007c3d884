"""FATE-Flow's paged lists: `limit` rows of page `page` (from 1), ordered by a field."""

from __future__ import annotations

from typing import Any

from fate_grpc.errors import invalid_argument
from fate_grpc.httpapi.answers import Params

ORDERS = ("asc", "desc")


def page_of(rows: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    """`{"count": all matching rows, "data": the page}`; without limit, every row (as FATE)."""
    order_by = params.text("order_by", default="create_time")
    order = params.text("order", default="desc").lower()
    if order not in ORDERS:
        raise invalid_argument("order must be asc or desc", field_path="order")
    if rows and order_by not in rows[0]:
        raise invalid_argument(f"order_by names no field of the rows: {order_by}", field_path="order_by")
    ordered = sorted(rows, key=lambda row: _sort_key(row.get(order_by)), reverse=order == "desc")
    limit = params.integer("limit", minimum=0)
    page = params.integer("page", default=1, minimum=1)
    shown = ordered[(page - 1) * limit : page * limit] if limit else ordered
    return {"count": len(rows), "data": shown}


def _sort_key(value: Any) -> tuple[int, Any]:
    # None (an unset time) sorts before every value; numbers and texts each among themselves.
    if value is None:
        return (0, 0)
    return (1, value) if isinstance(value, int | float) else (2, str(value))
