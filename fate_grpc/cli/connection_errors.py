"""Why flow could not reach a node, told from gRPC's connection error: the address, and the TLS or
network reason with what to change, instead of one "start the node" for every cause."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fate_grpc.errors import ErrorCode, FateGrpcError

# gRPC's detail ends with the last error of the connection attempt, after the address it tried.
_LAST_ERROR = re.compile(r"last error: [A-Z_]+: (?:ipv[46]:\S+?: |unix:\S+?: )?(?P<reason>.*)$", re.S)
_SSL_REASON = re.compile(r"OPENSSL_internal:(?P<code>[A-Z_]+)(?::\s*(?P<text>[^:]+))?")


@dataclass(frozen=True)
class ClientSide:
    """How flow tried to connect: with TLS or not, and with a client certificate or not."""

    tls: bool
    certificate: bool
    token: bool


def connection_error(address: str, detail: str, side: ClientSide) -> FateGrpcError:
    """The error to show when the channel to `address` could not be opened (gRPC UNAVAILABLE)."""
    found = _LAST_ERROR.search(detail)
    reason = (found.group("reason") if found else detail).strip()
    message, hint = _explain(address, reason, side)
    return FateGrpcError(
        ErrorCode.NODE_UNREACHABLE, message, hint=hint, fields={"address": address, "reason": reason[:300]}
    )


def _explain(address: str, reason: str, side: ClientSide) -> tuple[str, str]:
    lowered = reason.lower()
    if "connection refused" in lowered:
        return (
            f"nothing accepts connections at {address} (connection refused)",
            "start the node there, or point flow at a running one: flow init --ip IP --port PORT",
        )
    if "hostname verification" in lowered:
        return (
            f"the TLS certificate of the node at {address} names neither that host nor the expected"
            " server name",
            "give the node's party name (flow init --server-name party-<id>.fate-grpc) or the address"
            " it was provisioned for",
        )
    if "wrong_version_number" in lowered:
        return (
            f"the node at {address} does not speak TLS (TLS handshake failed: wrong version number)",
            "leave out --ca for a plaintext node, or check the port",
        )
    if "handshake" in lowered or "ssl_error" in lowered or "certificate" in lowered:
        return (
            f"the TLS handshake with the node at {address} failed: {_ssl_reason(reason)}",
            "give the federation's trust bundle with --ca (trust/bundle.crt) and check the certificate dates",
        )
    if "socket closed" in lowered or "connection reset" in lowered:
        return _closed(address, side)
    if "timed out" in lowered or "deadline" in lowered:
        return (
            f"no answer from {address} ({reason})",
            "check the address, the network path and any firewall; a frozen node does not answer either",
        )
    return (f"the node at {address} is unreachable ({reason})", "check the address and the network path")


def _closed(address: str, side: ClientSide) -> tuple[str, str]:
    if not side.tls:
        return (
            f"the node at {address} closed the connection: it expects TLS",
            "give the federation's trust bundle with --ca (and --cert/--key, or --token on a token port)",
        )
    if not side.certificate:
        return (
            f"the node at {address} closed the connection during the TLS handshake: this port demands a"
            " client certificate",
            "give --cert and --key of one of the party's users, or use a token on the node's user port"
            " (client_listen with client_auth.certificates: none)",
        )
    return (
        f"the node at {address} closed the connection during the TLS handshake: it refused the client"
        " certificate",
        "use a certificate issued by this party's CA to one of its users",
    )


def _ssl_reason(reason: str) -> str:
    found = _SSL_REASON.search(reason)
    if found is None:
        return reason
    code = found.group("code").replace("_", " ").lower()
    text = (found.group("text") or "").strip()
    return f"{code} ({text})" if text and text.upper() != "OK" else code
