"""gRPC interceptors: latency by method and peer, bytes per peer, log fields and lines at the RPC edge.

Server side: every call gets a request id and the job/task/attempt/party its request names, as log
fields for everything the call does; refusals (unauthenticated, permission denied) and job actions
are logged at info. Client side (calls to other parties): latency and bytes by partner, and a
partner's failure logged at info with the partner named.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

import grpc
from google.protobuf.message import Message

from fate_grpc.observability import log_context
from fate_grpc.observability.metrics import NodeMetrics
from fate_grpc.security.identity import CALLER_METADATA_KEY

log = logging.getLogger("fate_grpc.rpc")

# Calls that change a job: logged at info when they succeed (queries are too many to log).
JOB_ACTIONS = {
    "ClientService/SubmitJob": "job submitted",
    "ClientService/StopJob": "job stop requested",
    "ClientService/RerunJob": "job rerun requested",
    "ClientService/CleanJob": "job clean requested",
    "ControlService/CreateJob": "job created by its scheduler",
    "ControlService/AbortJob": "job aborted by its scheduler",
    "ControlService/StopTask": "task stop requested by the scheduler",
    "ControlService/RequestStopJob": "job stop requested by a party",
}
REFUSALS = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
# Answers that are part of normal work (a probe for a job that does not exist), not partner errors.
QUIET_CLIENT_CODES = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS}
# Request fields that become log fields, where a request has them.
REQUEST_FIELDS = {
    "job_id": "job_id",
    "task_name": "task",
    "attempt": "attempt",
    "role": "role",
    "party_id": "party",
}


def method_label(full_method: str) -> str:
    """The method without its package: ControlService/StartTask for its full gRPC path."""
    service, _, method = full_method.rpartition("/")
    return f"{service.rpartition('.')[2]}/{method}"


def message_bytes(message: Any) -> int:
    # Anything else (a request that did not parse) is left alone: touching it raises.
    return message.ByteSize() if isinstance(message, Message) else 0


def request_log_fields(request: Any) -> dict[str, Any]:
    """The job, task, attempt, role and party a request names (for any message type)."""
    if not isinstance(request, Message):
        return {}
    present = {
        name: getattr(request, name) for name in REQUEST_FIELDS if name in request.DESCRIPTOR.fields_by_name
    }
    # Attempt 0 is a real attempt wherever a task is named; other zero values mean "not given".
    return {
        REQUEST_FIELDS[name]: value
        for name, value in present.items()
        if value or (name == "attempt" and present.get("task_name"))
    }


class ServerObserver(grpc.aio.ServerInterceptor):
    """Wraps every method handler of a server.

    Args:
        metrics: the node's metrics.
        default_peer: the peer label of callers that do not name a known party ("user", "task").
        known_parties: the parties whose stated id may become a label (bounded label values).
    """

    def __init__(
        self, metrics: NodeMetrics, *, default_peer: str, known_parties: Callable[[], Collection[str]]
    ) -> None:
        self._metrics = metrics
        self._default_peer = default_peer
        self._known_parties = known_parties

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        call = _ServerCall(self, method_label(handler_call_details.method), self._peer(handler_call_details))
        return call.wrap(handler)

    def _peer(self, details: grpc.HandlerCallDetails) -> str:
        for key, value in details.invocation_metadata or ():
            if key == CALLER_METADATA_KEY and value in self._known_parties():
                return str(value)
        return self._default_peer


class _ServerCall:
    """One call's bookkeeping: fields bound while it runs, its latency, bytes and outcome."""

    def __init__(self, observer: ServerObserver, method: str, peer: str) -> None:
        self._metrics = observer._metrics
        self.method = method
        self.peer = peer

    def wrap(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        kinds = {
            "unary_unary": grpc.unary_unary_rpc_method_handler,
            "unary_stream": grpc.unary_stream_rpc_method_handler,
            "stream_unary": grpc.stream_unary_rpc_method_handler,
            "stream_stream": grpc.stream_stream_rpc_method_handler,
        }
        for kind, factory in kinds.items():
            behaviour = getattr(handler, kind)
            if behaviour is not None:
                wrapped = self._wrap_behaviour(behaviour, streaming_requests=kind.startswith("stream"))
                return factory(
                    wrapped,
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler

    def _wrap_behaviour(
        self, behaviour: Callable[..., Any], *, streaming_requests: bool
    ) -> Callable[..., Any]:
        if inspect.isasyncgenfunction(behaviour):

            async def stream_responses(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                tokens, started = self._begin(request, streaming_requests)
                try:
                    async for response in behaviour(self._requests(request, streaming_requests), context):
                        self._count(response, "sent")
                        yield response
                finally:
                    self._end(context, started, tokens, None)

            return stream_responses

        async def respond(request: Any, context: grpc.aio.ServicerContext) -> Any:
            tokens, started = self._begin(request, streaming_requests)
            response = None
            try:
                response = await behaviour(self._requests(request, streaming_requests), context)
                self._count(response, "sent")
                return response
            finally:
                self._end(context, started, tokens, response)

        return respond

    def _begin(self, request: Any, streaming_requests: bool) -> tuple[list[Any], float]:
        fields = {} if streaming_requests else request_log_fields(request)
        tokens = log_context.bind(rpc=self.method, peer=self.peer, request_id=secrets.token_hex(6), **fields)
        return tokens, time.perf_counter()

    def _requests(self, request: Any, streaming_requests: bool) -> Any:
        if not streaming_requests:
            self._count(request, "received")
            return request

        async def counted() -> AsyncIterator[Any]:
            async for item in request:
                self._count(item, "received")
                yield item

        return counted()

    def _count(self, message: Any, direction: str) -> None:
        size = message_bytes(message)
        if size:
            self._metrics.peer_bytes.labels(self.peer, direction).inc(size)

    def _end(
        self, context: grpc.aio.ServicerContext, started: float, tokens: list[Any], response: Any
    ) -> None:
        try:
            code = context.code() or grpc.StatusCode.OK
            code = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
            elapsed = time.perf_counter() - started
            self._metrics.rpc_duration.labels("server", self.method, self.peer, code.name).observe(elapsed)
            self._log_outcome(context, code, response)
        finally:
            log_context.unbind(tokens)

    def _log_outcome(self, context: grpc.aio.ServicerContext, code: grpc.StatusCode, response: Any) -> None:
        if code in REFUSALS:
            log.info(
                "refused %s from %s: %s",
                self.method,
                context.peer() or self.peer,
                context.details() or code.name.lower(),
                extra={"code": code.name},
            )
        elif code == grpc.StatusCode.OK and self.method in JOB_ACTIONS:
            job_id = getattr(response, "job_id", "") or ""
            log.info("%s", JOB_ACTIONS[self.method], extra={"job_id": job_id} if job_id else {})


class _ClientObserver:
    """Times the node's calls to one partner and counts the bytes exchanged with it.

    gRPC files a channel's interceptor under the first kind it implements, so each kind of call has
    its own class (see `client_observers`)."""

    def __init__(self, metrics: NodeMetrics, party_id: str) -> None:
        self._metrics = metrics
        self._party = party_id

    async def _finish(self, call: Any, details: Any, started: float) -> Any:
        """Wait for a unary answer (the caller awaits it next anyway), then record it."""
        method = method_label(_text(details.method))
        try:
            response = await call
        except grpc.aio.AioRpcError as exc:
            self._observe(method, exc.code(), started)
            if exc.code() not in QUIET_CLIENT_CODES:
                log.info(
                    "call %s to party %s failed: %s %s",
                    method,
                    self._party,
                    exc.code().name,
                    _first_line(exc.details()),
                    extra={"peer": self._party, "code": exc.code().name},
                )
            raise
        self._observe(method, grpc.StatusCode.OK, started)
        self._count(response, "received")
        return call

    def _observe(self, method: str, code: grpc.StatusCode, started: float) -> None:
        elapsed = time.perf_counter() - started
        self._metrics.rpc_duration.labels("client", method, self._party, code.name).observe(elapsed)

    async def _counted(self, requests: Any) -> AsyncIterator[Any]:
        async for item in _aiter(requests):
            self._count(item, "sent")
            yield item

    def _count(self, message: Any, direction: str) -> None:
        size = message_bytes(message)
        if size:
            self._metrics.peer_bytes.labels(self._party, direction).inc(size)


class _UnaryUnaryObserver(_ClientObserver, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        started = time.perf_counter()
        self._count(request, "sent")
        call = await continuation(client_call_details, request)
        return await self._finish(call, client_call_details, started)


class _UnaryStreamObserver(_ClientObserver, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        self._count(request, "sent")
        return await continuation(client_call_details, request)


class _StreamUnaryObserver(_ClientObserver, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        started = time.perf_counter()
        call = await continuation(client_call_details, self._counted(request_iterator))
        return await self._finish(call, client_call_details, started)


class _StreamStreamObserver(_ClientObserver, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(client_call_details, self._counted(request_iterator))


def client_observers(metrics: NodeMetrics, party_id: str) -> list[grpc.aio.ClientInterceptor]:
    """Interceptors for a channel to `party_id`: every kind of call observed."""
    kinds = (_UnaryUnaryObserver, _UnaryStreamObserver, _StreamUnaryObserver, _StreamStreamObserver)
    return [kind(metrics, party_id) for kind in kinds]


async def _aiter(requests: Any) -> AsyncIterator[Any]:
    if hasattr(requests, "__aiter__"):
        async for item in requests:
            yield item
    else:
        for item in requests:
            yield item


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0][:300] if text else ""
