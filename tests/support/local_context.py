"""An in-process federation for component tests: one thread per party, messages passed in memory.

Usage::

    federation = LocalFederation(
        [guest, host],
        inputs={guest: {"input_data": [guest_table]}, host: {"input_data": [host_table]}},
        parameters={guest: {"protocol": "ecdh_psi"}},
    )
    outputs = federation.run(psi.run)          # {party: {output key: Table}}
    federation.sent                            # every payload sent, in send order

If a party raises, the others' pending and later ``receive`` calls fail at once with ``PeerFailed``, and
``run`` re-raises the earliest exception that is not such a ``PeerFailed`` (the failing party's own error).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fate_grpc.components.context import (
    DEFAULT_METRIC_GROUPS,
    ComponentContext,
    ComponentError,
    InputModel,
    MetricGroups,
    Party,
    model_file_names_problem,
)
from fate_grpc.components.table import Table, TableSchema

InputTables = Mapping[str, Sequence[Table] | Table]
InputModels = Mapping[str, Sequence[InputModel] | InputModel]


@dataclass(frozen=True)
class LoggedMetric:
    """One log_metric call."""

    name: str
    value: Any
    type: str
    step: int | None
    step_axis: str | None
    groups: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class SentPayload:
    """One payload a party sent."""

    tag: str
    source: Party
    destination: Party
    payload: bytes


class PeerFailed(ComponentError):
    """Raised in a party's receive when another party of the local federation has failed."""


class _Mailboxes:
    """Messages keyed by (tag, source, destination); each key may be sent once."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._messages: dict[tuple[str, Party, Party], bytes] = {}
        self._sent_keys: set[tuple[str, Party, Party]] = set()
        self._failed: Party | None = None
        self.sent: list[SentPayload] = []

    def put(self, tag: str, source: Party, destination: Party, payload: bytes) -> None:
        key = (tag, source, destination)
        with self._condition:
            if key in self._sent_keys:
                raise ComponentError(f"{source} sent {tag!r} to {destination} twice")
            self._sent_keys.add(key)
            self._messages[key] = payload
            self.sent.append(SentPayload(tag, source, destination, payload))
            self._condition.notify_all()

    def take(self, tag: str, source: Party, destination: Party, timeout_s: float) -> bytes:
        key = (tag, source, destination)
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while key not in self._messages:
                if self._failed is not None:
                    raise PeerFailed(f"{destination} stopped waiting for {tag!r}: {self._failed} failed")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ComponentError(f"timed out after {timeout_s:g} s waiting for {tag!r} from {source}")
                self._condition.wait(remaining)
            return self._messages.pop(key)

    def fail(self, party: Party) -> None:
        with self._condition:
            if self._failed is None:
                self._failed = party
            self._condition.notify_all()


class LocalContext:
    """The ComponentContext of one party in a LocalFederation."""

    def __init__(
        self,
        party: Party,
        parties: tuple[Party, ...],
        parameters: Mapping[str, Any],
        inputs: Mapping[str, list[Table]],
        mailboxes: _Mailboxes,
        *,
        stage: str,
        receive_timeout_s: float,
        models: Mapping[str, list[InputModel]] | None = None,
    ) -> None:
        self.progress: list[int] = []
        self.metrics: list[LoggedMetric] = []
        self.models: dict[str, InputModel] = {}
        self._models = dict(models or {})
        self._party = party
        self._parties = parties
        self._parameters = dict(parameters)
        self._inputs = inputs
        self._mailboxes = mailboxes
        self._stage = stage
        self._receive_timeout_s = receive_timeout_s
        self._log = logging.getLogger(f"fate_grpc.components.local.{party.role}.{party.party_id}")
        self.outputs: dict[str, Table] = {}

    @property
    def role(self) -> str:
        return self._party.role

    @property
    def party_id(self) -> str:
        return self._party.party_id

    @property
    def party(self) -> Party:
        return self._party

    @property
    def parties(self) -> tuple[Party, ...]:
        return self._parties

    @property
    def parameters(self) -> dict[str, Any]:
        return self._parameters

    @property
    def stage(self) -> str:
        return self._stage

    @property
    def log(self) -> logging.Logger:
        return self._log

    def send(self, tag: str, destination: Party, payload: bytes) -> None:
        if destination not in self._parties or destination == self._party:
            raise ComponentError(f"{self._party} cannot send {tag!r} to {destination}")
        if not isinstance(payload, bytes):
            raise TypeError(f"payload must be bytes, got {type(payload).__name__}")
        self._mailboxes.put(tag, self._party, destination, payload)

    def receive(self, tag: str, source: Party, timeout_s: float | None = None) -> bytes:
        if source not in self._parties or source == self._party:
            raise ComponentError(f"{self._party} cannot receive {tag!r} from {source}")
        timeout = self._receive_timeout_s if timeout_s is None else timeout_s
        return self._mailboxes.take(tag, source, self._party, timeout)

    def has_input(self, key: str) -> bool:
        return bool(self._inputs.get(key))

    def read_input_table(self, key: str, index: int = 0) -> Table:
        tables = self._inputs.get(key, [])
        if not 0 <= index < len(tables):
            raise ComponentError(f"{self._party} has no data input {key!r} (index {index})")
        return tables[index]

    def report_progress(self, percent: int) -> None:
        self.progress.append(percent)

    def write_output_table(self, key: str, table: Table) -> None:
        if key in self.outputs:
            raise ComponentError(f"{self._party} wrote data output {key!r} twice")
        self.outputs[key] = table

    def input_count(self, key: str) -> int:
        return len(self._inputs.get(key, [])) or len(self._models.get(key, []))

    def input_producer(self, key: str, index: int = 0) -> str:
        return f"{key}_{index}" if 0 <= index < self.input_count(key) else ""

    def read_input_model(self, key: str, index: int = 0) -> InputModel:
        models = self._models.get(key, [])
        if not 0 <= index < len(models):
            raise ComponentError(f"{self._party} has no model input {key!r} (index {index})")
        return models[index]

    def write_output_model(
        self, key: str, data: Any, meta: Any, files: Mapping[str, bytes] | None = None
    ) -> None:
        if key in self.models:
            raise ComponentError(f"{self._party} wrote model output {key!r} twice")
        problem = model_file_names_problem(files or {})
        if problem:
            raise ComponentError(problem)
        # Round-trip through JSON, as the node does, so tests see what a predict task would read.
        document = json.loads(json.dumps({"data": data, "meta": meta}, allow_nan=False, default=_plain))
        self.models[key] = InputModel.from_document(document, files)

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
        plain = json.loads(json.dumps(value, default=_plain))
        self.metrics.append(LoggedMetric(name, plain, type, step, step_axis, tuple(groups)))


class LocalFederation:
    """Runs one component at several parties in threads of this process.

    Args:
        parties: Every party of the task.
        parameters: Component parameters per party (parties not named get none).
        inputs: Data inputs per party: ``{key: [Table, ...]}`` (a single Table is accepted for ``[Table]``).
        common_parameters: Parameters given to every party, under the per-party ones.
        stage: The stage each context reports.
        receive_timeout_s: Default timeout of ``receive``.
        run_timeout_s: How long ``run`` waits for all parties to finish.
    """

    def __init__(
        self,
        parties: Iterable[Party],
        *,
        parameters: Mapping[Party, Mapping[str, Any]] | None = None,
        inputs: Mapping[Party, InputTables] | None = None,
        common_parameters: Mapping[str, Any] | None = None,
        stage: str = "default",
        receive_timeout_s: float = 30.0,
        run_timeout_s: float = 120.0,
        models: Mapping[Party, InputModels] | None = None,
    ) -> None:
        self.parties = tuple(parties)
        self._models = {
            party: {
                key: [value] if isinstance(value, InputModel) else list(value)
                for key, value in (models or {}).get(party, {}).items()
            }
            for party in self.parties
        }
        if len(set(self.parties)) != len(self.parties):
            raise ValueError("parties must be distinct")
        unknown = set(parameters or {}) | set(inputs or {})
        unknown -= set(self.parties)
        if unknown:
            raise ValueError(
                f"parameters or inputs for parties not in the federation: {sorted(map(str, unknown))}"
            )
        self._parameters = {
            party: {**(common_parameters or {}), **(parameters or {}).get(party, {})}
            for party in self.parties
        }
        self._inputs = {party: _normalise_inputs((inputs or {}).get(party, {})) for party in self.parties}
        self._stage = stage
        self._receive_timeout_s = receive_timeout_s
        self._run_timeout_s = run_timeout_s
        self._mailboxes = _Mailboxes()
        self.contexts: dict[Party, LocalContext] = {}

    @property
    def sent(self) -> list[SentPayload]:
        """Every payload sent so far, in send order."""
        return list(self._mailboxes.sent)

    def sent_between(self, source: Party, destination: Party) -> list[SentPayload]:
        return [
            item for item in self._mailboxes.sent if item.source == source and item.destination == destination
        ]

    def run(self, component: Callable[[ComponentContext], None]) -> dict[Party, dict[str, Table]]:
        """Run `component` at every party; return each party's data outputs.

        Raises:
            Exception: The first exception any party raised.
            TimeoutError: A party did not finish within ``run_timeout_s``.
        """
        if self.contexts:
            raise RuntimeError("a LocalFederation runs once; make a new one")
        self.contexts = {
            party: LocalContext(
                party,
                self.parties,
                self._parameters[party],
                self._inputs[party],
                self._mailboxes,
                stage=self._stage,
                receive_timeout_s=self._receive_timeout_s,
                models=self._models[party],
            )
            for party in self.parties
        }
        errors: list[tuple[float, Party, BaseException]] = []
        lock = threading.Lock()

        def run_party(party: Party) -> None:
            try:
                component(self.contexts[party])
            except BaseException as error:
                with lock:
                    errors.append((time.monotonic(), party, error))
                self._mailboxes.fail(party)

        threads = [
            threading.Thread(
                target=run_party, args=(party,), name=f"local-{party.role}-{party.party_id}", daemon=True
            )
            for party in self.parties
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + self._run_timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if errors:
            _, _, first = min(errors, key=lambda item: (isinstance(item[2], PeerFailed), item[0]))
            raise first
        if stuck:
            raise TimeoutError(f"parties still running after {self._run_timeout_s:g} s: {stuck}")
        return {party: dict(context.outputs) for party, context in self.contexts.items()}


def _plain(value: Any) -> Any:
    """numpy values as plain Python (the JSON default hook)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _normalise_inputs(inputs: InputTables) -> dict[str, list[Table]]:
    return {key: [value] if isinstance(value, Table) else list(value) for key, value in inputs.items()}


def table_from_frame(
    frame: pd.DataFrame, match_id_name: str, *, label_name: str = "", weight_name: str = ""
) -> Table:
    """A Table of `frame` (columns in frame order), the match id column converted to strings."""
    frame = frame.reset_index(drop=True).astype({match_id_name: str})
    schema = TableSchema(
        header=tuple(str(column) for column in frame.columns),
        match_id_name=match_id_name,
        label_name=label_name,
        weight_name=weight_name,
    )
    return Table(frame=frame, schema=schema)


def read_csv_table(path: str | Path, match_id_name: str, *, label_name: str = "") -> Table:
    """Read a CSV file with a header line as a Table (ids as strings), as the node would store it."""
    frame = pd.read_csv(path, dtype={match_id_name: str}, keep_default_na=False, na_values=[""])
    return table_from_frame(frame, match_id_name, label_name=label_name)
