"""A small synchronous client of a node's ClientService, with errors mapped back by code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc

from fate_grpc.client.v1 import client_pb2, client_pb2_grpc
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.services.edge import error_from_rpc

CHUNK_BYTES = 1024 * 1024
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
END_JOB_STATUSES = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}


class FlowClient:
    def __init__(self, address: str, *, timeout_s: float = 60.0) -> None:
        self.address = address
        self._timeout = timeout_s
        self._channel = grpc.insecure_channel(
            address,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        self._stub = client_pb2_grpc.ClientServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> FlowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, rpc: str, request: Any, *, timeout: float | None = None) -> Any:
        try:
            return getattr(self._stub, rpc)(request, timeout=timeout or self._timeout)
        except grpc.RpcError as exc:
            raise _client_error(exc, self.address) from None

    def node_info(self) -> client_pb2.GetNodeInfoResponse:
        return self._call("GetNodeInfo", client_pb2.GetNodeInfoRequest(), timeout=10)

    def submit_job(self, dag_yaml: str, user_name: str = "") -> client_pb2.SubmitJobResponse:
        return self._call("SubmitJob", client_pb2.SubmitJobRequest(dag_yaml=dag_yaml, user_name=user_name))

    def query_job(self, job_id: str) -> client_pb2.QueryJobResponse:
        return self._call("QueryJob", client_pb2.QueryJobRequest(job_id=job_id))

    def query_tasks(self, job_id: str, **filters: Any) -> client_pb2.QueryTasksResponse:
        return self._call("QueryTasks", client_pb2.QueryTasksRequest(job_id=job_id, **filters))

    def stop_job(self, job_id: str) -> client_pb2.StopJobResponse:
        return self._call("StopJob", client_pb2.StopJobRequest(job_id=job_id))

    def query_table(self, namespace: str, name: str) -> client_pb2.QueryTableResponse:
        return self._call("QueryTable", client_pb2.QueryTableRequest(namespace=namespace, name=name))

    def upload_table(
        self, header: client_pb2.UploadTableHeader, file: Path
    ) -> client_pb2.UploadTableResponse:
        def requests() -> Iterator[client_pb2.UploadTableRequest]:
            yield client_pb2.UploadTableRequest(header=header)
            with open(file, "rb") as source:
                while chunk := source.read(CHUNK_BYTES):
                    yield client_pb2.UploadTableRequest(chunk=chunk)

        return self._call("UploadTable", requests(), timeout=3600)

    def wait_job(
        self, job_id: str, *, timeout_s: float = 600.0, interval_s: float = 0.1
    ) -> common_pb2.JobView:
        """Query until the job ends (client-side waiting; the node itself never polls)."""
        deadline = time.monotonic() + timeout_s
        while True:
            view = self.query_job(job_id).job
            if view.status in END_JOB_STATUSES:
                return view
            if time.monotonic() > deadline:
                raise FateGrpcError(
                    ErrorCode.DEADLINE_EXCEEDED, f"job {job_id} did not finish within {timeout_s:g}s"
                )
            time.sleep(interval_s)


def _client_error(exc: grpc.RpcError, address: str) -> FateGrpcError:
    error = error_from_rpc(exc, address=address, what="node")
    if error.code is ErrorCode.PARTY_UNAVAILABLE and "party_id" not in error.fields:
        error.code = ErrorCode.NODE_UNREACHABLE
        error.hint = "start the node, or point flow at a running one: flow init --ip IP --port PORT"
    return error
