"""The arbiter's part of homo_lr: the FedAvg server.

It collects each client's row count and model shape, answers each client with its weight n_i / sum(n),
and per round adds up the clients' masked vectors: the pairwise masks cancel and the sum decodes to the
weighted average of the parameters and of the local losses. It sends the averaged parameters back to
every client and logs the averaged loss as ``loss`` (type loss, step_axis aggregation, one step per
round from 0). It writes no model (as FATE) and does nothing in the predict stage.

What the arbiter learns: every client's row count; the number of features and heads, fit_intercept, the
epochs and whether the clients' feature names agree (a digest, not the names); after each round the
weighted average model and the weighted average of the local losses. Each client's own vector reaches it
masked by a uniform value of Z_2^64 per entry (a one-time pad), so it learns nothing about one client's
model or loss beyond what the averages tell. It never receives a row, a label or a key agreement message.

A client that sends nothing within the round timeout (dropped out, or failed) fails the round and the
task with a reason naming that client: there is no dropout recovery (as FATE), since the other clients'
masks do not cancel without it.
"""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext
from fate_grpc.components.homo_lr import timing
from fate_grpc.components.homo_lr.aggregation import aggregate_round, arbiter_setup
from fate_grpc.components.homo_lr.channel import ROUND_TIMEOUT_S, Channel, clients

TRAIN_GROUPS = (("default", None), ("train", None))


def train(ctx: ComponentContext, *, timeout_s: float = ROUND_TIMEOUT_S) -> None:
    timing.reset()
    channel = Channel(ctx, "homo_lr.train", timeout_s)
    members = clients(ctx)
    shape = arbiter_setup(channel, members)
    for round_number in range(shape.epochs):
        total = aggregate_round(channel, members, round_number, shape.length)
        channel.send(f"r{round_number}.average", members, value=total[:-1])
        ctx.log_metric(
            "loss",
            float(total[-1]),
            type="loss",
            step=round_number,
            step_axis="aggregation",
            groups=TRAIN_GROUPS,
        )
        ctx.report_progress(min(95, 5 + 90 * (round_number + 1) // shape.epochs))
    ctx.log.info(timing.summary(shape.epochs))
