"""One error type with codes, and the catalog mapping each code to a gRPC status and a public message."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from urllib.parse import quote

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


# An error travels in gRPC trailing metadata, which receivers refuse beyond 8 KiB by default (the
# call then fails with RESOURCE_EXHAUSTED "Stream removed" and the real answer is lost). So what
# an error carries is bounded: values it echoes, each violation, the message, and how many
# violations travel (the rest are counted).
MAX_ECHO_CHARS = 80
MAX_FIELD_CHARS = 200
MAX_REASON_CHARS = 1000
MAX_MESSAGE_CHARS = 1000
# Bytes the message may take on the wire (it travels twice; CJK text takes 9 bytes a character
# percent-encoded), so that violations keep most of the budget.
MESSAGE_BUDGET = 2500
MAX_VIOLATIONS = 200
# Bytes of metadata an error may take, status message and detail together (encoded for the wire).
METADATA_BUDGET = 7000
OMITTED_VIOLATIONS_FIELD = "omitted_violations"


def cut(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """The text, or its first `limit` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: object) -> str:
    """A value echoed in an error: its repr, cut to a short prefix."""
    return cut(repr(value))


@dataclass(frozen=True)
class FieldViolation:
    """One problem with one field of a request or document (both cut to a bounded length)."""

    field: str
    reason: str
    party_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", cut(self.field, MAX_FIELD_CHARS))
        object.__setattr__(self, "reason", cut(self.reason, MAX_REASON_CHARS))
        object.__setattr__(self, "party_id", cut(self.party_id, MAX_ECHO_CHARS))

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
    """An invalid DAG with every problem found; see `summary` for the message."""
    message = f"invalid DAG: {summary(violations, 'the DAG is invalid')}"
    return bounded(FateGrpcError(ErrorCode.INVALID_DAG, message, violations=list(violations)))


def job_rejected(violations: list[FieldViolation]) -> FateGrpcError:
    """A job some party refused, with every party's problems."""
    fields = {"party_id": violations[0].party_id} if violations and violations[0].party_id else {}
    message = f"job rejected: {summary(violations, 'a party rejected the job')}"
    return bounded(FateGrpcError(ErrorCode.JOB_REJECTED, message, fields=fields, violations=list(violations)))


def summary(violations: list[FieldViolation], default: str) -> str:
    """The one problem, or how many there are and the first (all are in the violations)."""
    if not violations:
        return default
    if len(violations) == 1:
        return str(violations[0])
    return f"{len(violations)} problems; the first: {violations[0]}"


def bounded(error: FateGrpcError) -> FateGrpcError:
    """The error cut to fit gRPC's metadata limit: a short message, the violations that fit.

    Violations are kept in order while they fit in METADATA_BUDGET (at most MAX_VIOLATIONS); how
    many were left out is in the field `omitted_violations`, counting any omitted before.
    """
    message = _fitting_message(error.message)
    hint = _fitting_message(error.hint)
    fields = {cut(k, MAX_ECHO_CHARS): cut(v, MAX_FIELD_CHARS) for k, v in list(error.fields.items())[:20]}
    used = len(quote(message, safe="")) + _base64_size(
        message + hint + "".join(k + v for k, v in fields.items())
    )
    kept: list[FieldViolation] = []
    for violation in error.violations[:MAX_VIOLATIONS]:
        if not kept:
            # The first problem always travels, cut if it must be.
            violation = _fitting_violation(violation, METADATA_BUDGET - used)
        size = _violation_size(violation)
        if kept and used + size > METADATA_BUDGET:
            break
        kept.append(violation)
        used += size
    omitted = len(error.violations) - len(kept) + int(fields.pop(OMITTED_VIOLATIONS_FIELD, "0") or 0)
    if omitted:
        fields[OMITTED_VIOLATIONS_FIELD] = str(omitted)
    return dataclasses.replace(error, message=message, hint=hint, fields=fields, violations=kept)


def _violation_size(violation: FieldViolation) -> int:
    return _base64_size(violation.field + violation.reason + violation.party_id) + 12


def _fitting_violation(violation: FieldViolation, budget: int) -> FieldViolation:
    while _violation_size(violation) > budget and len(violation.reason) > MAX_ECHO_CHARS:
        violation = dataclasses.replace(violation, reason=cut(violation.reason, len(violation.reason) // 2))
    return violation


def _fitting_message(text: str) -> str:
    message = cut(text, MAX_MESSAGE_CHARS)
    while _message_size(message) > MESSAGE_BUDGET:
        message = cut(message, len(message) * 3 // 4)
    return message


def _message_size(message: str) -> int:
    # The message travels twice: as the status message (percent-encoded) and inside the detail.
    return len(quote(message, safe="")) + _base64_size(message)


def _base64_size(text: str) -> int:
    return (len(text.encode("utf-8")) + 2) // 3 * 4


def internal(message: str = "internal error") -> FateGrpcError:
    return FateGrpcError(ErrorCode.INTERNAL, message)
