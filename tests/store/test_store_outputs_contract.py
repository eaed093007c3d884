"""Store contract: metrics, the model warehouse index and table deletion."""

from __future__ import annotations

import dataclasses

import pytest

from fate_grpc.store.interface import Store
from fate_grpc.store.records import MetricRecord, ModelRecord
from tests.store.builders import HOST, create, job_rows, output, output_table, tkey


def metric(
    name: str = "lr_loss", *steps: int, groups: tuple = (("default", None), ("train", None))
) -> MetricRecord:
    return MetricRecord(
        name=name,
        type="loss",
        groups=groups,
        step_axis="iterations",
        data=tuple({"metric": [0.5 / (s + 1)], "step": s, "timestamp": 1.5 + s} for s in steps),
    )


def model(task_name: str = "lr_0", output_key: str = "output_model", **overrides: object) -> ModelRecord:
    values: dict = {
        "model_id": "job-1",
        "model_version": "0",
        "role": "guest",
        "party_id": "9999",
        "task_name": task_name,
        "output_key": output_key,
        "job_id": "job-1",
        "attempt": 0,
        "component": "coordinated_lr",
        "type_name": "json_model",
        "path": f"models/job-1/0/{task_name}/{output_key}",
        "size": 10,
        "create_time_ms": 5,
    }
    values.update(overrides)
    return ModelRecord(**values)


async def test_metrics_are_listed_per_attempt_in_report_order(store: Store) -> None:
    await create(store, job_rows("job-1"))
    key = tkey("job-1", "psi_0")
    await store.add_metrics(key, [metric("lr_loss", 0, 1)])
    await store.add_metrics(key, [metric("lr_loss", 2), metric("summary", groups=(("default", None),))])
    await store.add_metrics(tkey("job-1", "psi_0", 0, *HOST), [metric("other", 0)])

    listed = await store.list_metrics(key)
    assert [m.name for m in listed] == ["lr_loss", "lr_loss", "summary"]
    assert [p["step"] for p in listed[0].data + listed[1].data] == [0, 1, 2]
    assert listed[0].groups == (("default", None), ("train", None))
    assert dataclasses.replace(listed[0], create_time_ms=0) == metric("lr_loss", 0, 1)


async def test_metrics_of_an_unknown_attempt_are_refused(store: Store) -> None:
    await create(store, job_rows("job-1"))
    with pytest.raises(Exception):  # noqa: B017 - the contract names no error code for this case
        await store.add_metrics(tkey("job-1", "psi_0", attempt=3), [metric("x", 0)])


async def test_delete_metrics_removes_every_attempt_of_one_party(store: Store) -> None:
    await create(store, job_rows("job-1"))
    await store.add_metrics(tkey("job-1", "psi_0"), [metric("a", 0), metric("b", 0)])
    await store.add_metrics(tkey("job-1", "psi_0", 0, *HOST), [metric("a", 0)])
    assert await store.delete_metrics("job-1", "psi_0", "guest", "9999") == 2
    assert await store.list_metrics(tkey("job-1", "psi_0")) == []
    assert len(await store.list_metrics(tkey("job-1", "psi_0", 0, *HOST))) == 1


async def test_metrics_go_with_their_job(store: Store) -> None:
    await create(store, job_rows("job-1"))
    await store.add_metrics(tkey("job-1", "psi_0"), [metric("a", 0)])
    await store.clean_job("job-1")
    assert await store.list_metrics(tkey("job-1", "psi_0")) == []


async def test_put_model_indexes_and_replaces_returning_the_old_entry(store: Store) -> None:
    assert await store.put_model(model()) is None
    newer = model(job_id="job-2", path="elsewhere", create_time_ms=9)
    replaced = await store.put_model(newer)
    assert replaced == model()
    assert await store.list_models(model_id="job-1") == [newer]


async def test_list_and_delete_models_by_filters(store: Store) -> None:
    entries = [
        model("scale_0"),
        model("lr_0"),
        model("lr_0", role="host", party_id="10000"),
        model("lr_0", model_version="1"),
    ]
    for entry in entries:
        await store.put_model(entry)
    assert {m.task_name for m in await store.list_models(role="guest", model_version="0")} == {
        "scale_0",
        "lr_0",
    }
    assert await store.list_models(job_id="job-1", task_name="lr_0", role="host") == [entries[2]]
    assert len(await store.list_models()) == 4
    removed = await store.delete_models(model_id="job-1", model_version="0", task_name="lr_0")
    assert sorted((m.role, m.model_version) for m in removed) == [("guest", "0"), ("host", "0")]
    assert len(await store.list_models()) == 2
    with pytest.raises(ValueError):
        await store.delete_models()


async def test_put_models_if_absent_is_all_or_nothing(store: Store) -> None:
    await store.put_model(model("lr_0"))
    assert not await store.put_models_if_absent([model("scale_0"), model("lr_0", path="new")])
    assert [m.task_name for m in await store.list_models()] == ["lr_0"]
    assert await store.put_models_if_absent([model("scale_0"), model("sbt_0")])
    assert len(await store.list_models()) == 3


async def test_delete_table_removes_it_and_its_output_registration(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    out = output(rows.tasks[0].key)
    await store.put_output(out, output_table(out))
    removed = await store.delete_table(out.namespace, out.name)
    assert removed is not None and removed.name == out.name
    assert await store.find_table(out.namespace, out.name) is None
    assert await store.list_outputs("job-1") == []
    assert await store.delete_table(out.namespace, out.name) is None
