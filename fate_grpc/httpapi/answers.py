"""FATE-Flow's answer shapes and request parameters, for the HTTP API's handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument

JSON_TYPE = "application/json"
"""Exactly this, without a charset: fate_client tells an error from a file by comparing the whole
Content-Type header with it."""


def answer(data: Any = None, *, code: int = 0, message: str = "success", **extra: Any) -> web.Response:
    """`{code, message, data?, job_id?, ...}` as FATE-Flow answers (keys whose value is None left out)."""
    body = {"code": code, "message": message, "data": data, **extra}
    return json_body({key: value for key, value in body.items() if value is not None})


def json_body(body: Any) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), headers={"Content-Type": JSON_TYPE})


def failure(error: FateGrpcError) -> web.Response:
    """An error as FATE-Flow answers one: HTTP 200, a non-zero code and the message (our hint too)."""
    extra = {"hint": error.hint} if error.hint else {}
    return answer(code=int(error.code), message=error.message, **extra)


class Params:
    """A request's parameters by name (query string, JSON body or form), read with field errors."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __contains__(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise invalid_argument(f"{name} is required", field_path=name)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid_argument(f"{name} must be a string", field_path=name)
        return str(value)

    def integer(self, name: str, *, default: int = 0, minimum: int = 0) -> int:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid_argument(f"{name} must be an integer", field_path=name) from None
        if number < minimum:
            raise invalid_argument(f"{name} must be at least {minimum}", field_path=name)
        return number

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise invalid_argument(f"{name} must be true or false", field_path=name)

    def mapping(self, name: str) -> dict[str, Any] | None:
        """A JSON object, sent as one (JSON body) or as its text (query string, form field)."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise invalid_argument(f"{name} must be a JSON object", field_path=name) from None
        if not isinstance(value, dict):
            raise invalid_argument(f"{name} must be a JSON object", field_path=name)
        return value


async def read_params(request: web.Request) -> Params:
    """The query string, merged with a JSON object body (POST) when there is one."""
    values: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body and request.content_type == JSON_TYPE:
        try:
            body = await request.json()
        except ValueError:
            raise invalid_argument("the request body is not JSON", field_path="body") from None
        if body is not None and not isinstance(body, dict):
            raise invalid_argument("the request body must be a JSON object", field_path="body")
        values.update(body or {})
    return Params(values)


def unknown_route(path: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.NOT_FOUND, f"no FATE-Flow endpoint {path} on this node")
