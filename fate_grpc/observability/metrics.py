"""Prometheus metrics of one node, in a registry of its own (in-process test nodes never collide)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from fate_grpc.domain.status import JobStatus
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord, TaskRecord

# Tasks run from seconds to days.
TASK_BUCKETS_S = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600)
RPC_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)
STORE_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)
PREFIX = "fate_grpc"


class NodeMetrics:
    """Every metric a node exports. Gauges of state are read from the store at each scrape; events
    (task ends, job starts, calls) are counted where they happen."""

    def __init__(self, *, cores_budget: int) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # The node process's CPU time, memory and open files (process_*), as exporters usually give.
        ProcessCollector(registry=r)
        self.jobs = Gauge(f"{PREFIX}_jobs", "Jobs at this node by status", ["status"], registry=r)
        self.tasks = Gauge(
            f"{PREFIX}_tasks", "Task attempts of this node's roles by local status", ["status"], registry=r
        )
        self.queue_length = Gauge(f"{PREFIX}_queue_jobs", "Jobs waiting to start at this node", registry=r)
        self.queue_wait = Histogram(
            f"{PREFIX}_queue_wait_seconds",
            "How long a job waited from creation until it started running here",
            buckets=TASK_BUCKETS_S,
            registry=r,
        )
        self.task_duration = Histogram(
            f"{PREFIX}_task_duration_seconds",
            "Run time of ended task attempts at this node, by component and end status",
            ["component", "status"],
            buckets=TASK_BUCKETS_S,
            registry=r,
        )
        self.rpc_duration = Histogram(
            f"{PREFIX}_rpc_duration_seconds",
            "gRPC call latency; side is server (calls this node answered) or client (calls it made)",
            ["side", "method", "peer", "code"],
            buckets=RPC_BUCKETS_S,
            registry=r,
        )
        self.peer_bytes = Counter(
            f"{PREFIX}_peer_bytes",
            "Protobuf message bytes exchanged with other parties and users, by direction",
            ["peer", "direction"],
            registry=r,
        )
        self.cores_in_use = Gauge(f"{PREFIX}_cores_in_use", "Cores held by jobs at this node", registry=r)
        self.cores_budget = Gauge(f"{PREFIX}_cores_budget", "The node's core budget", registry=r)
        self.cores_budget.set(cores_budget)
        self.store_duration = Histogram(
            f"{PREFIX}_store_call_duration_seconds",
            "Latency of store calls by operation",
            ["operation"],
            buckets=STORE_BUCKETS_S,
            registry=r,
        )

    def observe_task_end(self, record: TaskRecord) -> None:
        if record.start_time_ms and record.end_time_ms >= record.start_time_ms:
            seconds = (record.end_time_ms - record.start_time_ms) / 1000
            self.task_duration.labels(record.component, str(record.party_status)).observe(seconds)

    def observe_job_start(self, record: JobRecord) -> None:
        if record.create_time_ms and record.start_time_ms >= record.create_time_ms:
            self.queue_wait.observe((record.start_time_ms - record.create_time_ms) / 1000)

    async def refresh(self, store: Store) -> None:
        """Read the state gauges from the store (once per scrape: always current, no bookkeeping)."""
        jobs = await store.count_jobs_by_status()
        for job_status, count in jobs.items():
            self.jobs.labels(str(job_status)).set(count)
        self.queue_length.set(jobs.get(JobStatus.WAITING, 0))
        for task_status, count in (await store.count_tasks_by_status()).items():
            self.tasks.labels(str(task_status)).set(count)
        self.cores_in_use.set(await store.cores_in_use())

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_app(metrics: NodeMetrics, store: Store) -> web.Application:
    """The `/metrics` sub-application (Prometheus text format)."""

    async def scrape(request: web.Request) -> web.Response:
        await metrics.refresh(store)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("", scrape)
    app.router.add_get("/", scrape)
    return app
