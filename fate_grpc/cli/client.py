"""A small synchronous client of a node's ClientService, with errors mapped back by code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from fate_grpc.cli.connection_errors import ClientSide, connection_error
from fate_grpc.client.v1 import client_pb2, client_pb2_grpc, data_pb2, jobs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.wire.rpc_errors import error_from_rpc

CHUNK_BYTES = 1024 * 1024
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
END_JOB_STATUSES = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}


@dataclass(frozen=True)
class ClientTls:
    """TLS to the node: the CA that issued its certificate, and the user's own certificate."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None
    server_name: str | None = None

    @classmethod
    def from_files(
        cls, ca: str, cert: str | None = None, key: str | None = None, server_name: str | None = None
    ) -> ClientTls:
        def read(path: str | None, what: str) -> bytes | None:
            if not path:
                return None
            try:
                return Path(path).expanduser().read_bytes()
            except OSError as exc:
                raise FateGrpcError(
                    ErrorCode.CLIENT_CONFIG, f"cannot read {what} {path}: {exc.strerror}"
                ) from None

        return cls(read(ca, "CA file") or b"", read(cert, "certificate"), read(key, "key"), server_name)


class FlowClient:
    def __init__(
        self,
        address: str,
        *,
        timeout_s: float = 60.0,
        tls: ClientTls | None = None,
        token: str | None = None,
    ) -> None:
        self.address = address
        self._timeout = timeout_s
        self._side = ClientSide(
            tls=tls is not None, certificate=bool(tls is not None and tls.cert), token=bool(token)
        )
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        options: list[tuple[str, Any]] = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ]
        if tls is None:
            self._channel = grpc.insecure_channel(address, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=tls.ca, private_key=tls.key, certificate_chain=tls.cert
            )
            if tls.server_name:
                options.append(("grpc.ssl_target_name_override", tls.server_name))
            self._channel = grpc.secure_channel(address, credentials, options=options)
        self._stub = client_pb2_grpc.ClientServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> FlowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, rpc: str, request: Any, *, timeout: float | None = None) -> Any:
        try:
            return getattr(self._stub, rpc)(
                request, timeout=timeout or self._timeout, metadata=self._metadata
            )
        except grpc.RpcError as exc:
            raise _client_error(exc, self.address, self._side) from None

    def call(self, rpc: str, request: Any, *, timeout: float | None = None) -> Any:
        """Any unary RPC of the ClientService, errors mapped back by code."""
        return self._call(rpc, request, timeout=timeout)

    def stream(self, rpc: str, request: Any, *, timeout: float = 24 * 3600.0) -> Iterator[Any]:
        """The answers of a server-streaming RPC, errors mapped back by code."""
        try:
            yield from getattr(self._stub, rpc)(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise _client_error(exc, self.address, self._side) from None

    def send_stream(self, rpc: str, requests: Iterator[Any], *, timeout: float = 24 * 3600.0) -> Any:
        """A client-streaming RPC: `requests` is read as gRPC sends it."""
        return self._call(rpc, requests, timeout=timeout)

    def node_info(self) -> client_pb2.GetNodeInfoResponse:
        return self._call("GetNodeInfo", client_pb2.GetNodeInfoRequest(), timeout=10)

    def submit_job(self, dag_yaml: str, user_name: str = "") -> client_pb2.SubmitJobResponse:
        return self._call("SubmitJob", client_pb2.SubmitJobRequest(dag_yaml=dag_yaml, user_name=user_name))

    def query_job(self, job_id: str) -> client_pb2.QueryJobResponse:
        return self._call("QueryJob", client_pb2.QueryJobRequest(job_id=job_id))

    def query_tasks(self, job_id: str, **filters: Any) -> client_pb2.QueryTasksResponse:
        return self._call("QueryTasks", client_pb2.QueryTasksRequest(job_id=job_id, **filters))

    def stop_job(self, job_id: str, *, force: bool = False) -> client_pb2.StopJobResponse:
        return self._call("StopJob", client_pb2.StopJobRequest(job_id=job_id, force=force))

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

    def upload_data(
        self, header: data_pb2.UploadDataHeader, file: Path | None
    ) -> data_pb2.UploadDataResponse:
        """Upload a file with FATE's upload conf: streamed from this machine, or (file None) the
        header's server_file, read by the node."""

        def requests() -> Iterator[data_pb2.UploadDataRequest]:
            yield data_pb2.UploadDataRequest(header=header)
            if file is None:
                return
            with open(file, "rb") as source:
                while chunk := source.read(CHUNK_BYTES):
                    yield data_pb2.UploadDataRequest(chunk=chunk)

        return self._call("UploadData", requests(), timeout=3600)

    def display_table(self, namespace: str, name: str, limit: int = 0) -> data_pb2.DisplayTableResponse:
        request = data_pb2.DisplayTableRequest(namespace=namespace, name=name, limit=limit)
        return self._call("DisplayTable", request)

    def transform_table(self, request: data_pb2.TransformTableRequest) -> data_pb2.TransformTableResponse:
        return self._call("TransformTable", request, timeout=3600)

    def bind_table(self, namespace: str, name: str, path: str) -> data_pb2.BindTableResponse:
        request = data_pb2.BindTableRequest(namespace=namespace, name=name, path=path)
        return self._call("BindTable", request, timeout=3600)

    def save_table_on_node(self, namespace: str, name: str, path: str) -> data_pb2.SaveTableOnNodeResponse:
        request = data_pb2.SaveTableOnNodeRequest(namespace=namespace, name=name, path=path)
        return self._call("SaveTableOnNode", request, timeout=3600)

    def create_token(
        self, name: str, *, admin: bool = False, expires_s: int = 0
    ) -> client_pb2.CreateTokenResponse:
        return self._call(
            "CreateToken", client_pb2.CreateTokenRequest(name=name, admin=admin, expires_s=expires_s)
        )

    def list_tokens(self) -> client_pb2.ListTokensResponse:
        return self._call("ListTokens", client_pb2.ListTokensRequest())

    def revoke_token(self, name: str) -> client_pb2.RevokeTokenResponse:
        return self._call("RevokeToken", client_pb2.RevokeTokenRequest(name=name))

    def grant(
        self, party_id: str, components: list[str], datasets: list[tuple[str, str]]
    ) -> client_pb2.GrantPermissionResponse:
        request = client_pb2.GrantPermissionRequest(
            party_id=party_id,
            components=components,
            datasets=[client_pb2.DatasetRef(namespace=ns, name=n) for ns, n in datasets],
        )
        return self._call("GrantPermission", request)

    def revoke(
        self,
        party_id: str,
        components: list[str],
        datasets: list[tuple[str, str]],
        *,
        everything: bool = False,
    ) -> client_pb2.RevokePermissionResponse:
        request = client_pb2.RevokePermissionRequest(
            party_id=party_id,
            components=components,
            datasets=[client_pb2.DatasetRef(namespace=ns, name=n) for ns, n in datasets],
            all=everything,
        )
        return self._call("RevokePermission", request)

    def query_permission(self, party_id: str = "") -> client_pb2.QueryPermissionResponse:
        return self._call("QueryPermission", client_pb2.QueryPermissionRequest(party_id=party_id))

    def watch_job(self, job_id: str, *, timeout_s: float = 7 * 24 * 3600) -> Iterator[common_pb2.JobView]:
        """The job's view on every change until it ends (a server stream, no polling)."""
        try:
            for answer in self._stub.WatchJob(
                client_pb2.WatchJobRequest(job_id=job_id), timeout=timeout_s, metadata=self._metadata
            ):
                yield answer.job
        except grpc.RpcError as exc:
            raise _client_error(exc, self.address, self._side) from None

    def rerun_job(self, job_id: str) -> client_pb2.RerunJobResponse:
        return self._call("RerunJob", client_pb2.RerunJobRequest(job_id=job_id))

    def clean_job(self, job_id: str) -> client_pb2.CleanJobResponse:
        return self._call("CleanJob", client_pb2.CleanJobRequest(job_id=job_id))

    def list_jobs(self, *, limit: int = 10, **filters: str) -> client_pb2.ListJobsResponse:
        """Filters: status, party_id, job_id (contained in the id), role (this node's)."""
        return self._call("ListJobs", client_pb2.ListJobsRequest(limit=limit, **filters))

    def list_tasks(self, *, limit: int = 10, **filters: str) -> client_pb2.ListTasksResponse:
        """Filters: job_id, status, role, party_id, task_name."""
        return self._call("ListTasks", client_pb2.ListTasksRequest(limit=limit, **filters))

    def job_dependency(self, job_id: str, role: str, party_id: str) -> jobs_pb2.GetJobDependencyResponse:
        return self._call(
            "GetJobDependency",
            jobs_pb2.GetJobDependencyRequest(job_id=job_id, role=role, party_id=party_id),
        )

    def add_job_notes(
        self, job_id: str, role: str, party_id: str, notes: str
    ) -> jobs_pb2.AddJobNotesResponse:
        request = jobs_pb2.AddJobNotesRequest(job_id=job_id, role=role, party_id=party_id, notes=notes)
        return self._call("AddJobNotes", request)

    def download_job_log(self, job_id: str) -> Iterator[bytes]:
        """The pieces of a tar.gz of this party's logs of the job."""
        for answer in self.stream("DownloadJobLog", jobs_pb2.DownloadJobLogRequest(job_id=job_id)):
            yield answer.chunk

    def clean_queue(self) -> jobs_pb2.CleanQueueResponse:
        return self._call("CleanQueue", jobs_pb2.CleanQueueRequest())

    def query_log(
        self, selector: jobs_pb2.LogSelector, begin: int = 0, end: int = 0
    ) -> jobs_pb2.QueryLogResponse:
        return self._call("QueryLog", jobs_pb2.QueryLogRequest(log=selector, begin=begin, end=end))

    def count_log(self, selector: jobs_pb2.LogSelector) -> jobs_pb2.CountLogResponse:
        return self._call("CountLog", jobs_pb2.CountLogRequest(log=selector))

    def check_partners(self, timeout_s: float = 0.0) -> jobs_pb2.CheckPartnersResponse:
        # The node checks every partner concurrently within timeout_s; leave it time to answer.
        return self._call(
            "CheckPartners",
            jobs_pb2.CheckPartnersRequest(timeout_s=timeout_s),
            timeout=(timeout_s or 2.0) + 10,
        )

    def job_log(self, job_id: str, **filters: Any) -> Iterator[client_pb2.GetJobLogResponse]:
        try:
            yield from self._stub.GetJobLog(
                client_pb2.GetJobLogRequest(job_id=job_id, **filters),
                timeout=self._timeout,
                metadata=self._metadata,
            )
        except grpc.RpcError as exc:
            raise _client_error(exc, self.address, self._side) from None

    def register_provider(self, info: client_pb2.ProviderInfo) -> client_pb2.RegisterProviderResponse:
        return self._call("RegisterProvider", client_pb2.RegisterProviderRequest(provider=info))

    def query_provider(self, name: str = "") -> client_pb2.QueryProviderResponse:
        return self._call("QueryProvider", client_pb2.QueryProviderRequest(name=name))

    def delete_provider(self, name: str, version: str, device: str) -> client_pb2.DeleteProviderResponse:
        return self._call(
            "DeleteProvider", client_pb2.DeleteProviderRequest(name=name, version=version, device=device)
        )

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


def _client_error(exc: grpc.RpcError, address: str, side: ClientSide) -> FateGrpcError:
    error = error_from_rpc(exc, address=address, what="node")
    if error.code is not ErrorCode.PARTY_UNAVAILABLE or "party_id" in error.fields:
        return error
    details = (exc.details() if hasattr(exc, "details") else "") or ""
    if "last error:" in details:
        # The channel to this node itself failed: say why (refused, TLS, closed, timed out).
        return connection_error(address, details, side)
    error.code = ErrorCode.NODE_UNREACHABLE
    error.hint = "check that the node at this address is running and reachable"
    return error
