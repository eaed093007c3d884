"""What a component declares: roles, stages, input/output artifacts and parameters (pure data)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fate_grpc.domain.param_checks import Check, ParamValueError, describe

ArtifactKind = Literal["data", "model"]

# Stages a DAG may name; single-stage components run in "default" whatever the job's stage.
STAGES = ("default", "train", "predict", "cross_validation")
ROLES = ("guest", "host", "arbiter", "local")


@dataclass(frozen=True)
class ArtifactSpec:
    """One input or output artifact of a component stage."""

    key: str
    kind: ArtifactKind
    roles: frozenset[str]
    multi: bool = False
    optional: bool = False
    # Names FATE 2.0.0 gave this input before 2.1 renamed it (union's input_data_list, evaluation's
    # input_data): DAGs written by fate_client 2.0 still bind them, and they mean this input.
    former_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageSpec:
    """Inputs and outputs of a component in one stage."""

    inputs: tuple[ArtifactSpec, ...] = ()
    outputs: tuple[ArtifactSpec, ...] = ()

    def input(self, key: str) -> ArtifactSpec | None:
        """The input a DAG binds as `key`: its current name or one of its former names."""
        return next((a for a in self.inputs if key == a.key or key in a.former_keys), None)

    def output(self, key: str) -> ArtifactSpec | None:
        return next((a for a in self.outputs if a.key == key), None)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: the value forms it accepts (FATE's declaration), its default, whether required.

    `check` (see `fate_grpc.domain.param_checks`) says which values FATE accepts and returns them in the
    form the component reads (choices lower-cased, whole floats as ints, ...). Without it, `types` and
    `choices` give a plain type check.
    """

    name: str
    types: tuple[type, ...] = ()
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    # Roles that must have the parameter set (after per-party merging), when required.
    required_roles: frozenset[str] = frozenset()
    check: Check | None = None

    def problem(self, value: Any) -> str | None:
        """Why FATE would refuse `value` (None/null is always fine: it means the default), or None.

        A problem inside a structured value starts with its location, e.g. ``.kind: must be ...``.
        """
        try:
            self.normalize(value)
        except ParamValueError as error:
            return f"{error.path}: {error.reason}" if error.path else error.reason
        return None

    def normalize(self, value: Any) -> Any:
        """The value as the component reads it: the default for None, else the checked value.

        Raises:
            ParamValueError: FATE would refuse the value.
        """
        if value is None:
            return copy.deepcopy(self.default)
        if self.check is not None:
            return self.check(value)
        return _plain_type_check(self, value)


_TYPE_NAMES: Mapping[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "a mapping",
    list: "a list",
}


def _plain_type_check(param: ParamSpec, value: Any) -> Any:
    if param.types and not _matches_types(value, param.types):
        expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in param.types)
        raise ParamValueError(f"must be {expected}, got {describe(value)}")
    if param.choices and value not in param.choices:
        raise ParamValueError(f"must be one of: {', '.join(map(str, param.choices))}; got {value!r}")
    return value


def _matches_types(value: object, types: tuple[type, ...]) -> bool:
    # YAML booleans are Python ints; a bool is never an integer here. An int is a valid float.
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


@dataclass(frozen=True)
class ComponentSpec:
    """A component as the DAG validator and the scheduler see it."""

    name: str
    roles: frozenset[str]
    stages: Mapping[str, StageSpec]
    parameters: Mapping[str, ParamSpec] = field(default_factory=dict)
    # Metric output exists for every component (FATE's invisible `metric` artifact).
    description: str = ""

    def stage_for(self, requested: str | None) -> str | None:
        """The stage this component runs in when the DAG asks for `requested`; None if unsupported."""
        if set(self.stages) == {"default"}:
            return "default"
        wanted = requested or "default"
        if wanted == "default" and "default" not in self.stages and "train" in self.stages:
            # A DAG that names no stage trains (FATE's default job stage is "train").
            wanted = "train"
        if wanted in self.stages:
            return wanted
        return None


ComponentCatalog = Mapping[str, ComponentSpec]
