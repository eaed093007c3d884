"""Creating a job at every party, all or nothing: check everywhere, then create everywhere."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import anyio

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, job_model_ref, parse_dag, task_parties
from fate_grpc.domain.ids import new_job_id
from fate_grpc.domain.status import TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError, FieldViolation, job_rejected
from fate_grpc.parties.gateway import PartyFailure, PartyGateway
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskAttemptRecord, TaskKey

log = logging.getLogger("fate_grpc.scheduler")


@dataclass(frozen=True)
class CreatedJob:
    job_id: str
    model_id: str
    model_version: str
    party_ids: tuple[str, ...] = ()


class JobCreator:
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        catalog: ComponentCatalog,
        timeout_s: float,
    ) -> None:
        self._party_id = party_id
        self._store = store
        self._gateway = gateway
        self._catalog = catalog
        self._timeout = timeout_s

    async def create(self, dag_yaml: str, *, initiator_party_id: str, user_name: str) -> CreatedJob:
        """Create the job at every party of the DAG or at none; raises naming the parties that failed."""
        # Parsing a large DAG takes a while: keep it off the event loop.
        dag = await anyio.to_thread.run_sync(parse_dag, dag_yaml, self._catalog)
        scheduler = dag.conf.scheduler_party_id or initiator_party_id
        if scheduler != self._party_id:
            raise FateGrpcError(
                ErrorCode.NOT_SCHEDULER,
                f"party {self._party_id} is not the scheduler of this job"
                f" (scheduler_party_id is {scheduler})",
            )
        if self._party_id not in dag.party_ids():
            raise FateGrpcError(
                ErrorCode.INVALID_DAG,
                f"the scheduler party {self._party_id} must be one of the job's parties",
                violations=[FieldViolation("dag.conf.scheduler_party_id", "not a party of the job")],
            )
        job_id = new_job_id()
        await self._check_everywhere(dag, job_id, dag_yaml, initiator_party_id)
        await self._create_everywhere(dag, job_id, dag_yaml, initiator_party_id, user_name)
        await self._store.add_attempts(*_first_attempts(dag, job_id, self._catalog))
        model_id, model_version = job_model_ref(dag, job_id)
        return CreatedJob(
            job_id=job_id,
            model_id=model_id,
            model_version=model_version,
            party_ids=dag.party_ids(),
        )

    async def _check_everywhere(self, dag: Dag, job_id: str, dag_yaml: str, initiator: str) -> None:
        request = control_pb2.CheckJobRequest(
            job_id=job_id, dag_yaml=dag_yaml, scheduler_party_id=self._party_id, initiator_party_id=initiator
        )

        async def check(party_id: str) -> control_pb2.CheckJobResponse:
            return await self._gateway.check_job(party_id, request, deadline_s=self._timeout)

        answers, failures = await self._gateway.fan_out(dag.party_ids(), check)
        _raise_unreachable(failures)
        violations = [
            FieldViolation(v.field, v.reason, v.party_id or party_id)
            for party_id, answer in answers.items()
            if not answer.accepted
            for v in answer.violations
        ]
        if violations:
            raise job_rejected(violations)

    async def _create_everywhere(
        self, dag: Dag, job_id: str, dag_yaml: str, initiator: str, user_name: str
    ) -> None:
        request = control_pb2.CreateJobRequest(
            job_id=job_id,
            dag_yaml=dag_yaml,
            scheduler_party_id=self._party_id,
            initiator_party_id=initiator,
            user_name=user_name,
            create_time_ms=int(time.time() * 1000),
        )

        async def create(party_id: str) -> control_pb2.CreateJobResponse:
            return await self._gateway.create_job(party_id, request, deadline_s=self._timeout)

        answers, failures = await self._gateway.fan_out(dag.party_ids(), create)
        rejected = [
            FieldViolation(v.field, v.reason, v.party_id or party_id)
            for party_id, answer in answers.items()
            if not answer.created
            for v in answer.violations
        ]
        if failures or rejected:
            await self._abort_everywhere(dag, job_id, "creation failed at another party")
            _raise_unreachable(failures)
            raise job_rejected(rejected)

    async def _abort_everywhere(self, dag: Dag, job_id: str, reason: str) -> None:
        request = control_pb2.AbortJobRequest(job_id=job_id, reason=reason)

        async def abort(party_id: str) -> control_pb2.AbortJobResponse:
            return await self._gateway.abort_job(party_id, request, deadline_s=self._timeout)

        _, failures = await self._gateway.fan_out(dag.party_ids(), abort)
        for failure in failures:
            # Such a party keeps a job that never starts; it is failed there when it asks about it.
            log.warning("could not abort job %s at party %s: %s", job_id, failure.party_id, failure.error)


def _first_attempts(
    dag: Dag, job_id: str, catalog: ComponentCatalog
) -> tuple[list[TaskAttemptRecord], list[ScheduleTaskRecord]]:
    inheritance = dag.conf.inheritance or {}
    inherited = {str(t) for t in inheritance.get("task_list") or []}
    attempts, schedule = [], []
    for name, task in dag.tasks.items():
        # Inherited tasks start out successful: their outputs come from the earlier job.
        status = TaskStatus.SUCCESS if name in inherited else TaskStatus.WAITING
        attempts.append(
            TaskAttemptRecord(key=AttemptKey(job_id, name, 0), component=task.component_ref, status=status)
        )
        for party in task_parties(dag, name):
            key = TaskKey(job_id, name, 0, party.role, party.party_id)
            schedule.append(ScheduleTaskRecord(key=key, status=status))
    return attempts, schedule


def _raise_unreachable(failures: list[PartyFailure]) -> None:
    if not failures:
        return
    first = failures[0].error
    if len(failures) == 1:
        raise first
    message = "; ".join(f.error.message for f in failures)
    raise FateGrpcError(first.code, message, hint=first.hint, fields=dict(first.fields))
