"""The one translator at the service edge: FateGrpcError -> gRPC status + the standard rich status.

The rich status (`google.rpc.Status` in `grpc-status-details-bin`) carries our code, the field
violations and the hint; clients map errors back with `fate_grpc.wire.rpc_errors.error_from_rpc`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from fate_grpc.errors import FateGrpcError, bounded, internal
from fate_grpc.wire.rpc_errors import MAX_PUBLIC_MESSAGE, status_trailer

log = logging.getLogger("fate_grpc.rpc")

T = TypeVar("T")


async def abort_with(context: grpc.aio.ServicerContext, error: FateGrpcError) -> None:
    error = bounded(error)  # an answer beyond gRPC's metadata limit would reach nobody
    context.set_trailing_metadata(status_trailer(error))
    await context.abort(error.grpc_status, error.message[:MAX_PUBLIC_MESSAGE])


def _as_public_error(rpc_name: str, exc: Exception) -> FateGrpcError:
    if isinstance(exc, FateGrpcError):
        return exc
    # Unknown failures are logged with the RPC name and shown as a plain internal error (no repr).
    log.exception("rpc %s failed unexpectedly", rpc_name)
    return internal()


def unary_edge(
    method: Callable[..., Awaitable[T]],
) -> Callable[..., Awaitable[T]]:
    """Wrap a unary (or client-streaming) servicer method with the error translator."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort_with(context, _as_public_error(method.__name__, exc))
            raise AssertionError("unreachable") from None

    return wrapper


def stream_edge(
    method: Callable[..., AsyncIterator[T]],
) -> Callable[..., AsyncIterator[T]]:
    """Wrap a server-streaming servicer method (an async generator) with the error translator."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[T]:
        try:
            async for item in method(self, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort_with(context, _as_public_error(method.__name__, exc))

    return wrapper
