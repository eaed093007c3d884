"""A client's part of homo_lr (guests and hosts alike: each holds rows with labels and the same features).

Train: after the setup with the arbiter (row count -> FedAvg weight) and X25519 with every other client,
each epoch is one local epoch on the client's own rows, then one secure aggregation round: the client
sends its weighted parameters and local loss masked, and replaces its parameters by the average the
arbiter returns. Then it writes ``output_model`` and ``train_output_data`` (its train rows, and its
validate rows if given, predicted locally, as FATE).

What a client learns: its own data; the other clients' public keys (and the seed it shares with each);
the averaged model after every round. With two clients, the average and its own model give the other
client's model (inherent in federated averaging, not a leak of secure aggregation); with more, only the
sum of the others' weighted models.
"""

from __future__ import annotations

import json

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.homo_lr import data, timing
from fate_grpc.components.homo_lr.aggregation import SecureClient, Shape, client_setup
from fate_grpc.components.homo_lr.channel import ROUND_TIMEOUT_S, Channel, arbiter, clients
from fate_grpc.components.homo_lr.params import model_meta, train_settings
from fate_grpc.components.model_common.prediction_tables import TEST_SET, TRAIN_SET, VALIDATE_SET, stacked
from fate_grpc.ml.homo.model import HomoModel
from fate_grpc.ml.homo.training import HomoSettings, LocalTrainer, class_targets

TRAIN_GROUPS = (("default", None), ("train", None))


def train(ctx: ComponentContext, *, timeout_s: float = ROUND_TIMEOUT_S) -> None:
    timing.reset()
    settings = train_settings(ctx.parameters)
    table = ctx.read_input_table("train_data")
    matrix, columns = data.features(table, "train_data")
    label_values = data.labels(table, "train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    validate_matrix = data.features(validate, "validate_data", columns)[0] if validate is not None else None
    seen = label_values
    if validate is not None:
        seen = np.concatenate([label_values, data.labels(validate, "validate_data")])
    heads = data.heads_for(settings, seen)
    model = _starting_model(ctx, settings, len(columns), heads)
    trainer = _federated_fit(ctx, settings, model, matrix, label_values, columns, timeout_s)
    ctx.log.info(timing.summary(settings.epochs))
    meta = model_meta(settings)
    document = {
        "param": {"model": trainer.model.state_dict(), "optimizer": json.dumps(trainer.optimizer_state())},
        "meta": meta,
    }
    ctx.write_output_model("output_model", document, meta)
    parts = [data.predictions(table, trainer.model, matrix, settings.threshold, TRAIN_SET)]
    if validate is not None and validate_matrix is not None:
        parts.append(
            data.predictions(validate, trainer.model, validate_matrix, settings.threshold, VALIDATE_SET)
        )
    ctx.write_output_table("train_output_data", stacked(parts))
    ctx.report_progress(100)


def _federated_fit(
    ctx: ComponentContext,
    settings: HomoSettings,
    model: HomoModel,
    matrix: data.FloatArray,
    label_values: data.FloatArray,
    columns: list[str],
    timeout_s: float,
) -> LocalTrainer:
    channel = Channel(ctx, "homo_lr.train", timeout_s)
    members, server = clients(ctx), arbiter(ctx)
    shape = Shape(model.features, model.heads, model.bias is not None, settings.epochs)
    weight = client_setup(channel, server, len(label_values), shape, columns)
    secure = SecureClient.agree(channel, members, Party(ctx.role, ctx.party_id), server, weight)
    trainer = LocalTrainer(settings, model)
    targets = class_targets(label_values, model.heads)
    for epoch in range(settings.epochs):
        with timing.measure("train"):
            loss = trainer.epoch(matrix, targets)
        # The Trainer logs the epoch's mean step loss rounded to 4 decimals, epochs counted from 1.
        ctx.log_metric(
            "loss", round(loss, 4), type="loss", step=epoch + 1, step_axis="nn_loss", groups=TRAIN_GROUPS
        )
        secure.submit(epoch, trainer.model.vector(), loss)
        trainer.model.set_vector(secure.average(epoch, trainer.model.size))
        ctx.report_progress(min(90, 5 + 85 * (epoch + 1) // settings.epochs))
    return trainer


def _starting_model(ctx: ComponentContext, settings: HomoSettings, features: int, heads: int) -> HomoModel:
    """The warm start model's weights (FATE reloads the weights only), or a new model."""
    if ctx.input_count("warm_start_model") > 0:
        model = load_model(ctx, "warm_start_model")
        if model.features != features or model.heads != heads:
            raise ComponentError(
                f"homo_lr: warm_start_model has {model.features} features and {model.heads} head(s); the data"
                f" and parameters need {features} and {heads}"
            )
        if (model.bias is not None) != settings.fit_intercept:
            raise ComponentError(
                "homo_lr: warm_start_model's intercept does not match init_param.fit_intercept"
            )
        return model
    return HomoModel.initial(
        features,
        heads,
        method=settings.init_method,
        fill_val=settings.fill_val,
        fit_intercept=settings.fit_intercept,
        random_state=settings.random_state,
    )


def load_model(ctx: ComponentContext, key: str) -> HomoModel:
    """The model of input ``key`` (FATE's ``{"param": {"model": ...}, "meta": ...}`` document).

    Raises:
        ComponentError: Not a homo_lr model, naming what is wrong.
    """
    document = ctx.read_input_model(key).data
    param = document.get("param") if isinstance(document, dict) else None
    if not isinstance(param, dict) or not isinstance(param.get("model"), dict):
        raise ComponentError(f"homo_lr: {key} is not a homo_lr model (no param.model)")
    try:
        return HomoModel.from_state_dict(param["model"])
    except ValueError as exc:
        raise ComponentError(f"homo_lr: {key}: param.model: {exc}") from None


def predict(ctx: ComponentContext) -> None:
    """Score ``test_data`` locally with ``input_model`` (no federation, as FATE)."""
    model = load_model(ctx, "input_model")
    table = ctx.read_input_table("test_data")
    matrix, columns = data.features(table, "test_data")
    if len(columns) != model.features:
        raise ComponentError(
            f"homo_lr: test_data has {len(columns)} feature columns; the model was trained on"
            f" {model.features}"
        )
    threshold = float(ctx.parameters["threshold"])
    ctx.write_output_table("test_output_data", data.predictions(table, model, matrix, threshold, TEST_SET))
