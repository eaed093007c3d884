"""The built-in provider's component declarations (what DAG validation checks against)."""

from __future__ import annotations

from fate_grpc.components import (
    coordinated_lr,
    data_split,
    evaluation,
    feature_binning,
    feature_correlation,
    feature_selection,
    hetero_secureboost,
    homo_lr,
    sample,
    sshe_lr,
    statistics,
    toy_example,
    union,
)
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import (
    ArtifactSpec,
    ComponentCatalog,
    ComponentSpec,
    ParamSpec,
    StageSpec,
)

GUEST_HOST = frozenset({"guest", "host"})


def _only(supported: str, what: str) -> checks.Check:
    def rule(value: str) -> str | None:
        return None if value == supported else f"{what} {value!r} is not implemented; only {supported!r} is"

    return checks.refine(checks.string(), rule)


GUEST_HOST_ARBITER = frozenset({"guest", "host", "arbiter"})

READER = ComponentSpec(
    name="reader",
    roles=GUEST_HOST_ARBITER,
    stages={
        "default": StageSpec(outputs=(ArtifactSpec("output_data", "data", GUEST_HOST_ARBITER),)),
    },
    parameters={
        "name": ParamSpec("name", required=True, required_roles=GUEST_HOST_ARBITER, check=checks.string()),
        "namespace": ParamSpec(
            "namespace", required=True, required_roles=GUEST_HOST_ARBITER, check=checks.string()
        ),
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
        # FATE compares both exactly (no lower-casing) and implements only these values.
        "protocol": ParamSpec("protocol", default="ecdh_psi", check=_only("ecdh_psi", "PSI protocol")),
        "curve_type": ParamSpec("curve_type", default="curve25519", check=_only("curve25519", "curve")),
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
        "method": ParamSpec("method", default="standard", check=checks.choice("standard", "min_max")),
        "feature_range": ParamSpec(
            "feature_range",
            default=[0, 1],
            check=checks.any_of(
                checks.list_of(checks.number()),
                checks.mapping_of(checks.string(), checks.list_of(checks.number())),
                wanted="[min, max] or a mapping {column: [min, max]}",
            ),
        ),
        "scale_col": ParamSpec(
            "scale_col", check=checks.list_of(checks.string(), wanted="a list of column names")
        ),
        "scale_idx": ParamSpec(
            "scale_idx", check=checks.list_of(checks.integer(ge=0), wanted="a list of column indexes")
        ),
        "strict_range": ParamSpec("strict_range", default=True, check=checks.boolean()),
        "use_anonymous": ParamSpec("use_anonymous", default=False, check=checks.boolean()),
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
        feature_correlation.SPEC,
        evaluation.SPEC,
        data_split.SPEC,
        sample.SPEC,
        union.SPEC,
        statistics.SPEC,
        toy_example.SPEC,
        coordinated_lr.SPEC_LR,
        coordinated_lr.SPEC_LINR,
        hetero_secureboost.SPEC,
        sshe_lr.SPEC_LR,
        sshe_lr.SPEC_LINR,
        homo_lr.SPEC,
    )
}


def builtin_catalog() -> ComponentCatalog:
    """The components the built-in provider can run."""
    return dict(BUILTIN_COMPONENTS)
