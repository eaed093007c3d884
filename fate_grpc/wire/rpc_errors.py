"""Errors on the wire: a FateGrpcError as a detail in trailing metadata, and back from a failed call.

Clients map errors back by the code in the metadata, never by message text.
"""

from __future__ import annotations

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import STATUS_TO_CODE, ErrorCode, FateGrpcError, FieldViolation

ERROR_METADATA_KEY = "x-fate-grpc-error-bin"
MAX_PUBLIC_MESSAGE = 4000


def error_detail(error: FateGrpcError) -> common_pb2.ErrorDetail:
    """The error as the detail message a server puts in its trailing metadata."""
    return common_pb2.ErrorDetail(
        code=int(error.code),
        message=error.message[:MAX_PUBLIC_MESSAGE],
        hint=error.hint,
        fields=error.fields,
        violations=[
            common_pb2.Violation(field=v.field, reason=v.reason, party_id=v.party_id)
            for v in error.violations[:100]
        ],
    )


def error_from_rpc(
    exc: grpc.RpcError, *, party_id: str = "", address: str = "", what: str = "party"
) -> FateGrpcError:
    """Turn a failed call into a FateGrpcError: by our code in the metadata if present, else by status."""
    detail = _detail_from_metadata(exc)
    if detail is not None:
        try:
            code = ErrorCode(detail.code)
        except ValueError:
            code = ErrorCode.INTERNAL
        fields = dict(detail.fields)
        message = detail.message
        if party_id:
            # Whatever the party said, the caller must learn which party said it.
            fields.setdefault("party_id", party_id)
            if address:
                fields.setdefault("address", address)
            if f"party {party_id}" not in message:
                message = f"party {party_id}: {message}"
        return FateGrpcError(
            code,
            message,
            hint=detail.hint,
            fields=fields,
            violations=[FieldViolation(v.field, v.reason, v.party_id or party_id) for v in detail.violations],
        )
    status = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    code = STATUS_TO_CODE.get(status, ErrorCode.INTERNAL)
    raw = exc.details() if hasattr(exc, "details") else ""
    where = f"{what} {party_id} at {address}" if party_id else f"{what} at {address}" if address else what
    fields = {k: v for k, v in (("party_id", party_id), ("address", address)) if v}
    if status == grpc.StatusCode.UNAVAILABLE:
        return FateGrpcError(
            code,
            f"{where} is unreachable ({_short(raw)})",
            hint="check that the node is running and that the address is right",
            fields=fields,
        )
    if status == grpc.StatusCode.DEADLINE_EXCEEDED:
        return FateGrpcError(code, f"{where} did not answer in time", fields=fields)
    return FateGrpcError(code, f"{where} answered {status.name.lower()}: {_short(raw)}", fields=fields)


def _detail_from_metadata(exc: grpc.RpcError) -> common_pb2.ErrorDetail | None:
    trailing = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == ERROR_METADATA_KEY and isinstance(value, bytes):
            detail = common_pb2.ErrorDetail()
            try:
                detail.ParseFromString(value)
            except Exception:
                return None
            return detail
    return None


def _short(text: str | None) -> str:
    text = (text or "").strip().splitlines()[0] if text else "no detail"
    return text[:300]
