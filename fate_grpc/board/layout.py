"""A layered drawing of a job's DAG: tasks in columns by depth, ordered to keep edges short (pure).

The browser draws the result with ECharts' graph series at the positions given here, so the DAG
needs no layout library in the page and the layout is tested like any other function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

COLUMN_GAP = 220.0
ROW_GAP = 90.0
# Each sweep reorders a column by its neighbours' mean position; a few settle small DAGs.
ORDERING_SWEEPS = 4


@dataclass(frozen=True)
class Placed:
    """A task's place: its column (depth), its row within the column, and drawing coordinates."""

    column: int
    row: int
    x: float
    y: float


def layered_layout(upstreams: Mapping[str, Sequence[str]]) -> dict[str, Placed]:
    """Positions for every task, given each task's upstream tasks.

    Args:
        upstreams: task -> the tasks it takes inputs from (unknown names are ignored, as are
            self-references; the DAG was validated acyclic at submit).

    Returns:
        task -> its place; sources in column 0, each task one column right of its deepest upstream.
    """
    parents = {
        task: sorted({p for p in ups if p in upstreams and p != task}) for task, ups in upstreams.items()
    }
    depth = _depths(parents)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for task in sorted(parents, key=lambda t: (depth[t], t)):
        columns[depth[task]].append(task)
    children: dict[str, list[str]] = {task: [] for task in parents}
    for task, ups in parents.items():
        for parent in ups:
            children[parent].append(task)
    for sweep in range(ORDERING_SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(columns)) if forward else range(len(columns) - 2, -1, -1)
        for index in indices:
            neighbours = parents if forward else children
            reference = columns[index - 1] if forward else columns[index + 1]
            columns[index] = _by_barycentre(columns[index], neighbours, reference)
    return _coordinates(columns)


def _depths(parents: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Longest path from a source, computed iteratively (no recursion limit on long chains)."""
    depth: dict[str, int] = {}
    remaining = dict(parents)
    while remaining:
        ready = [t for t, ups in remaining.items() if all(p in depth for p in ups)]
        if not ready:  # a cycle would be a bug upstream; place what is left in one more column
            ready = sorted(remaining)
            base = max(depth.values(), default=-1) + 1
            depth.update({t: base for t in ready})
        for task in ready:
            depth.setdefault(task, max((depth[p] + 1 for p in remaining[task] if p in depth), default=0))
            del remaining[task]
    return depth


def _by_barycentre(
    column: list[str], neighbours: Mapping[str, Sequence[str]], reference: list[str]
) -> list[str]:
    position = {task: index for index, task in enumerate(reference)}

    def key(task: str) -> tuple[float, str]:
        linked = [position[n] for n in neighbours.get(task, ()) if n in position]
        # Tasks with no link to the reference column keep their current place.
        centre = sum(linked) / len(linked) if linked else float(column.index(task))
        return (centre, task)

    return sorted(column, key=key)


def _coordinates(columns: list[list[str]]) -> dict[str, Placed]:
    tallest = max((len(c) for c in columns), default=0)
    placed = {}
    for column_index, column in enumerate(columns):
        # Centre each column against the tallest one.
        offset = (tallest - len(column)) * ROW_GAP / 2
        for row, task in enumerate(column):
            placed[task] = Placed(column_index, row, column_index * COLUMN_GAP, offset + row * ROW_GAP)
    return placed
