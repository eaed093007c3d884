"""The HTTP API of one node: its servicer, store, signing key and server_data_dirs, for the HTTP port.

The node's HTTP port mounts it with one line, `http.mount("/v2", node_flow_app(self),
authenticated=False, max_body_bytes=MAX_BODY_BYTES)`: the API authenticates callers itself, as a
user-API call is authenticated or by FATE's app signature.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from fate_grpc.httpapi.app import flow_http_app
from fate_grpc.store.interface import Store

SIGNING_KEY_FILE = "http_signing.key"
SIGNING_KEY_BYTES = 32
MAX_BODY_BYTES = 64 * 1024 * 1024
"""The most one JSON body or form field is read at once (a DAG); uploaded files are streamed."""


def signing_key(data_dir: Path) -> bytes:
    """The node's key for FATE app_tokens, made on first use (readable by the node's user only).

    Kept beside the store, not in it: the store's token hashes alone must not give the app_tokens."""
    path = data_dir / SIGNING_KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(SIGNING_KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()  # another start made it first
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


class _NodeConfig(Protocol):
    @property
    def party_id(self) -> str: ...
    @property
    def server_data_dirs(self) -> Sequence[Path]: ...


class _NodePaths(Protocol):
    @property
    def root(self) -> Path: ...


class FlowApiNode(Protocol):
    """What the API takes from a running node (fate_grpc.node.app.Node, which sits above this package)."""

    @property
    def client_servicer(self) -> Any: ...
    @property
    def store(self) -> Store: ...
    @property
    def config(self) -> _NodeConfig: ...
    @property
    def paths(self) -> _NodePaths: ...


def node_flow_app(node: FlowApiNode) -> web.Application:
    """FATE-Flow 2.2's client API answered by `node`'s user-API servicer (mount it once the node's
    servers, and so its `client_servicer`, exist)."""
    return flow_http_app(
        node.client_servicer,
        store=node.store,
        party_id=node.config.party_id,
        signing_key=signing_key(node.paths.root),
        server_data_dirs=tuple(node.config.server_data_dirs),
    )
