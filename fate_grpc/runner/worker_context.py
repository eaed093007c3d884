"""The ComponentContext a task process runs with: every call goes to its own node's WorkerService."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.context import (
    DEFAULT_METRIC_GROUPS,
    MODEL_DOCUMENT,
    MODEL_FILES_DIR,
    ComponentError,
    InputModel,
    MetricGroups,
    Party,
    model_file_names_problem,
)
from fate_grpc.components.table import Table, TableSchema, read_table, write_table
from fate_grpc.wire.convert import value_from_python
from fate_grpc.wire.typed_values import python_dict
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
        self._parameters = python_dict(spec.parameters)
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

    def log_metric(
        self,
        name: str,
        value: Any,
        *,
        type: str = "custom",
        step: int | None = None,
        step_axis: str | None = None,
        groups: MetricGroups = DEFAULT_METRIC_GROUPS,
    ) -> None:
        metric = common_pb2.Metric(name=name, type=type)
        for group_name, index in groups:
            group = metric.groups.add(name=group_name)
            if index is not None:
                group.index = index
        if step_axis is not None:
            metric.step_axis = step_axis
        point = metric.data.add(metric=value_from_python(_plain(value)), timestamp=time.time())
        if step is not None:
            point.step = int(step)
        try:
            self._stub.ReportMetrics(
                worker_pb2.ReportMetricsRequest(metrics=[metric]),
                metadata=self._metadata,
                timeout=UNARY_TIMEOUT_S,
            )
        except grpc.RpcError as exc:
            raise ComponentError(f"reporting metric {name!r} failed: {exc.details()}") from None

    # -- data ------------------------------------------------------------------------------------
    def has_input(self, key: str) -> bool:
        return key in self._inputs

    def input_count(self, key: str) -> int:
        return len(self._inputs.get(key, ()))

    def input_producer(self, key: str, index: int = 0) -> str:
        items = self._inputs.get(key, [])
        return items[index].producer_task if 0 <= index < len(items) else ""

    def read_input_model(self, key: str, index: int = 0) -> InputModel:
        items = self._inputs.get(key)
        if not items or index >= len(items) or items[index].kind != "model":
            raise ComponentError(f"model input {key!r} is not available at {self.role} {self.party_id}")
        artifact = items[index]
        folder = Path(artifact.path)
        try:
            document = json.loads((folder / MODEL_DOCUMENT).read_text(encoding="utf-8"))
            files_dir = folder / MODEL_FILES_DIR
            files = (
                {p.name: p.read_bytes() for p in sorted(files_dir.iterdir()) if p.is_file()}
                if files_dir.is_dir()
                else {}
            )
        except (OSError, ValueError) as exc:
            raise ComponentError(f"model input {key!r} cannot be read: {exc}") from None
        info = artifact.model
        source = {
            "model_id": info.model_id,
            "model_version": info.model_version,
            "task_name": info.task_name,
            "output_key": info.output_key,
            "component": info.component,
            "job_id": info.job_id,
        }
        return InputModel.from_document(document, files, source)

    def write_output_model(
        self, key: str, data: Any, meta: Any, files: Mapping[str, bytes] | None = None
    ) -> None:
        problem = model_file_names_problem(files or {})
        if problem:
            raise ComponentError(problem)
        folder = Path(self._spec.work_dir) / "outputs" / "models" / key
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            text = json.dumps(
                {"data": _plain(data), "meta": _plain(meta)}, allow_nan=False, ensure_ascii=False
            )
        except ValueError as exc:
            raise ComponentError(f"model {key!r} is not JSON-able: {exc}") from None
        (folder / MODEL_DOCUMENT).write_text(text, encoding="utf-8")
        if files:
            (folder / MODEL_FILES_DIR).mkdir()
            for name, content in files.items():
                (folder / MODEL_FILES_DIR / name).write_bytes(content)
        self._stub.RegisterOutputModel(
            worker_pb2.RegisterOutputModelRequest(output_key=key, path=str(folder)),
            metadata=self._metadata,
            timeout=UNARY_TIMEOUT_S,
        )

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


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python, so documents and metrics serialise as JSON."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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
