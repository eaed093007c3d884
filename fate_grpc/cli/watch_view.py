"""`flow job watch`: a live terminal view of a job (a progress bar per task), plain lines when the
output is not a terminal, or one JSON document per change (FATE's job and task rows; times in unix
milliseconds, elapsed in milliseconds, as every flow answer gives them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from fate_grpc.common.v1 import common_pb2
from fate_grpc.flow_answers.jobs import job_row, job_status_name, task_rows, task_status_name

STATUS_STYLE = {
    "waiting": "dim",
    "running": "cyan",
    "success": "green",
    "failed": "bold red",
    "canceled": "yellow",
    "timeout": "magenta",
    "pass": "green",
}
# Exit status of `flow job watch` by how the job ended: 0 only on success.
EXIT_CODES = {"success": 0, "failed": 10, "canceled": 11, "timeout": 12}


def task_percent(task: common_pb2.TaskView) -> float:
    status = task_status_name(task.status)
    if status in ("success", "pass"):
        return 100.0
    if status == "running":
        return float(max(task.progress, 1))
    return float(task.progress)


def render(view: common_pb2.JobView) -> Group:
    status = job_status_name(view.status)
    header = Text.assemble(
        ("job ", "bold"),
        (view.job_id, "bold"),
        "  ",
        (status, STATUS_STYLE.get(status, "")),
        f"  {view.progress}%  elapsed {view.elapsed_ms} ms",
    )
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("task", "party", "attempt", "status", "progress", "elapsed (ms)", "error"):
        table.add_column(column)
    for task in sorted(view.tasks, key=lambda t: (t.start_time_ms or 2**62, t.task_name, t.role, t.party_id)):
        task_status = task_status_name(task.status)
        table.add_row(
            task.task_name,
            f"{task.role} {task.party_id}",
            str(task.attempt),
            Text(task_status, STATUS_STYLE.get(task_status, "")),
            ProgressBar(total=100, completed=task_percent(task), width=24),
            str(task.elapsed_ms),
            Text(task.error[:80], "red") if task.error else "",
        )
    parts: list[Text | Table] = [header, table]
    if view.status_reason:
        parts.append(Text(view.status_reason, "dim"))
    return Group(*parts)


def plain_lines(previous: common_pb2.JobView | None, view: common_pb2.JobView) -> list[str]:
    """What changed since the previous view, one line per change."""
    lines = []
    if previous is None or previous.status != view.status or previous.status_reason != view.status_reason:
        reason = f" ({view.status_reason})" if view.status_reason else ""
        lines.append(
            f"job {view.job_id} {job_status_name(view.status)} {view.progress}%"
            f" elapsed {view.elapsed_ms} ms{reason}"
        )
    before = {(t.task_name, t.attempt, t.role, t.party_id): t for t in (previous.tasks if previous else [])}
    for task in view.tasks:
        old = before.get((task.task_name, task.attempt, task.role, task.party_id))
        if old is None or old.status != task.status or old.progress != task.progress:
            error = f" - {task.error}" if task.error else ""
            lines.append(
                f"  {task.task_name} attempt {task.attempt} at {task.role} {task.party_id}:"
                f" {task_status_name(task.status)} {int(task_percent(task))}%"
                f" elapsed {task.elapsed_ms} ms{error}"
            )
    return lines


def json_document(view: common_pb2.JobView) -> dict[str, Any]:
    """A view as FATE's rows: the job (status, times, elapsed) and its tasks."""
    job = job_row(view, common_pb2.PartyJobView(status=view.status))
    for key in ("role", "party_id", "description"):
        job.pop(key)
    job["parties"] = [f"{p.role} {p.party_id}" for p in view.parties]
    return {"job": job, "tasks": task_rows(view.tasks)}


def follow(
    views: Iterable[common_pb2.JobView], out: TextIO, *, live: bool, as_json: bool = False
) -> common_pb2.JobView | None:
    """Show each view as it comes; returns the last one."""
    last = None
    if as_json:
        for view in views:
            print(json.dumps(json_document(view), ensure_ascii=False), file=out, flush=True)
            last = view
        return last
    if live:
        console = Console(file=out)
        with Live(console=console, refresh_per_second=8, transient=False) as screen:
            for view in views:
                screen.update(render(view))
                last = view
        return last
    for view in views:
        for line in plain_lines(last, view):
            print(line, file=out, flush=True)
        last = view
    return last
