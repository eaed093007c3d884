"""Errors on the wire: a FateGrpcError as gRPC's standard rich status, and back from a failed call.

A node puts one `google.rpc.Status` in the `grpc-status-details-bin` trailer (what grpcio-status,
grpc-js, grpc-go and grpc-java decode), with three details any client can read without our protos:

- `google.rpc.ErrorInfo`: `reason` is our error name (`INVALID_DAG`), `domain` is `fate-grpc`, and
  `metadata` holds our numeric `code` and the error's named facts (`party_id`, `address`, ...);
- `google.rpc.BadRequest`: one field violation per problem (`field` = the field path, `description`
  = the reason);
- `google.rpc.Help`: the hint, as a link's description, when there is one.

Our own client decodes the same trailer (one decoding path), by the code in ErrorInfo, never by text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from fate_grpc.errors import STATUS_TO_CODE, ErrorCode, FateGrpcError, FieldViolation

STATUS_DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "fate-grpc"
# ErrorInfo.metadata keys of our own beside the error's fields.
CODE_KEY = "code"
# The party id of each violation, in order, comma-separated; only when some violation names a party.
VIOLATION_PARTIES_KEY = "violation_party_ids"
MAX_PUBLIC_MESSAGE = 4000


def rich_status(error: FateGrpcError) -> status_pb2.Status:
    """The error as the `google.rpc.Status` a server sends in `grpc-status-details-bin`."""
    message = error.message[:MAX_PUBLIC_MESSAGE]
    violations = error.violations[:100]
    metadata = {**error.fields, CODE_KEY: str(int(error.code))}
    if any(v.party_id for v in violations):
        metadata[VIOLATION_PARTIES_KEY] = ",".join(v.party_id for v in violations)
    details = [error_details_pb2.ErrorInfo(reason=error.code.name, domain=ERROR_DOMAIN, metadata=metadata)]
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.reason)
                    for v in violations
                ]
            )
        )
    if error.hint:
        details.append(error_details_pb2.Help(links=[error_details_pb2.Help.Link(description=error.hint)]))
    return status_pb2.Status(
        code=error.grpc_status.value[0], message=message, details=[_packed(d) for d in details]
    )


def status_trailer(error: FateGrpcError) -> tuple[tuple[str, bytes], ...]:
    """The trailing metadata that carries the error's rich status."""
    return ((STATUS_DETAILS_KEY, rich_status(error).SerializeToString()),)


def error_from_trailer(trailing: Iterable[tuple[str, Any]] | None) -> FateGrpcError | None:
    """Our error from a call's trailing metadata, or None when it carries no status of ours."""
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except Exception:
                return None
            return _error_from_status(status)
    return None


def error_from_rpc(
    exc: grpc.RpcError, *, party_id: str = "", address: str = "", what: str = "party"
) -> FateGrpcError:
    """Turn a failed call into a FateGrpcError: by our code in the rich status if present, else by status."""
    trailing = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    error = error_from_trailer(trailing)
    if error is not None:
        return _said_by(error, party_id, address) if party_id else error
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


def _said_by(error: FateGrpcError, party_id: str, address: str) -> FateGrpcError:
    # Whatever the party said, the caller must learn which party said it.
    error.fields.setdefault("party_id", party_id)
    if address:
        error.fields.setdefault("address", address)
    if f"party {party_id}" not in error.message:
        error.message = f"party {party_id}: {error.message}"
        error.args = (error.message,)
    error.violations = [FieldViolation(v.field, v.reason, v.party_id or party_id) for v in error.violations]
    return error


def _error_from_status(status: status_pb2.Status) -> FateGrpcError | None:
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    help_ = error_details_pb2.Help()
    found_info = False
    for detail in status.details:
        if detail.Is(info.DESCRIPTOR):
            found_info = detail.Unpack(info)
        elif detail.Is(bad_request.DESCRIPTOR):
            detail.Unpack(bad_request)
        elif detail.Is(help_.DESCRIPTOR):
            detail.Unpack(help_)
    if not found_info or info.domain != ERROR_DOMAIN:
        return None
    fields = dict(info.metadata)
    code = _error_code(fields.pop(CODE_KEY, ""))
    parties = fields.pop(VIOLATION_PARTIES_KEY, "").split(",")
    violations = [
        FieldViolation(v.field, v.description, parties[i] if i < len(parties) else "")
        for i, v in enumerate(bad_request.field_violations)
    ]
    hint = help_.links[0].description if help_.links else ""
    return FateGrpcError(code, status.message, hint=hint, fields=fields, violations=violations)


def _error_code(text: str) -> ErrorCode:
    try:
        return ErrorCode(int(text))
    except ValueError:
        return ErrorCode.INTERNAL


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _short(text: str | None) -> str:
    text = (text or "").strip().splitlines()[0] if text else "no detail"
    return text[:300]
