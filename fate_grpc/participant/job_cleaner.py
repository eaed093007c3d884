"""Removing a finished job from this party: its rows, the tables only it produced, its files."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import anyio

from fate_grpc.data.paths import NodePaths
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.domain.status import JOB_END_STATUSES
from fate_grpc.errors import invalid_transition
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.store.interface import Store
from fate_grpc.transfer.mailbox import Mailbox


class JobCleaner:
    def __init__(
        self, *, store: Store, paths: NodePaths, dags: DagCache, mailbox: Mailbox, warehouse: ModelWarehouse
    ) -> None:
        self._store = store
        self._warehouse = warehouse
        self._paths = paths
        self._dags = dags
        self._mailbox = mailbox

    async def clean(self, job_id: str) -> bool:
        job = await self._store.find_job(job_id)
        if job is None:
            return False
        if job.status not in JOB_END_STATUSES:
            raise invalid_transition(f"job {job_id} is {job.status.value}: stop it before cleaning it")
        # As FATE's job clean: the job's models go too (also from the warehouse).
        await self._warehouse.delete(job_id=job_id)
        table_files = await self._store.clean_job(job_id)
        self._dags.forget(job_id)
        self._mailbox.drop_job(job_id)
        job_dir = self._paths.confine(self._paths.jobs_dir / job_id)
        await anyio.to_thread.run_sync(_remove, job_dir, [Path(p) for p in table_files], self._paths)
        return True


def _remove(job_dir: Path, files: list[Path], paths: NodePaths) -> None:
    for file in files:
        with contextlib.suppress(OSError, Exception):
            paths.confine(file).unlink(missing_ok=True)
    shutil.rmtree(job_dir, ignore_errors=True)
