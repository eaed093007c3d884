"""What a component declares: roles, stages, input/output artifacts and parameters (pure data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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


@dataclass(frozen=True)
class StageSpec:
    """Inputs and outputs of a component in one stage."""

    inputs: tuple[ArtifactSpec, ...] = ()
    outputs: tuple[ArtifactSpec, ...] = ()

    def input(self, key: str) -> ArtifactSpec | None:
        return next((a for a in self.inputs if a.key == key), None)

    def output(self, key: str) -> ArtifactSpec | None:
        return next((a for a in self.outputs if a.key == key), None)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: accepted Python types (after YAML parsing), whether required, choices."""

    name: str
    types: tuple[type, ...]
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    # Roles that must have the parameter set (after per-party merging), when required.
    required_roles: frozenset[str] = frozenset()


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
