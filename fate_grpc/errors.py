"""One error type with codes, and the catalog mapping each code to a gRPC status and a public message."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import grpc


class ErrorCode(enum.IntEnum):
    """Stable numeric codes; clients map errors back by these, never by message text."""

    INVALID_ARGUMENT = 1001
    INVALID_DAG = 1002
    NOT_FOUND = 1003
    ALREADY_EXISTS = 1004
    INVALID_TRANSITION = 1005
    JOB_REJECTED = 1006
    PARTY_UNAVAILABLE = 1007
    PERMISSION_DENIED = 1008
    UNAUTHENTICATED = 1009
    CONFLICT = 1010
    DEADLINE_EXCEEDED = 1011
    RESOURCE_EXHAUSTED = 1012
    NOT_SCHEDULER = 1013
    WRONG_PARTY = 1014
    INTERNAL = 1099
    # Client-side only (never sent by a node).
    CLIENT_CONFIG = 2001
    CLIENT_INPUT = 2002
    NODE_UNREACHABLE = 2003


@dataclass(frozen=True)
class CatalogEntry:
    status: grpc.StatusCode
    public_message: str
    exit_code: int


CATALOG: dict[ErrorCode, CatalogEntry] = {
    ErrorCode.INVALID_ARGUMENT: CatalogEntry(grpc.StatusCode.INVALID_ARGUMENT, "invalid request", 2),
    ErrorCode.INVALID_DAG: CatalogEntry(grpc.StatusCode.INVALID_ARGUMENT, "invalid DAG", 2),
    ErrorCode.NOT_FOUND: CatalogEntry(grpc.StatusCode.NOT_FOUND, "not found", 3),
    ErrorCode.ALREADY_EXISTS: CatalogEntry(grpc.StatusCode.ALREADY_EXISTS, "already exists", 3),
    ErrorCode.INVALID_TRANSITION: CatalogEntry(
        grpc.StatusCode.FAILED_PRECONDITION, "status change not allowed", 4
    ),
    ErrorCode.JOB_REJECTED: CatalogEntry(grpc.StatusCode.FAILED_PRECONDITION, "job rejected by a party", 4),
    ErrorCode.PARTY_UNAVAILABLE: CatalogEntry(grpc.StatusCode.UNAVAILABLE, "party unreachable", 5),
    ErrorCode.PERMISSION_DENIED: CatalogEntry(grpc.StatusCode.PERMISSION_DENIED, "permission denied", 6),
    ErrorCode.UNAUTHENTICATED: CatalogEntry(grpc.StatusCode.UNAUTHENTICATED, "not authenticated", 6),
    ErrorCode.CONFLICT: CatalogEntry(grpc.StatusCode.ABORTED, "conflicting concurrent change", 4),
    ErrorCode.DEADLINE_EXCEEDED: CatalogEntry(grpc.StatusCode.DEADLINE_EXCEEDED, "timed out", 5),
    ErrorCode.RESOURCE_EXHAUSTED: CatalogEntry(grpc.StatusCode.RESOURCE_EXHAUSTED, "limit exceeded", 5),
    ErrorCode.NOT_SCHEDULER: CatalogEntry(
        grpc.StatusCode.FAILED_PRECONDITION, "this node is not the job's scheduler", 4
    ),
    ErrorCode.WRONG_PARTY: CatalogEntry(
        grpc.StatusCode.FAILED_PRECONDITION, "outputs are kept at the node of the party that made them", 4
    ),
    ErrorCode.INTERNAL: CatalogEntry(grpc.StatusCode.INTERNAL, "internal error", 1),
    ErrorCode.CLIENT_CONFIG: CatalogEntry(grpc.StatusCode.FAILED_PRECONDITION, "client not configured", 2),
    ErrorCode.CLIENT_INPUT: CatalogEntry(grpc.StatusCode.INVALID_ARGUMENT, "invalid input", 2),
    ErrorCode.NODE_UNREACHABLE: CatalogEntry(grpc.StatusCode.UNAVAILABLE, "node unreachable", 5),
}

# gRPC status -> code, for errors that did not come with our metadata (e.g. a transport failure).
STATUS_TO_CODE: dict[grpc.StatusCode, ErrorCode] = {
    grpc.StatusCode.UNAVAILABLE: ErrorCode.PARTY_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
    grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNIMPLEMENTED: ErrorCode.INVALID_ARGUMENT,
}


@dataclass(frozen=True)
class FieldViolation:
    """One problem with one field of a request or document."""

    field: str
    reason: str
    party_id: str = ""

    def __str__(self) -> str:
        where = f"party {self.party_id}: " if self.party_id else ""
        return f"{where}{self.field}: {self.reason}" if self.field else f"{where}{self.reason}"


@dataclass
class FateGrpcError(Exception):
    """The one error type of the project: a code, a public message and named facts.

    The message is shown to users as is, so it must never contain a traceback or a repr.
    """

    code: ErrorCode
    message: str
    hint: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def grpc_status(self) -> grpc.StatusCode:
        return CATALOG[self.code].status

    @property
    def exit_code(self) -> int:
        return CATALOG[self.code].exit_code


def invalid_argument(message: str, *, field_path: str = "", **fields: str) -> FateGrpcError:
    violations = [FieldViolation(field_path, message)] if field_path else []
    return FateGrpcError(ErrorCode.INVALID_ARGUMENT, message, fields=dict(fields), violations=violations)


def not_found(message: str, **fields: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.NOT_FOUND, message, fields=dict(fields))


def already_exists(message: str, **fields: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.ALREADY_EXISTS, message, fields=dict(fields))


def conflict(message: str, **fields: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.CONFLICT, message, fields=dict(fields))


def invalid_transition(message: str, **fields: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.INVALID_TRANSITION, message, fields=dict(fields))


def party_unavailable(party_id: str, address: str, detail: str) -> FateGrpcError:
    return FateGrpcError(
        ErrorCode.PARTY_UNAVAILABLE,
        f"party {party_id} at {address} is unreachable: {detail}",
        hint="check that the party's node is running and that the route table points to it",
        fields={"party_id": party_id, "address": address},
    )


def invalid_dag(violations: list[FieldViolation]) -> FateGrpcError:
    first = str(violations[0]) if violations else "the DAG is invalid"
    more = f" (and {len(violations) - 1} more problem(s))" if len(violations) > 1 else ""
    return FateGrpcError(ErrorCode.INVALID_DAG, f"invalid DAG: {first}{more}", violations=list(violations))


def job_rejected(violations: list[FieldViolation]) -> FateGrpcError:
    first = str(violations[0]) if violations else "a party rejected the job"
    more = f" (and {len(violations) - 1} more problem(s))" if len(violations) > 1 else ""
    fields = {"party_id": violations[0].party_id} if violations and violations[0].party_id else {}
    return FateGrpcError(
        ErrorCode.JOB_REJECTED, f"job rejected: {first}{more}", fields=fields, violations=list(violations)
    )


def internal(message: str = "internal error") -> FateGrpcError:
    return FateGrpcError(ErrorCode.INTERNAL, message)
