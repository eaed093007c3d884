"""FATE-Flow 2.2's client HTTP API (`/v2/...`), answered by the user API's own servicer methods."""

from fate_grpc.httpapi.app import flow_http_app

__all__ = ["flow_http_app"]
