"""The ComponentContext a task process runs with: every call goes to its own node's WorkerService."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table, TableSchema, read_table, write_table
from fate_grpc.services.convert import dict_from_struct
from fate_grpc.worker.v1 import worker_pb2, worker_pb2_grpc

TOKEN_METADATA_KEY = "x-fate-grpc-task-token"
CHUNK_BYTES = 1024 * 1024
SEND_ATTEMPTS = 5
SEND_TIMEOUT_S = 3600.0
UNARY_TIMEOUT_S = 60.0


class WorkerContext:
    """A component's view of its task at one party, backed by the node's worker API."""

    def __init__(self, channel: grpc.Channel, token: str, spec: worker_pb2.GetTaskSpecResponse) -> None:
        self._stub = worker_pb2_grpc.WorkerServiceStub(channel)
        self._metadata = ((TOKEN_METADATA_KEY, token),)
        self._spec = spec
        self._parameters = dict_from_struct(spec.parameters)
        self._parties = tuple(Party(p.role, p.party_id) for p in spec.parties)
        self._inputs: dict[str, list[worker_pb2.InputArtifact]] = {}
        for artifact in spec.inputs:
            self._inputs.setdefault(artifact.key, []).append(artifact)
        for items in self._inputs.values():
            items.sort(key=lambda a: a.index)
        self._log = logging.getLogger(f"fate_grpc.task.{spec.task_name}")

    @property
    def role(self) -> str:
        return self._spec.role

    @property
    def party_id(self) -> str:
        return self._spec.party_id

    @property
    def parties(self) -> tuple[Party, ...]:
        return self._parties

    @property
    def parameters(self) -> dict[str, Any]:
        return self._parameters

    @property
    def stage(self) -> str:
        return self._spec.stage

    @property
    def log(self) -> logging.Logger:
        return self._log

    # -- federation ------------------------------------------------------------------------------
    def send(self, tag: str, destination: Party, payload: bytes) -> None:
        """Deliver the payload; resends after a transport failure are dropped by the receiver."""
        delay = 0.2
        for attempt in range(SEND_ATTEMPTS):
            try:
                self._stub.SendObject(
                    _send_requests(tag, destination, payload), metadata=self._metadata, timeout=SEND_TIMEOUT_S
                )
                return
            except grpc.RpcError as exc:
                retryable = exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                if not retryable or attempt == SEND_ATTEMPTS - 1:
                    raise ComponentError(
                        f"sending {tag!r} to {destination} failed: {exc.details()}"
                    ) from None
                time.sleep(delay)
                delay *= 2

    def receive(self, tag: str, source: Party, timeout_s: float | None = None) -> bytes:
        request = worker_pb2.ReceiveObjectRequest(
            tag=tag,
            source=common_pb2.PartyRef(role=source.role, party_id=source.party_id),
            timeout_s=timeout_s or self._spec.receive_timeout_s,
        )
        parts: list[bytes] = []
        try:
            # The node enforces the wait; our own deadline only guards against a node that hangs.
            deadline = request.timeout_s + 60
            for message in self._stub.ReceiveObject(request, metadata=self._metadata, timeout=deadline):
                if message.WhichOneof("part") == "chunk":
                    parts.append(message.chunk)
        except grpc.RpcError as exc:
            raise ComponentError(f"receiving {tag!r} from {source} failed: {exc.details()}") from None
        return b"".join(parts)

    def report_progress(self, percent: int) -> None:
        try:
            self._stub.ReportProgress(
                worker_pb2.ReportProgressRequest(progress=max(0, min(100, int(percent)))),
                metadata=self._metadata,
                timeout=UNARY_TIMEOUT_S,
            )
        except grpc.RpcError as exc:
            # Progress is informative only; a failed report must not fail the task.
            self._log.warning("progress report failed: %s", exc.details())

    # -- data ------------------------------------------------------------------------------------
    def has_input(self, key: str) -> bool:
        return key in self._inputs

    def read_input_table(self, key: str, index: int = 0) -> Table:
        items = self._inputs.get(key)
        if not items or index >= len(items):
            raise ComponentError(f"input {key!r} is not available at {self.role} {self.party_id}")
        artifact = items[index]
        info = artifact.table
        schema = TableSchema(
            header=tuple(info.header),
            match_id_name=info.match_id_name,
            label_name=info.label_name,
            weight_name=info.weight_name,
            delimiter=info.delimiter or ",",
        )
        return read_table(artifact.path, schema)

    def write_output_table(self, key: str, table: Table) -> None:
        path = Path(self._spec.work_dir) / "outputs" / f"{key}.csv"
        write_table(table, path)
        schema = table.schema
        info = common_pb2.TableInfo(
            count=len(table),
            header=list(schema.header),
            match_id_name=schema.match_id_name,
            label_name=schema.label_name,
            weight_name=schema.weight_name,
            delimiter=schema.delimiter,
        )
        self._stub.RegisterOutputData(
            worker_pb2.RegisterOutputDataRequest(output_key=key, path=str(path), table=info),
            metadata=self._metadata,
            timeout=UNARY_TIMEOUT_S,
        )


def _send_requests(tag: str, destination: Party, payload: bytes) -> Iterator[worker_pb2.SendObjectRequest]:
    yield worker_pb2.SendObjectRequest(
        header=worker_pb2.SendObjectHeader(
            tag=tag,
            destination=common_pb2.PartyRef(role=destination.role, party_id=destination.party_id),
            total_size=len(payload),
        )
    )
    view = memoryview(payload)
    for start in range(0, len(view), CHUNK_BYTES):
        yield worker_pb2.SendObjectRequest(chunk=bytes(view[start : start + CHUNK_BYTES]))
