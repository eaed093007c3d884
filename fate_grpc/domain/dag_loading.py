"""Reading DAG documents: YAML 1.2 (core schema) or JSON text, bounded in nesting and alias expansion.

PyYAML resolves plain scalars by YAML 1.1 rules (`1e-06` is a string, `yes` is true), but FATE's
client writes YAML 1.2 and users copy values such as `relative_error: 1e-06` from FATE's docs. So
the loader below keeps PyYAML's scanner and parser and swaps in the YAML 1.2 core schema, a
composer that bounds depth and alias expansion, and a constructor for plain data only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, cast

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from fate_grpc.errors import FieldViolation, invalid_dag

DEFAULT_MAX_DAG_BYTES = 1024 * 1024
"""Largest DAG document (bytes of UTF-8 text) a node accepts unless its conf's limits.max_dag_bytes says."""

# Deeper than any DAG FATE writes (about 10 levels plus nested parameters), far below Python's
# recursion limit, which every later walk over the document relies on.
MAX_DEPTH = 100
# Nodes of the document with every alias expanded: a 1 MiB document without aliases stays below it,
# and a "billion laughs" document of nested aliases is refused while it is being read.
MAX_NODES = 200_000

_TAG = "tag:yaml.org,2002:"
_CORE_SCALARS: tuple[tuple[str, str, str], ...] = (
    # (tag, pattern, first characters) of the YAML 1.2.2 core schema (spec section 10.3.2).
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    # Merge keys are not in YAML 1.2, but YAML tools (ruamel.yaml too) still honour them.
    ("merge", r"^(?:<<)$", "<"),
)


class _Yaml12Resolver(BaseResolver):
    """Plain scalars resolve by the YAML 1.2 core schema only (no yes/no, no dates, no 1.1 octals)."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


for _name, _pattern, _first in _CORE_SCALARS:
    # An empty plain scalar is null; PyYAML looks resolvers for it up under "".
    _firsts = [*_first, ""] if _name == "null" else list(_first)
    _Yaml12Resolver.add_implicit_resolver(_TAG + _name, re.compile(_pattern), _firsts)


class _LimitExceeded(ComposerError):
    """The document is well-formed YAML but beyond a bound of this loader."""


class _BoundedComposer(Composer):
    """Counts every node as if each alias were expanded, and refuses documents nested too deep."""

    def __init__(self) -> None:
        super().__init__()
        # One counter per open collection: the expanded size of its children so far.
        self._open: list[int] = []
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # The parser part of the loader class provides peek_event.
        event: Any = cast(Any, self).peek_event()
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _LimitExceeded(
                    None,
                    None,
                    "an alias refers to a node that contains it (a recursive structure)",
                    mark,
                )
            self._count(size, event)
            return node
        if len(self._open) >= MAX_DEPTH:
            raise _LimitExceeded(
                None, None, f"the document is nested deeper than {MAX_DEPTH} levels", event.start_mark
            )
        self._open.append(0)
        try:
            node = super().compose_node(parent, index)
        finally:
            size = self._open.pop() + 1
        self._sizes[id(node)] = size
        self._count(size, event)
        return node

    def _count(self, size: int, event: Any) -> None:
        total = size + (self._open[-1] if self._open else 0)
        if total > MAX_NODES:
            raise _LimitExceeded(
                None,
                None,
                f"the document expands to more than {MAX_NODES} values (aliases counted at every use)",
                event.start_mark,
            )
        if self._open:
            self._open[-1] = total


class _PlainDataConstructor(SafeConstructor):
    """Builds None, bool, int, float, str, list and dict only; any other tag is refused."""

    yaml_constructors = {
        tag: constructor
        for tag, constructor in SafeConstructor.yaml_constructors.items()
        if tag is None or tag in {_TAG + t for t in ("null", "str", "seq", "map")}
    }

    def construct_core_bool(self, node: ScalarNode) -> bool:
        text = str(self.construct_scalar(node))
        if text.lower() not in ("true", "false"):
            raise ConstructorError(None, None, f"{text!r} is not a boolean", node.start_mark)
        return text.lower() == "true"

    def construct_core_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        try:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text, 10)
        except ValueError:
            # Also Python's bound on the digits of a decimal integer (4300 by default).
            raise ConstructorError(None, None, "not a readable integer", node.start_mark) from None

    def construct_core_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node))
        special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
        if text.lower() in special:
            return special[text.lower()]
        try:
            return float(text)
        except ValueError:
            raise ConstructorError(None, None, f"{text[:80]!r} is not a number", node.start_mark) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        # YAML 1.2 requires unique keys; PyYAML would keep the last value silently.
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _TAG + "merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: the base class reports it
            if duplicate:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {_shown(key)}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PlainDataConstructor.yaml_constructors.update(
    {
        _TAG + "bool": _PlainDataConstructor.construct_core_bool,
        _TAG + "int": _PlainDataConstructor.construct_core_int,
        _TAG + "float": _PlainDataConstructor.construct_core_float,
    }
)


class Yaml12Loader(Reader, Scanner, Parser, _BoundedComposer, _PlainDataConstructor, _Yaml12Resolver):
    """A safe YAML 1.2 loader for plain data, bounded in depth and expanded size."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        _PlainDataConstructor.__init__(self)
        _Yaml12Resolver.__init__(self)


def load_yaml12(text: str) -> Any:
    """One YAML 1.2 document as plain Python data.

    Raises:
        yaml.YAMLError: For a syntax error, a tag other than plain data, a duplicate key, or a
            document nested deeper than MAX_DEPTH or expanding to more than MAX_NODES values.
    """
    loader = Yaml12Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_dag_document(text: object) -> dict[str, Any]:
    """See `fate_grpc.domain.dag.load_dag_document`."""
    if not isinstance(text, str):
        raise invalid_dag(
            [FieldViolation("", f"the DAG must be YAML or JSON text, got {type(text).__name__}")]
        )
    document = _load_text(text)
    if not isinstance(document, Mapping):
        kind = "a list" if isinstance(document, list) else "empty" if document is None else "a single value"
        raise invalid_dag(
            [
                FieldViolation(
                    "", f"the DAG document must be a mapping with schema_version and dag, got {kind}"
                )
            ]
        )
    return dict(document)


def _load_text(text: str) -> Any:
    if text.lstrip().startswith("{"):
        # JSON written with tabs is not valid YAML, so try JSON first.
        try:
            document = json.loads(text, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError):
            pass
        else:
            _check_json_bounds(document)
            return document
    try:
        return load_yaml12(text)
    except yaml.YAMLError as exc:
        raise invalid_dag([FieldViolation("", _yaml_problem(exc))]) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        # Not JSON we accept; the YAML reader then names the duplicate key and its line.
        raise ValueError("duplicate key")
    return document


def _check_json_bounds(document: Any) -> None:
    """The YAML limits, for JSON text (which has no aliases, but can nest as deep)."""
    for count, (depth, _) in enumerate(_walk(document), start=1):
        if depth > MAX_DEPTH:
            raise invalid_dag([FieldViolation("", f"the document is nested deeper than {MAX_DEPTH} levels")])
        if count > MAX_NODES:
            raise invalid_dag([FieldViolation("", f"the document has more than {MAX_NODES} values")])


def _walk(document: Any) -> Iterator[tuple[int, Any]]:
    """Every value with its depth (the top is 1), without recursion."""
    pending: list[tuple[int, Any]] = [(1, document)]
    while pending:
        depth, value = pending.pop()
        yield depth, value
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((depth + 1, child) for child in children)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, _LimitExceeded):
        return f"{problem}{where}"
    return f"not valid YAML or JSON: {problem}{where}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


# -- FATE 2.0.0-alpha/beta documents ------------------------------------------------------------
# Their fields, found by structure: FATE's own `flow test toy` still writes schema_version
# 2.0.0.alpha on a DAG of the current format, so the version string alone decides nothing.
_OLD_FIELD_FIXES: tuple[tuple[str, str], ...] = (
    (
        "inputs.artifacts",
        "tasks.<t>.inputs.artifacts.<key> -> tasks.<t>.inputs.data.<key> (model inputs: inputs.model.<key>)",
    ),
    ("inputs.parameters", "tasks.<t>.inputs.parameters -> tasks.<t>.parameters"),
    ("roles", "a channel's roles: [guest] -> parties: [{role: guest, party_id: [...]}]"),
    ("dag.scheduler_party_id", "dag.scheduler_party_id -> dag.conf.scheduler_party_id"),
    (
        "party_tasks.inputs",
        "party_tasks.<site>.tasks.<t>.inputs -> the task's own inputs, each channel with its parties",
    ),
    ("runtime_parties", "tasks.<t>.runtime_parties (a pipeline argument) -> tasks.<t>.parties"),
    ("task_cores", "dag.conf.task_cores -> dag.conf.task.engine_run.cores"),
)
_MAX_OLD_PATHS_SHOWN = 3


def old_format_violation(document: Mapping[str, Any]) -> FieldViolation | None:
    """One violation naming FATE's 2.0.0-alpha/beta format and what to change, if the DAG uses it."""
    found = list(_old_fields(document))
    if not found:
        return None
    kinds = {kind for kind, _ in found}
    version = str(document.get("schema_version", ""))
    alpha = "alpha" in version or kinds & {"inputs.artifacts", "inputs.parameters", "dag.scheduler_party_id"}
    name = "2.0.0-alpha" if alpha else "2.0.0-beta"
    fixes = "; ".join(fix for kind, fix in _OLD_FIELD_FIXES if kind in kinds)
    paths = [_shown_path(path) for _, path in found[:_MAX_OLD_PATHS_SHOWN]]
    more = f" and {len(found) - len(paths)} more" if len(found) > len(paths) else ""
    return FieldViolation(
        "dag",
        f"this DAG is written in FATE's older {name} format, which FATE 2.0.0 and later do not read; "
        f"change {fixes} (found at {', '.join(paths)}{more})",
    )


def _old_fields(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    dag = document.get("dag")
    if not isinstance(dag, Mapping):
        return
    if "scheduler_party_id" in dag:
        yield "dag.scheduler_party_id", "dag.scheduler_party_id"
    conf = dag.get("conf")
    if isinstance(conf, Mapping) and "task_cores" in conf:
        yield "task_cores", "dag.conf.task_cores"
    for name, task in _items(dag.get("tasks")):
        path = f"dag.tasks.{name}"
        if isinstance(task, Mapping) and "runtime_parties" in task:
            yield "runtime_parties", f"{path}.runtime_parties"
        yield from _old_inputs(task.get("inputs") if isinstance(task, Mapping) else None, f"{path}.inputs")
    for site, entry in _items(dag.get("party_tasks")):
        for name, ref in _items(entry.get("tasks") if isinstance(entry, Mapping) else None):
            inputs = ref.get("inputs") if isinstance(ref, Mapping) else None
            # Alpha put parameters there, beta data/model channels; anything else is just unknown.
            if isinstance(inputs, Mapping) and set(inputs) & {"parameters", "data", "model"}:
                yield "party_tasks.inputs", f"dag.party_tasks.{site}.tasks.{name}.inputs"


def _old_inputs(inputs: object, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(inputs, Mapping):
        return
    for kind in ("artifacts", "parameters"):
        if kind in inputs:
            yield f"inputs.{kind}", f"{path}.{kind}"
    for kind, by_key in _items(inputs):
        for key, sources in _items(by_key):
            for source, channels in _items(sources):
                for i, channel in enumerate(channels if isinstance(channels, list) else [channels]):
                    if isinstance(channel, Mapping) and "roles" in channel:
                        index = f"[{i}]" if isinstance(channels, list) else ""
                        yield "roles", f"{path}.{kind}.{key}.{source}{index}.roles"


def _items(value: object) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else []


def _shown_path(path: str) -> str:
    return path if len(path) <= 120 else path[:120] + "…"
