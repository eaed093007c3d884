"""The interface a component runs against; the task runner provides the real one, tests a local one."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fate_grpc.components.table import Table


@dataclass(frozen=True)
class Party:
    role: str
    party_id: str

    def __str__(self) -> str:
        return f"{self.role} {self.party_id}"


class ComponentError(Exception):
    """A failure a component explains to the user (its message is shown as the task's error)."""


# The layout of a model directory, in a task's outputs and in the node's model warehouse.
MODEL_DOCUMENT = "model.json"
MODEL_FILES_DIR = "files"

# FATE's metrics logged without a type (psi's, sample's and union's "summary") show "type": null.
UNTYPED_METRIC = ""

# A metric's namespace levels, FATE's groups: (name, index or None), outermost first.
MetricGroups = Sequence[tuple[str, int | None]]
DEFAULT_METRIC_GROUPS: tuple[tuple[str, int | None], ...] = (("default", None),)


@dataclass(frozen=True)
class InputModel:
    """A model a task reads: the document a train task wrote ({"data", "meta"}) and its binary files."""

    data: Any
    meta: Any
    files: Mapping[str, bytes] = field(default_factory=dict)
    # Who made it: model_id, model_version, task_name, output_key, component, job_id (empty in tests).
    source: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(
        cls, document: Any, files: Mapping[str, bytes] | None = None, source: Mapping[str, str] | None = None
    ) -> InputModel:
        if not isinstance(document, dict) or "data" not in document:
            raise ComponentError("the input model is not a model document (no 'data')")
        return cls(document["data"], document.get("meta"), dict(files or {}), dict(source or {}))


def model_file_names_problem(files: Mapping[str, bytes]) -> str | None:
    """Why the names of a model's files are unsafe, or None (plain names, no directories)."""
    for name in files:
        if not name or "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
            return f"model file name {name!r} must be a plain file name"
    return None


class ComponentContext(Protocol):
    """What a running component can see and do at one party."""

    @property
    def role(self) -> str: ...

    @property
    def party_id(self) -> str: ...

    @property
    def parties(self) -> tuple[Party, ...]:
        """Every party of this task, this one included."""
        ...

    @property
    def parameters(self) -> dict[str, Any]: ...

    @property
    def stage(self) -> str: ...

    @property
    def log(self) -> logging.Logger: ...

    def send(self, tag: str, destination: Party, payload: bytes) -> None:
        """Deliver `payload` to the same task at `destination` under `tag` (once per tag and pair)."""
        ...

    def receive(self, tag: str, source: Party, timeout_s: float | None = None) -> bytes:
        """Wait for the object `source` sent under `tag`; raises ComponentError on timeout."""
        ...

    def has_input(self, key: str) -> bool: ...

    def read_input_table(self, key: str, index: int = 0) -> Table:
        """The data input `key` (index for multi inputs); raises ComponentError if absent."""
        ...

    def write_output_table(self, key: str, table: Table) -> None:
        """Store `table` as the data output `key` of this task at this party."""
        ...

    def report_progress(self, percent: int) -> None:
        """Tell the user how far the task has got (0-100; shown by `flow job watch`)."""
        ...

    def input_count(self, key: str) -> int:
        """How many artifacts the (multi) input `key` has at this party (0 when absent)."""
        ...

    def input_producer(self, key: str, index: int = 0) -> str:
        """The task that produced input `key` (index for multi inputs); "" when unknown."""
        ...

    def read_input_model(self, key: str, index: int = 0) -> InputModel:
        """The model input `key` (index for multi inputs); raises ComponentError if absent."""
        ...

    def write_output_model(
        self, key: str, data: Any, meta: Any, files: Mapping[str, bytes] | None = None
    ) -> None:
        """Save the model output `key`: a JSON-able document {"data", "meta"} plus optional binary files.
        It goes into this party's model warehouse under the job's model id and version."""
        ...

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
        """Report a metric value now (visible to `flow output query-metric` while the task runs).

        One-time metrics have no step; step metrics (a loss per iteration) give step and step_axis.
        A type of "" is FATE's untyped metric (``log_metrics`` without a type), shown as null.
        """
        ...
