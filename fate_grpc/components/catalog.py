"""The built-in provider's component declarations (what DAG validation checks against)."""

from __future__ import annotations

from fate_grpc.components import (
    data_split,
    evaluation,
    feature_binning,
    feature_selection,
    sample,
    statistics,
    toy_example,
    union,
)
from fate_grpc.domain.component_spec import (
    ArtifactSpec,
    ComponentCatalog,
    ComponentSpec,
    ParamSpec,
    StageSpec,
)

GUEST_HOST = frozenset({"guest", "host"})
GUEST_HOST_ARBITER = frozenset({"guest", "host", "arbiter"})

READER = ComponentSpec(
    name="reader",
    roles=GUEST_HOST_ARBITER,
    stages={
        "default": StageSpec(outputs=(ArtifactSpec("output_data", "data", GUEST_HOST_ARBITER),)),
    },
    parameters={
        "name": ParamSpec("name", (str,), required=True, required_roles=GUEST_HOST_ARBITER),
        "namespace": ParamSpec("namespace", (str,), required=True, required_roles=GUEST_HOST_ARBITER),
    },
    description="Outputs an uploaded table named by (namespace, name) at each party.",
)

PSI = ComponentSpec(
    name="psi",
    roles=GUEST_HOST,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec("input_data", "data", GUEST_HOST),),
            outputs=(ArtifactSpec("output_data", "data", GUEST_HOST),),
        ),
    },
    parameters={
        "protocol": ParamSpec("protocol", (str,), default="ecdh_psi", choices=("ecdh_psi",)),
        "curve_type": ParamSpec("curve_type", (str,), default="curve25519", choices=("curve25519",)),
    },
    description="ECDH private set intersection between the guest and each host.",
)

FEATURE_SCALE = ComponentSpec(
    name="feature_scale",
    roles=GUEST_HOST,
    stages={
        "train": StageSpec(
            inputs=(ArtifactSpec("train_data", "data", GUEST_HOST),),
            outputs=(
                ArtifactSpec("train_output_data", "data", GUEST_HOST),
                ArtifactSpec("output_model", "model", GUEST_HOST),
            ),
        ),
        "predict": StageSpec(
            inputs=(
                ArtifactSpec("test_data", "data", GUEST_HOST),
                ArtifactSpec("input_model", "model", GUEST_HOST),
            ),
            outputs=(ArtifactSpec("test_output_data", "data", GUEST_HOST),),
        ),
    },
    parameters={
        "method": ParamSpec("method", (str,), default="standard", choices=("standard", "min_max")),
        "feature_range": ParamSpec("feature_range", (list, dict), default=[0, 1]),
        "scale_col": ParamSpec("scale_col", (list,)),
        "scale_idx": ParamSpec("scale_idx", (list,)),
        "strict_range": ParamSpec("strict_range", (bool,), default=True),
        "use_anonymous": ParamSpec("use_anonymous", (bool,), default=False),
    },
    description="Min-max or standard scaling of each party's own features (train fits, predict applies).",
)

BUILTIN_COMPONENTS: dict[str, ComponentSpec] = {
    spec.name: spec
    for spec in (
        READER,
        PSI,
        FEATURE_SCALE,
        feature_binning.SPEC,
        feature_selection.SPEC,
        evaluation.SPEC,
        data_split.SPEC,
        sample.SPEC,
        union.SPEC,
        statistics.SPEC,
        toy_example.SPEC,
    )
}


def builtin_catalog() -> ComponentCatalog:
    """The components the built-in provider can run."""
    return dict(BUILTIN_COMPONENTS)
