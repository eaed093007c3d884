"""The interface a component runs against; the task runner provides the real one, tests a local one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
