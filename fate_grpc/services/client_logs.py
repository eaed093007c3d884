"""ClientService RPCs over a job's logs at this party: FATE's log types (query, count) and the tar.gz
download (mixed into ClientServicer)."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import anyio
import grpc

from fate_grpc.client.v1 import jobs_pb2
from fate_grpc.data.paths import NodePaths
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.log_types import LogQuery, check_log_query, line_window, select_lines
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.security.identity import ClientAuthenticator
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.store.interface import Store

DOWNLOAD_CHUNK_BYTES = 1024 * 1024
# A log query answers in one message: past this many lines, ask for a window with begin/end.
MAX_QUERY_LINES = 20_000


class ClientLogRpcs:
    """Needs the attributes ClientServicer sets."""

    _auth: ClientAuthenticator
    _store: Store
    _paths: NodePaths
    _job_log: JobLog
    _party_id: str
    _gateway: PartyGateway

    @unary_edge
    async def QueryLog(
        self, request: jobs_pb2.QueryLogRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.QueryLogResponse:
        await self._auth.user(context)
        query = await self._log_query(request.log)
        lines = await anyio.to_thread.run_sync(self._selected_lines, query)
        start, stop = line_window(len(lines), request.begin, request.end)
        if stop - start > MAX_QUERY_LINES:
            raise FateGrpcError(
                ErrorCode.RESOURCE_EXHAUSTED,
                f"the log has {stop - start} lines in that range, more than {MAX_QUERY_LINES} in one answer",
                hint="ask for a window: --begin N --end M (flow log count gives the number of lines)",
            )
        return jobs_pb2.QueryLogResponse(
            lines=[
                jobs_pb2.LogLine(line_num=number + 1, content=lines[number]) for number in range(start, stop)
            ]
        )

    @unary_edge
    async def CountLog(
        self, request: jobs_pb2.CountLogRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.CountLogResponse:
        await self._auth.user(context)
        query = await self._log_query(request.log)
        lines = await anyio.to_thread.run_sync(self._selected_lines, query)
        return jobs_pb2.CountLogResponse(count=len(lines))

    @stream_edge
    async def DownloadJobLog(
        self, request: jobs_pb2.DownloadJobLogRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[jobs_pb2.DownloadJobLogResponse]:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        files = await anyio.to_thread.run_sync(self._job_log_files, job.job_id)
        if not files:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND,
                f"party {self._party_id} has no log of job {job.job_id} yet",
                fields={"job_id": job.job_id},
            )
        # The archive is built in a temporary file (off the event loop) and sent in chunks, so a
        # big log never sits in memory.
        with tempfile.TemporaryFile(dir=self._paths.tmp_dir) as archive:
            await anyio.to_thread.run_sync(_write_archive, archive, files)
            archive.seek(0)
            while chunk := await anyio.to_thread.run_sync(archive.read, DOWNLOAD_CHUNK_BYTES):
                yield jobs_pb2.DownloadJobLogResponse(chunk=chunk)

    async def _log_query(self, selector: Any) -> LogQuery:
        query = check_log_query(
            selector.log_type, selector.job_id, selector.role, selector.party_id, selector.task_name
        )
        check_name(query.job_id, "job_id")
        if query.task_name:
            check_name(query.task_name, "task_name")
        if query.is_task_log:
            self._check_own_party(check_party_id(query.party_id))
        await self._store.get_job(query.job_id)
        return query

    def _check_own_party(self, party_id: str) -> None:
        """Task logs stay at the party whose task wrote them; the user is told where to ask."""
        if party_id == self._party_id:
            return
        address = self._gateway.routes().get(party_id)
        where = f" (its address in this node's routes: {address})" if address else ""
        raise FateGrpcError(
            ErrorCode.WRONG_PARTY,
            f"task logs of party {party_id} are kept at party {party_id}'s own node{where};"
            f" this node is party {self._party_id}",
            hint=f"ask party {party_id}'s node: flow --node HOST:PORT log query ... -p {party_id}",
            fields={"party_id": party_id, **({"address": address} if address else {})},
        )

    def _selected_lines(self, query: LogQuery) -> list[str]:
        if query.is_task_log:
            sources = [path for _, path in self._task_logs(query.job_id, query.role, query.task_name)]
        else:
            scheduler_log = self._job_log.path(query.job_id)
            sources = [scheduler_log] if scheduler_log.is_file() else []
        lines: list[str] = []
        for path in sources:
            with open(path, encoding="utf-8", errors="replace") as source:
                lines.extend(select_lines((line.rstrip("\n") for line in source), query.log_type))
        return lines

    def _task_logs(self, job_id: str, role: str, task_name: str) -> list[tuple[str, Path]]:
        """(name in the archive, path) of this party's task logs, by task then attempt."""
        job_dir = self._paths.confine(self._paths.jobs_dir / job_id)
        found = []
        for log_file in job_dir.glob("*/*/*/task.log"):
            attempt_dir = log_file.parent
            log_role, _, party = attempt_dir.parent.parent.name.partition("_")
            task = attempt_dir.parent.name
            if party != self._party_id or (role and log_role != role) or (task_name and task != task_name):
                continue
            if not attempt_dir.name.isdigit():
                continue
            name = f"{log_role}/{party}/{task}/{attempt_dir.name}/task.log"
            found.append(((task, int(attempt_dir.name), log_role), name, log_file))
        return [(name, path) for _, name, path in sorted(found)]

    def _job_log_files(self, job_id: str) -> list[tuple[str, Path]]:
        files = self._task_logs(job_id, "", "")
        scheduler_log = self._job_log.path(job_id)
        if scheduler_log.is_file():
            files.insert(0, ("scheduler.log", scheduler_log))
        return files


def _write_archive(archive: IO[bytes], files: list[tuple[str, Path]]) -> None:
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, path in files:
            tar.add(path, arcname=name, recursive=False)
