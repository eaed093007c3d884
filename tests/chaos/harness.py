"""Chaos runs against three node processes: kill (SIGKILL) or freeze (SIGSTOP) one node mid-job, bring it
back, and check what must hold afterwards: every party final and agreeing, no orphan processes, finished
tasks' outputs unchanged, cores returned (the next job runs).

Shared by tests/chaos/test_chaos.py (a few runs) and bench/chaos.py (many runs, printed figures).
Every node process is started with an environment mark naming its party and incarnation; the mark is
inherited by everything the node starts (task processes, fork servers, crypto pools), so a process that
outlived its node is found in /proc even after it was re-parented.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from fate_grpc.cli.client import FlowClient
from fate_grpc.cli.demo import upload
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import FateGrpcError
from tests.chaos.dags import GUEST, HOST, PARTIES, ROLES, TASKS_AT, chaos_dag, next_job_dag

MARK = "FATE_GRPC_CHAOS_MARK"
END = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}
# One job at a time: cores still held anywhere make the next job wait, which the next-job check sees.
CONF = {
    "resources": {"cores": 4},
    "timeouts": {"rpc_s": 3, "task_receive_s": 120},
    "scheduler": {"sweep_interval_s": 0.5, "collect_after_s": 1},
}
ROWS = 3000
# Bounds of the checks: a job that has not ended everywhere this long after the node came back is stuck;
# a process of a killed node still alive this long after the kill is an orphan.
SETTLE_S = 240.0
ORPHAN_GRACE_S = 30.0
T = TypeVar("T")


def status_name(status: int) -> str:
    name = common_pb2.JobStatus.Name(common_pb2.JobStatus.ValueType(status))
    return name.removeprefix("JOB_STATUS_").lower()


def marked_processes(prefix: str) -> dict[int, str]:
    """pid -> mark of every live process whose environment holds a mark starting with `prefix`."""
    wanted = f"{MARK}={prefix}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        # A zombie's environment reads empty: it is dead and only waits to be reaped.
        for item in environment:
            if item.startswith(wanted):
                found[int(entry.name)] = item.decode(errors="replace").partition("=")[2]
                break
    return found


def wait_for(check: Callable[[], T | None], deadline_s: float, interval_s: float = 0.2) -> T | None:
    """Poll `check` until it returns something other than None or False; None after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(interval_s)


def answer_or_none(call: Callable[[], T]) -> T | None:
    """The node's answer, or None while it is down or frozen."""
    try:
        return call()
    except FateGrpcError:
        return None


@dataclass
class RunResult:
    """What one chaos run ended with."""

    seed: int
    target: str
    action: str
    mid_job: bool
    moment: str = ""
    final: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    stuck: bool = False
    orphans: list[str] = field(default_factory=list)
    changed_outputs: list[str] = field(default_factory=list)
    next_job: str = ""

    @property
    def outcome(self) -> str:
        """completed / failed / stuck (some party never ended the job)."""
        if self.stuck:
            return "stuck"
        return "completed" if set(self.final.values()) == {"success"} else "failed"

    @property
    def agreed(self) -> bool:
        return len(set(self.final.values())) == 1

    def summary(self) -> str:
        parts = [
            f"seed={self.seed}",
            f"{self.action} {ROLES[self.target]} {self.target} {self.moment}".strip(),
            "mid-job" if self.mid_job else "job ended before the signal",
            f"final={self.final}",
            f"next job={self.next_job}",
        ]
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        if self.orphans:
            parts.append(f"orphans={self.orphans}")
        if self.changed_outputs:
            parts.append(f"changed outputs={self.changed_outputs}")
        return "; ".join(parts)


class ChaosCluster:
    """Three node processes (guest, host, arbiter) whose every process carries a findable mark."""

    def __init__(self, workdir: Path, *, extra_conf: dict | None = None) -> None:
        self.cluster = LocalCluster(workdir, list(PARTIES), extra_conf={**CONF, **(extra_conf or {})})
        self.run_mark = uuid.uuid4().hex[:12]
        self.incarnations = dict.fromkeys(PARTIES, 0)
        self.data_dir = workdir / "tables"

    def mark_of(self, party_id: str) -> str:
        # The dot ends the incarnation, so that incarnation 1's prefix does not match incarnation 10.
        return f"{self.run_mark}-{party_id}-{self.incarnations[party_id]}."

    def __enter__(self) -> ChaosCluster:
        self.cluster.write_confs()
        for party_id in PARTIES:
            self.start(party_id)
        self.prepare_tables()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cluster.stop()
        # Whatever is still marked after an orderly stop is reported by the caller's last check.

    def start(self, party_id: str) -> None:
        """(Re)start a party's node on its conf, store and port, marked with a new incarnation."""
        self.incarnations[party_id] += 1
        previous = os.environ.get(MARK)
        os.environ[MARK] = self.mark_of(party_id)
        try:
            self.cluster.start_party(party_id)
        finally:
            if previous is None:
                os.environ.pop(MARK, None)
            else:
                os.environ[MARK] = previous
        self.cluster.wait_ready(party_id, timeout_s=60)

    def pid(self, party_id: str) -> int:
        process = self.cluster.parties[party_id].process
        assert process is not None, f"node {party_id} is not running"
        return process.pid

    def client(self, party_id: str, timeout_s: float = 10.0) -> FlowClient:
        return self.cluster.client(party_id, timeout_s=timeout_s)

    def prepare_tables(self) -> None:
        """The first ROWS rows of default_credit at guest and host; the test components at every node."""
        source = Path(__file__).resolve().parents[2] / "examples" / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for party_id, name, label in ((GUEST, "guest", "y"), (HOST, "host", "")):
            lines = (source / f"default_credit_hetero_{name}.csv").read_text().splitlines()[: ROWS + 1]
            table = self.data_dir / f"chaos_{name}.csv"
            table.write_text("\n".join(lines) + "\n")
            with self.client(party_id, timeout_s=60) as client:
                upload(client, table, f"chaos_{name}", label)

    def kill(self, party_id: str) -> None:
        process = self.cluster.parties[party_id].process
        assert process is not None
        process.kill()
        process.wait(timeout=30)
        self.cluster.parties[party_id].process = None

    def local_status(self, party_id: str, job_id: str) -> int | None:
        with self.client(party_id) as client:
            answer = answer_or_none(lambda: client.list_jobs(job_id=job_id))
        if answer is None or not answer.jobs:
            return None
        return int(answer.jobs[0].status)

    def scheduler_view(self, job_id: str) -> common_pb2.JobView | None:
        with self.client(GUEST) as client:
            answer = answer_or_none(lambda: client.query_job(job_id))
        return None if answer is None else answer.job

    def finals(self, job_id: str, parties: tuple[str, ...] = PARTIES) -> dict[str, str] | None:
        """Every party's own final status of the job, or None while one has not ended it."""
        found = {}
        for party_id in parties:
            status = self.local_status(party_id, job_id)
            if status not in END:
                return None
            found[party_id] = status_name(status)
        return found

    def running_at(self, job_id: str, party_id: str) -> list[str]:
        view = self.scheduler_view(job_id)
        if view is None:
            return []
        return [
            t.task_name
            for t in view.tasks
            if t.party_id == party_id and t.status == common_pb2.TASK_STATUS_RUNNING
        ]

    def started_at(self, job_id: str, party_id: str, task: str) -> bool:
        """Whether `task` runs or ran at the party, as the scheduler sees it."""
        view = self.scheduler_view(job_id)
        started = {common_pb2.TASK_STATUS_RUNNING, common_pb2.TASK_STATUS_SUCCESS}
        return view is not None and any(
            t.party_id == party_id and t.task_name == task and t.status in started for t in view.tasks
        )

    def last_log_line(self, job_id: str, party_id: str, task: str) -> str:
        """The last non-empty line of the task's latest log at a party (read from its data folder)."""
        folder = self.cluster.parties[party_id].data_dir / "jobs" / job_id
        logs = sorted(folder.glob(f"*/{task}/*/task.log"), key=lambda p: p.stat().st_mtime)
        if not logs:
            return "no log"
        lines = [line for line in logs[-1].read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1][:300] if lines else "empty log"

    def finished_tasks(self, job_id: str) -> set[str]:
        """Tasks that succeeded at every party running them (a task still running somewhere may be
        restarted at every party, its finished parts included, when that party's node restarts)."""
        view = self.scheduler_view(job_id)
        if view is None:
            return set()
        unfinished = {t.task_name for t in view.tasks if t.status != common_pb2.TASK_STATUS_SUCCESS}
        return {t.task_name for t in view.tasks} - unfinished

    def finished_outputs(self, job_id: str, tasks: set[str] | None = None) -> dict[str, str]:
        """role/party/task -> a fingerprint of its outputs, for `tasks` (default: every finished task)."""
        wanted = self.finished_tasks(job_id) if tasks is None else tasks
        fingerprints = {}
        for party_id in PARTIES:
            with self.client(party_id) as client:
                answer = answer_or_none(partial(client.list_tasks, job_id=job_id, limit=100))
                if answer is None:
                    continue
                for task in answer.tasks:
                    if task.task_name not in wanted or task.status != common_pb2.TASK_STATUS_SUCCESS:
                        continue
                    fingerprint = output_fingerprint(client, task)
                    if fingerprint is not None:
                        fingerprints[f"{task.role}/{party_id}/{task.task_name}"] = fingerprint
        return fingerprints

    def orphans_of(self, party_id: str, incarnation: int) -> list[str]:
        """Processes of that incarnation of the node still alive after the grace period (then killed)."""
        return survivors(f"{self.run_mark}-{party_id}-{incarnation}.")

    def leftovers(self) -> list[str]:
        """Processes of any node still alive after the cluster stopped (then killed)."""
        return survivors(f"{self.run_mark}-")


def survivors(prefix: str) -> list[str]:
    """Marked processes that do not end within the grace period, described, then killed."""
    if wait_for(lambda: not marked_processes(prefix) or None, ORPHAN_GRACE_S) is not None:
        return []
    found = marked_processes(prefix)
    described = [f"{pid} {_command(pid)}" for pid in sorted(found)]
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return described


def output_fingerprint(client: FlowClient, task: common_pb2.TaskView) -> str | None:
    """Output tables (key, row count, first rows) and models (key, document) of a task at a party."""
    ref = outputs_pb2.TaskOutputRef(
        job_id=task.job_id, role=task.role, party_id=task.party_id, task_name=task.task_name
    )
    rows = answer_or_none(
        lambda: client.call("DisplayOutputData", outputs_pb2.DisplayOutputDataRequest(task=ref, limit=5))
    )
    models = answer_or_none(
        lambda: client.call("QueryOutputModels", outputs_pb2.QueryOutputModelsRequest(task=ref))
    )
    if rows is None or models is None:
        return None
    tables = sorted((o.output_key, o.count, tuple(tuple(r.values) for r in o.rows)) for o in rows.outputs)
    documents = sorted(
        (m.info.output_key, m.document.SerializeToString(deterministic=True)) for m in models.models
    )
    return repr((task.attempt, tables, documents))


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"


def submit(chaos: ChaosCluster, document: str) -> str:
    with chaos.client(GUEST, timeout_s=60) as guest:
        return guest.submit_job(document).job_id


def run_next_job(chaos: ChaosCluster) -> str:
    """A small job after the chaos: it needs every core at guest and host, so it shows they came back."""
    refusals: list[str] = []

    def try_submit() -> str | None:
        try:
            return submit(chaos, next_job_dag())
        except FateGrpcError as exc:
            # Right after a restart the scheduler's channel may still be backing off from the outage.
            refusals.append(exc.message)
            return None

    job_id = wait_for(try_submit, 60, 1.0)
    if job_id is None:
        return f"refused at submit: {refusals[-1]}"
    finals = wait_for(lambda: chaos.finals(job_id, (GUEST, HOST)), 120)
    if finals is None:
        view = chaos.scheduler_view(job_id)
        return f"not ended after 120s ({view.status_reason if view else 'no answer'})"
    outcome = ",".join(sorted(set(finals.values())))
    if refusals:
        outcome += f" (submit refused {len(refusals)} time(s) first: {refusals[0]})"
    return outcome


def failure_reason(chaos: ChaosCluster, job_id: str) -> str:
    """The scheduler's reason and every task error, as a user would read them; for a task process that
    exited on its own, the last line of its log (the error is there, not in the status)."""
    view = chaos.scheduler_view(job_id)
    if view is None:
        return ""
    errors = [t.error for t in view.tasks if t.error]
    exited = {(t.party_id, t.task_name) for t in view.tasks if "exited with code" in t.error}
    logs = [f"{task} log at {party}: {chaos.last_log_line(job_id, party, task)}" for party, task in exited]
    return " | ".join([view.status_reason, *dict.fromkeys(errors), *logs])


def kill_run(chaos: ChaosCluster, seed: int, *, outage_s: tuple[float, float] = (1.0, 3.0)) -> RunResult:
    """One run: submit the chaos DAG, SIGKILL a random node while one of its tasks runs, restart it."""
    rng = random.Random(seed)
    target = rng.choice(PARTIES)
    task = rng.choice(TASKS_AT[target])
    job_id = submit(chaos, chaos_dag())
    result = RunResult(
        seed=seed, target=target, action="SIGKILL", mid_job=False, moment=f"once {task} started"
    )
    # A random moment inside the job: once a random task of the target's has started, plus up to a second.
    started = wait_for(lambda: chaos.started_at(job_id, target, task) or chaos.finals(job_id), 180, 0.05)
    if started is True:
        time.sleep(rng.uniform(0.0, 1.0))
        result.mid_job = chaos.finals(job_id) is None
    before = chaos.finished_outputs(job_id)
    incarnation = chaos.incarnations[target]
    chaos.kill(target)
    time.sleep(rng.uniform(*outage_s))
    chaos.start(target)
    return settle(chaos, job_id, result, before, orphans=chaos.orphans_of(target, incarnation))


def stop_run(
    chaos: ChaosCluster, seed: int, target: str, *, frozen_s: float, wait_for_task: str = "lr_0"
) -> RunResult:
    """One run: freeze (SIGSTOP) a node for `frozen_s` while `wait_for_task` runs there, then SIGCONT."""
    job_id = submit(chaos, chaos_dag())
    result = RunResult(seed=seed, target=target, action=f"SIGSTOP {frozen_s:g}s", mid_job=False)
    running = wait_for(
        lambda: wait_for_task in chaos.running_at(job_id, target) or chaos.finals(job_id), 180, 0.05
    )
    result.mid_job = running is True
    before = chaos.finished_outputs(job_id)
    pid = chaos.pid(target)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(frozen_s)
    finally:
        os.kill(pid, signal.SIGCONT)
    return settle(chaos, job_id, result, before, orphans=[])


def settle(
    chaos: ChaosCluster, job_id: str, result: RunResult, before: dict[str, str], *, orphans: list[str]
) -> RunResult:
    """Wait until every party ended the job, then check outputs, reasons and the next job."""
    result.orphans = orphans
    finals = wait_for(lambda: chaos.finals(job_id), SETTLE_S, 0.5)
    if finals is None:
        result.stuck = True
        result.final = {p: _status_or_none(chaos.local_status(p, job_id)) for p in PARTIES}
        result.reason = failure_reason(chaos, job_id)
        return result
    result.final = finals
    if set(finals.values()) != {"success"}:
        result.reason = failure_reason(chaos, job_id)
    after = chaos.finished_outputs(job_id, {key.rpartition("/")[2] for key in before})
    result.changed_outputs = sorted(key for key, value in before.items() if after.get(key) != value)
    result.next_job = run_next_job(chaos)
    return result


def _status_or_none(status: int | None) -> str:
    return "no answer" if status is None else status_name(status)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
