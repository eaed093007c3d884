"""Register servicers with request parsing inside our error handling.

The generated add_*_to_server functions let gRPC parse requests itself; a body that is not valid
protobuf is then answered UNKNOWN with the parser's exception text. Here a malformed body becomes a
MalformedRequest whose first use raises INVALID_ARGUMENT through the service edge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import message_factory

from fate_grpc.errors import invalid_argument


class MalformedRequest:
    """Stands in for a request (or stream message) that could not be parsed."""

    def __getattr__(self, name: str) -> Any:
        raise invalid_argument(
            "the request is not a valid protobuf message of its type", field_path="request"
        )


def _safe_parser(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception:
            return MalformedRequest()

    return deserialize


_FACTORIES = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def add_servicer(server: grpc.aio.Server, servicer: object, service: pb_descriptor.ServiceDescriptor) -> None:
    """Serve every method of `service` from `servicer`, parsing requests safely."""
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        factory = _FACTORIES[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = factory(
            getattr(servicer, method.name),
            request_deserializer=_safe_parser(request_class.FromString),
            response_serializer=response_class.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
