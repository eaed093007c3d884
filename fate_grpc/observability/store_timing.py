"""A store wrapper that times every call and notices task ends and job starts as they are written.

Status changes have one shape (compare-and-set transitions), so watching their results here sees
every task end and job start without the scheduler or runtime knowing about metrics or logs.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from fate_grpc.domain.status import TASK_END_STATUSES, JobStatus
from fate_grpc.observability.metrics import NodeMetrics
from fate_grpc.store.records import JobRecord, TaskRecord

log = logging.getLogger("fate_grpc.tasks")

S = TypeVar("S")


class TimedStore:
    """Delegates to the real store; coroutine methods are timed per operation."""

    def __init__(self, inner: object, metrics: NodeMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(attribute):
            return attribute
        timed = self._timed(name, attribute)
        # Cached on the instance: later lookups do not come back here.
        self.__dict__[name] = timed
        return timed

    def _timed(self, name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        histogram = self._metrics.store_duration.labels(name)
        after = _AFTER.get(name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await call(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)
            if after is not None:
                after(self._metrics, result)
            return result

        return timed


def _after_task_transition(metrics: NodeMetrics, record: TaskRecord) -> None:
    if record.party_status not in TASK_END_STATUSES:
        return
    metrics.observe_task_end(record)
    key = record.key
    seconds = (record.end_time_ms - record.start_time_ms) / 1000 if record.start_time_ms else 0.0
    log.info(
        "task %s %s at %s %s ended %s after %.1f s%s",
        key.task_name,
        key.attempt,
        key.role,
        key.party_id,
        record.party_status,
        seconds,
        f": {record.error}" if record.error else "",
        extra={
            "job_id": key.job_id,
            "task": key.task_name,
            "attempt": key.attempt,
            "role": key.role,
            "party": key.party_id,
            "status": str(record.party_status),
            "component": record.component,
        },
    )


def _after_job_transition(metrics: NodeMetrics, record: JobRecord) -> None:
    if record.status == JobStatus.RUNNING:
        metrics.observe_job_start(record)


_AFTER: dict[str, Callable[[NodeMetrics, Any], None]] = {
    "transition_task_party_status": _after_task_transition,
    "transition_job": _after_job_transition,
}


def timed_store(store: S, metrics: NodeMetrics) -> S:
    """`store`, timed; typed as the store it wraps (every attribute is the store's)."""
    return cast(S, TimedStore(store, metrics))
