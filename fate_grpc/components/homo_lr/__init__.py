"""homo_lr: FATE 2.2's horizontal logistic regression. Guests and hosts are clients holding different rows
with the same features and labels; the arbiter is the FedAvg server and sees the clients' models only
through secure aggregation (pairwise masks from X25519 between clients, cancelling in its sum).

Modules: ``client`` (guest and host; its docstring says what a client learns), ``arbiter`` (what the
arbiter learns, and how a client dropping out fails the round), ``aggregation`` (the messages),
``params`` (FATE's parameters). Stages: train (``train_data``, optional ``validate_data`` and
``warm_start_model`` -> ``train_output_data`` and ``output_model`` at each client; the arbiter writes
nothing), predict (``test_data`` + ``input_model`` -> ``test_output_data`` at each client, locally).

What each role learns. The arbiter: every client's row count, the model's shape and epochs, and after each
round the weighted average of the clients' parameters and of their local losses; each client's own
vector reaches it masked by uniform values of Z_2^64 (a one-time pad), never in the clear. A client: its
own rows, its peers' public keys and the average model after each round (with two clients the average and
its own model give the other's, as in any federated averaging). A client missing from a round fails the
round and the task, naming it (no dropout recovery, as in FATE, where the round blocks instead).
"""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext
from fate_grpc.components.homo_lr import arbiter, client
from fate_grpc.components.homo_lr.params import PARAMETERS
from fate_grpc.components.model_common.stages import predict_stage
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, StageSpec

ALL_ROLES = frozenset({"guest", "host", "arbiter"})
CLIENT_ROLES = frozenset({"guest", "host"})

SPEC = ComponentSpec(
    name="homo_lr",
    roles=ALL_ROLES,
    stages={
        "train": StageSpec(
            inputs=(
                ArtifactSpec("train_data", "data", CLIENT_ROLES),
                ArtifactSpec("validate_data", "data", CLIENT_ROLES, optional=True),
                ArtifactSpec("warm_start_model", "model", CLIENT_ROLES, optional=True),
            ),
            outputs=(
                ArtifactSpec("train_output_data", "data", CLIENT_ROLES),
                ArtifactSpec("output_model", "model", CLIENT_ROLES),
            ),
        ),
        "predict": predict_stage(CLIENT_ROLES),
    },
    parameters=PARAMETERS,
    description="Horizontal logistic regression: FedAvg with secure aggregation at the arbiter.",
)


def run(ctx: ComponentContext) -> None:
    ctx = with_checked_parameters(ctx, SPEC)
    if ctx.stage == "predict":
        if ctx.role != "arbiter":  # the arbiter has no part in prediction (as FATE)
            client.predict(ctx)
    elif ctx.role == "arbiter":
        arbiter.train(ctx)
    else:
        client.train(ctx)
