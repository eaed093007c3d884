"""Task attempts at this party: start their processes, stop them, serve their spec, take their outputs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.providers import Provider, ProviderRegistry
from fate_grpc.data.paths import NodePaths
from fate_grpc.data.warehouse import ModelSource, ModelWarehouse
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import ResolvedInput, ResolvedTask, job_model_ref, resolve_task, task_parties
from fate_grpc.domain.ids import check_name
from fate_grpc.domain.status import TASK_END_STATUSES, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError, internal, invalid_argument
from fate_grpc.participant.participant import Participant
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.runner.supervisor import TaskSupervisor
from fate_grpc.store.interface import Store
from fate_grpc.store.records import MetricRecord, ModelRecord, OutputRecord, TableRecord, TaskKey, TaskRecord
from fate_grpc.wire.convert import model_to_proto, table_to_proto
from fate_grpc.wire.typed_values import typed_map
from fate_grpc.worker.v1 import worker_pb2

log = logging.getLogger("fate_grpc.tasks")

# How long a task process's first call waits for the node to record its start (well inside the
# process's own deadline for that call).
SPEC_WAIT_S = 30.0


@dataclass(frozen=True)
class PreparedTask:
    """What a started task process will ask for: its resolved definition and inputs."""

    key: TaskKey
    resolved: ResolvedTask
    inputs: tuple[worker_pb2.InputArtifact, ...]
    work_dir: Path
    provider: Provider
    # Built before the process starts, so a value that cannot be sent fails the task with its path.
    parameters: common_pb2.TypedMap
    conf: common_pb2.TypedMap
    # Set once the node has recorded the task as running. The process gets its spec only then, so
    # a task that ends within milliseconds cannot report its result before its start is recorded.
    start_recorded: asyncio.Event = field(default_factory=asyncio.Event)


class TaskRuntime:
    def __init__(
        self,
        *,
        store: Store,
        catalog: ComponentCatalog,
        dags: DagCache,
        paths: NodePaths,
        supervisor: TaskSupervisor,
        participant: Participant,
        receive_timeout_s: float,
        providers: ProviderRegistry,
        warehouse: ModelWarehouse,
    ) -> None:
        self._providers = providers
        self._warehouse = warehouse
        self._store = store
        self._catalog = catalog
        self._dags = dags
        self._paths = paths
        self._supervisor = supervisor
        self._participant = participant
        self._receive_timeout = receive_timeout_s
        self._prepared: dict[TaskKey, PreparedTask] = {}

    @property
    def party_id(self) -> str:
        return self._participant.party_id

    # -- start -----------------------------------------------------------------------------------
    async def start_task(self, job_id: str, task_name: str, attempt: int) -> list[str]:
        """Start the attempt at every role this party plays in it. Idempotent for a running attempt."""
        rows = await self._participant.ensure_attempt_rows(job_id, task_name, attempt)
        started = []
        for row in rows:
            if row.party_status is TaskStatus.RUNNING and self._supervisor.is_running(row.key):
                started.append(row.key.role)
                continue
            if row.party_status is not TaskStatus.WAITING:
                raise FateGrpcError(
                    ErrorCode.CONFLICT,
                    f"task {task_name} attempt {attempt} at {row.key.role} {self.party_id} is already"
                    f" {row.party_status.value}",
                )
            await self._start_one(row)
            started.append(row.key.role)
        return started

    async def _start_one(self, row: TaskRecord) -> None:
        key = row.key
        try:
            prepared = await self._prepare(key)
        except FateGrpcError as exc:
            await self._fail_before_start(row, _task_problem(exc))
            return
        self._prepared[key] = prepared
        try:
            pid = await self._spawn(key, prepared.work_dir)
        except FateGrpcError as exc:
            self._prepared.pop(key, None)
            await self._fail_before_start(row, _task_problem(exc))
            return
        try:
            await self._store.transition_task_party_status(
                key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING, pid=pid
            )
        except FateGrpcError:
            await self._supervisor.stop(key)
            raise
        prepared.start_recorded.set()
        await self._participant.mark_started(key)
        self._participant.report_soon(key)

    async def _fail_before_start(self, row: TaskRecord, reason: str) -> None:
        message = f"{row.key.role} {self.party_id}: {reason}"
        await self._store.transition_task_party_status(
            row.key, expected=TaskStatus.WAITING, to=TaskStatus.FAILED, error=message
        )
        self._participant.report_soon(row.key)

    async def _spawn(self, key: TaskKey, work_dir: Path) -> int:
        with _step(key, "starting the task process"):
            pid = await self._supervisor.start(key, work_dir)
        return pid

    async def _prepare(self, key: TaskKey) -> PreparedTask:
        with _step(key, "resolving the task from the job's DAG"):
            dag = await self._dags.get(key.job_id)
            resolved = resolve_task(dag, key.task_name, key.role, key.party_id, self._catalog)
        if resolved is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"task {key.task_name} does not run at {key.role}")
        with _step(key, "resolving the task's inputs"):
            inputs = list(await self._resolve_inputs(key, resolved))
            if resolved.component == "reader":
                inputs.append(await self._reader_table(resolved))
        with _step(key, "building the task's spec"):
            provider = self._providers.resolve(resolved.component, resolved.conf.get("provider"))
            where = f"dag.tasks.{key.task_name}"
            parameters = typed_map(resolved.parameters, f"{where}.parameters")
            conf = typed_map(resolved.conf, f"{where}.conf")
        work_dir = self._paths.task_dir(key)
        with _step(key, "clearing the attempt's old outputs"):
            # A retried attempt directory may hold old outputs; removing them is file I/O, off the loop.
            await asyncio.to_thread(shutil.rmtree, work_dir / "outputs", True)
        return PreparedTask(
            key=key,
            resolved=resolved,
            inputs=tuple(inputs),
            work_dir=work_dir,
            provider=provider,
            parameters=parameters,
            conf=conf,
        )

    async def _resolve_inputs(self, key: TaskKey, resolved: ResolvedTask) -> list[worker_pb2.InputArtifact]:
        artifacts = []
        for item in resolved.inputs:
            if item.kind == "model":
                artifacts.append(await self._model_input(key, item))
            else:
                artifacts.append(await self._data_input(key, item))
        return artifacts

    async def _data_input(self, key: TaskKey, item: ResolvedInput) -> worker_pb2.InputArtifact:
        if item.source == "data_warehouse" and item.namespace and item.name:
            table = await self._store.find_table(item.namespace, item.name)
            if table is None:
                raise FateGrpcError(
                    ErrorCode.NOT_FOUND,
                    f"input {item.key}: table {item.namespace}.{item.name} does not exist",
                )
        elif item.producer_task and item.output_artifact_key:
            # A task output of this job, or (data_warehouse) of an earlier job at this party.
            job_id = item.job_id if item.source == "data_warehouse" and item.job_id else key.job_id
            table = await self._task_output_table(job_id, key, item)
        else:
            raise FateGrpcError(
                ErrorCode.INVALID_ARGUMENT,
                f"input {item.key}: a {item.source} input needs a (namespace, name) or a"
                " (job_id, producer_task, output_artifact_key)",
            )
        return worker_pb2.InputArtifact(
            key=item.key,
            kind=item.kind,
            index=item.index,
            producer_task=item.producer_task or "",
            output_key=item.output_artifact_key or "",
            table=table_to_proto(table),
            path=table.path,
        )

    async def _task_output_table(self, job_id: str, key: TaskKey, item: ResolvedInput) -> TableRecord:
        outputs = await self._store.list_outputs(
            job_id, task_name=item.producer_task, role=key.role, party_id=key.party_id
        )
        matching = [o for o in outputs if o.output_key == item.output_artifact_key]
        if not matching:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND,
                f"input {item.key}: task {item.producer_task} of job {job_id} has no output"
                f" {item.output_artifact_key} at {key.role} {key.party_id}",
            )
        latest = max(matching, key=lambda o: o.key.attempt)
        return await self._store.get_table(latest.namespace, latest.name)

    async def _model_input(self, key: TaskKey, item: ResolvedInput) -> worker_pb2.InputArtifact:
        producer, output_key = item.producer_task or "", item.output_artifact_key or ""
        if item.source == "model_warehouse":
            model_id, version = item.model_id or "", item.model_version or ""
            model = await self._warehouse.find(
                model_id, version, key.role, key.party_id, producer, output_key
            )
            where = f"model {model_id} version {version}"
        else:
            found = [
                m
                for m in await self._warehouse.of_job_task(key.job_id, producer, key.role, key.party_id)
                if m.output_key == output_key
            ]
            model = found[0] if found else None
            where = f"job {key.job_id}"
        if model is None:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND,
                f"input {item.key}: {where} has no model {producer}.{output_key}"
                f" for {key.role} {key.party_id}",
            )
        return worker_pb2.InputArtifact(
            key=item.key,
            kind="model",
            index=item.index,
            producer_task=producer,
            output_key=output_key,
            path=model.path,
            model=model_to_proto(model),
        )

    async def _reader_table(self, resolved: ResolvedTask) -> worker_pb2.InputArtifact:
        namespace = str(resolved.parameters.get("namespace", ""))
        name = str(resolved.parameters.get("name", ""))
        table = await self._store.find_table(namespace, name)
        if table is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"table {namespace}.{name} does not exist")
        return worker_pb2.InputArtifact(
            key="table", kind="data", table=table_to_proto(table), path=table.path
        )

    # -- what the task process asks for ----------------------------------------------------------
    async def spec_for(self, key: TaskKey) -> worker_pb2.GetTaskSpecResponse:
        prepared = self._prepared.get(key)
        if prepared is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, "this task is no longer known to its node")
        try:
            await asyncio.wait_for(prepared.start_recorded.wait(), timeout=SPEC_WAIT_S)
        except TimeoutError:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND, "the node did not record this task's start in time"
            ) from None
        resolved = prepared.resolved
        provider = prepared.provider
        return worker_pb2.GetTaskSpecResponse(
            provider=str(provider.ref),
            provider_module=provider.module,
            provider_path=provider.path,
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            component=resolved.component,
            role=key.role,
            party_id=key.party_id,
            stage=resolved.stage,
            parameters=prepared.parameters,
            conf=prepared.conf,
            parties=[common_pb2.PartyRef(role=p.role, party_id=p.party_id) for p in resolved.parties],
            inputs=list(prepared.inputs),
            work_dir=str(prepared.work_dir),
            receive_timeout_s=self._receive_timeout,
        )

    async def task_parties_of(self, key: TaskKey) -> set[tuple[str, str]]:
        dag = await self._dags.get(key.job_id)
        return {(p.role, p.party_id) for p in task_parties(dag, key.task_name)}

    async def register_output(
        self, key: TaskKey, output_key: str, path: str, info: common_pb2.TableInfo
    ) -> TableRecord:
        prepared = self._prepared.get(key)
        if prepared is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, "this task is no longer known to its node")
        file_path = self._paths.confine(Path(path))
        if prepared.work_dir not in file_path.parents or not file_path.is_file():
            raise invalid_argument(
                "output file must be an existing file inside the task's work dir", field_path="path"
            )
        namespace = f"{key.job_id}_{key.task_name}"
        name = f"{key.role}_{key.party_id}_{output_key}_{key.attempt}"
        table = TableRecord(
            namespace=namespace,
            name=name,
            path=str(file_path),
            count=info.count,
            header=tuple(info.header),
            match_id_name=info.match_id_name,
            label_name=info.label_name,
            weight_name=info.weight_name,
            delimiter=info.delimiter or ",",
            source_job_id=key.job_id,
            source_task=key.task_name,
        )
        await self._store.put_output(OutputRecord(key, output_key, namespace, name), table)
        return table

    async def register_output_model(self, key: TaskKey, output_key: str, path: str) -> ModelRecord:
        prepared = self._prepared.get(key)
        if prepared is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, "this task is no longer known to its node")
        check_name(output_key, "output_key")
        folder = self._paths.confine(Path(path))
        if prepared.work_dir not in folder.parents:
            raise invalid_argument("a model must be written inside the task's work dir", field_path="path")
        dag = await self._dags.get(key.job_id)
        model_id, model_version = job_model_ref(dag, key.job_id)
        source = ModelSource(key, output_key, prepared.resolved.component, model_id, model_version)
        return await self._warehouse.save_task_model(source, folder)

    async def on_worker_metrics(self, key: TaskKey, metrics: list[MetricRecord]) -> None:
        if key not in self._prepared:
            raise FateGrpcError(ErrorCode.NOT_FOUND, "this task is no longer known to its node")
        await self._store.add_metrics(key, metrics)

    async def on_worker_progress(self, key: TaskKey, progress: int) -> None:
        await self._store.set_task_progress(key, max(0, min(100, progress)))
        self._participant.report_soon(key)

    async def on_worker_status(
        self, key: TaskKey, status: TaskStatus, error: str, traceback: str = ""
    ) -> None:
        """The task process says it finished (success or failed)."""
        if status not in TASK_END_STATUSES:
            return  # running is already recorded when the process starts
        row = await self._store.get_task(key)
        if row.party_status is not TaskStatus.RUNNING:
            return
        if traceback:
            await self._store.set_task_traceback(key, traceback)
        message = f"{key.role} {key.party_id}: {error}" if error else ""
        await self._store.transition_task_party_status(
            key, expected=TaskStatus.RUNNING, to=status, error=message
        )
        self._participant.report_soon(key)

    async def on_process_exit(self, key: TaskKey, code: int, stopped: bool) -> None:
        self._prepared.pop(key, None)
        if stopped:
            return  # stop_task records the status it was asked for
        row = await self._store.get_task(key)
        if row.party_status is not TaskStatus.RUNNING:
            return
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        try:
            await self._store.transition_task_party_status(
                key,
                expected=TaskStatus.RUNNING,
                to=TaskStatus.FAILED,
                error=f"{key.role} {key.party_id}: task process {how} before reporting a result"
                f" (see its log: flow job log -j {key.job_id} -r {key.role} -p {key.party_id}"
                f" -tn {key.task_name})",
            )
        except FateGrpcError as exc:
            if exc.code is not ErrorCode.CONFLICT:
                raise
            return  # its own report of the result got there first
        self._participant.report_soon(key)

    # -- stop ------------------------------------------------------------------------------------
    async def stop_task(
        self, job_id: str, task_name: str, attempt: int, status: TaskStatus, reason: str
    ) -> int:
        killed = 0
        for row in await self._store.list_tasks(job_id, task_name=task_name, attempt=attempt):
            killed += await self._stop_row(row, status, reason)
        return killed

    async def stop_job(self, job_id: str, status: TaskStatus, reason: str) -> int:
        killed = 0
        for row in await self._store.list_tasks(job_id):
            if row.party_status is TaskStatus.RUNNING:
                killed += await self._stop_row(row, status, reason)
        return killed

    async def _stop_row(self, row: TaskRecord, status: TaskStatus, reason: str) -> int:
        was_running = await self._supervisor.stop(row.key)
        self._prepared.pop(row.key, None)
        if row.party_status in (TaskStatus.RUNNING, TaskStatus.WAITING):
            target = status if row.party_status is TaskStatus.RUNNING else TaskStatus.CANCELED
            try:
                await self._store.transition_task_party_status(
                    row.key, expected=row.party_status, to=target, error=reason
                )
                self._participant.report_soon(row.key)
            except FateGrpcError as exc:
                if exc.code not in (ErrorCode.CONFLICT, ErrorCode.INVALID_TRANSITION):
                    raise
        return int(was_running)


@contextlib.contextmanager
def _step(key: TaskKey, what: str) -> Iterator[None]:
    """Turn an unexpected failure of one preparation step into an error saying which step failed.

    The traceback goes to the node log only; the task's error names the step and the exception type.
    """
    try:
        yield
    except FateGrpcError:
        raise
    except OSError as exc:
        log.exception("task %s attempt %s at %s: %s failed", key.task_name, key.attempt, key.role, what)
        raise internal(f"{what} failed: {exc.strerror or type(exc).__name__}") from None
    except Exception as exc:
        log.exception("task %s attempt %s at %s: %s failed", key.task_name, key.attempt, key.role, what)
        raise internal(
            f"{what} failed unexpectedly ({type(exc).__name__}; the traceback is in this node's log,"
            " logs/node.log)"
        ) from None


def _task_problem(error: FateGrpcError) -> str:
    """A preparation error as the task's error: the message, with the field path if it does not say it."""
    fields = [v.field for v in error.violations if v.field and v.field not in error.message]
    return f"{fields[0]}: {error.message}" if fields else error.message
