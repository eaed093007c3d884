"""Bad DAGs get whole answers that fit gRPC's metadata limit, through a real node's gRPC server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import pytest

from fate_grpc.cli.flow_cli import failure_message
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import (
    MAX_MESSAGE_CHARS,
    MAX_REASON_CHARS,
    MAX_VIOLATIONS,
    OMITTED_VIOLATIONS_FIELD,
    ErrorCode,
    FateGrpcError,
    FieldViolation,
    bounded,
    invalid_dag,
)
from fate_grpc.node.config import Limits, config_from_mapping
from fate_grpc.participant.task_runtime import _step
from fate_grpc.store.records import TaskKey
from fate_grpc.wire.rpc_errors import STATUS_DETAILS_KEY, rich_status
from tests.lifecycle.dags import dag, task
from tests.rpc.helpers import assert_no_job_anywhere, assert_serving, dump, psi_dag, rpc_error
from tests.support.nodes import federation

PARTIES = ["9999", "10000"]


async def submit_error(fed: Any, dag_yaml: str) -> FateGrpcError:
    """Submit at the guest; the call must fail with INVALID_ARGUMENT (not RESOURCE_EXHAUSTED)."""
    call = fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag_yaml), timeout=30)
    return await rpc_error(call, grpc.StatusCode.INVALID_ARGUMENT)


def with_tasks(count: int) -> str:
    """The psi DAG plus `count` tasks of an unknown component: one violation each."""
    document = psi_dag()
    for i in range(count):
        document["dag"]["tasks"][f"t{i}"] = {"component_ref": "no_such_component"}
    return dump(document)


async def test_a_20000_character_component_ref_gets_a_short_answer(tmp_path: Path) -> None:
    document = psi_dag()
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "x" * 20_000

    async with federation(tmp_path, PARTIES) as fed:
        error = await submit_error(fed, dump(document))

        assert error.code is ErrorCode.INVALID_DAG
        [violation] = [v for v in error.violations if v.field == "dag.tasks.psi_0.component_ref"]
        assert f"unknown component '{'x' * 79}…" in violation.reason
        assert len(violation.reason) <= MAX_REASON_CHARS + 1
        assert len(error.message) <= MAX_MESSAGE_CHARS + 1
        await assert_no_job_anywhere(fed)
        await assert_serving(fed, "9999")


async def test_a_20000_character_task_name_gets_a_short_answer(tmp_path: Path) -> None:
    document = psi_dag()
    document["dag"]["tasks"]["n" * 20_000] = {"component_ref": "reader"}

    async with federation(tmp_path, PARTIES) as fed:
        error = await submit_error(fed, dump(document))

        assert error.code is ErrorCode.INVALID_DAG
        assert any(v.field.startswith("dag.tasks.nnnn") and v.field.endswith("…") for v in error.violations)


async def test_5000_violations_arrive_bounded_with_the_count_of_the_rest(tmp_path: Path) -> None:
    async with federation(tmp_path, PARTIES) as fed:
        error = await submit_error(fed, with_tasks(5000))

        assert error.code is ErrorCode.INVALID_DAG
        assert 10 <= len(error.violations) <= MAX_VIOLATIONS
        assert int(error.fields[OMITTED_VIOLATIONS_FIELD]) + len(error.violations) == 5000
        assert error.message.startswith("invalid DAG: 5000 problems")
        assert all("no_such_component" in v.reason for v in error.violations)


async def test_the_cli_lists_every_violation_it_received(tmp_path: Path) -> None:
    async with federation(tmp_path, PARTIES) as fed:
        error = await submit_error(fed, with_tasks(5000))

    message = failure_message(error)

    assert message.startswith("invalid DAG: 5000 problems: (1) ")
    for i, violation in enumerate(error.violations, start=1):
        assert f"({i}) {violation}" in message
    assert f"and {5000 - len(error.violations)} more the node did not send" in message


def test_the_cli_shows_a_single_violation_as_the_message() -> None:
    error = invalid_dag([FieldViolation("dag.stage", "must be one of: train, predict")])

    assert failure_message(error) == "invalid DAG: dag.stage: must be one of: train, predict"


async def test_three_violations_are_all_in_the_cli_message(tmp_path: Path) -> None:
    async with federation(tmp_path, PARTIES) as fed:
        error = await submit_error(fed, with_tasks(3))

    message = failure_message(error)

    assert message.startswith("invalid DAG: 3 problems: ")
    assert all(f"dag.tasks.t{i}.component_ref" in message for i in range(3))
    assert "did not send" not in message


def test_bounding_twice_keeps_the_count() -> None:
    error = invalid_dag([FieldViolation(f"dag.tasks.t{i}", "x" * 300) for i in range(1000)])

    again = bounded(error)

    assert again.violations == error.violations
    assert again.fields[OMITTED_VIOLATIONS_FIELD] == str(1000 - len(error.violations))


# -- the DAG size limit ------------------------------------------------------------------------------


def padded(size_bytes: int, filler: str) -> str:
    """The psi DAG with a YAML comment of `filler` making it about `size_bytes` bytes of UTF-8."""
    text = dump(psi_dag())
    room = size_bytes - len(text.encode("utf-8")) - 3
    return text + "# " + filler * (room // len(filler.encode("utf-8"))) + "\n"


async def test_the_dag_size_limit_counts_utf8_bytes_and_comes_from_the_conf(tmp_path: Path) -> None:
    limit = 8 * 1024
    under_in_chars_over_in_bytes = padded(limit + 3000, "数")
    assert len(under_in_chars_over_in_bytes) < limit

    async with federation(tmp_path, PARTIES, limits=Limits(max_dag_bytes=limit)) as fed:
        error = await rpc_error(
            fed.client("9999").SubmitJob(
                client_pb2.SubmitJobRequest(dag_yaml=under_in_chars_over_in_bytes), timeout=30
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        # Past the size check, the job is refused for its tables: nothing is uploaded here.
        fitting = await rpc_error(
            fed.client("9999").SubmitJob(
                client_pb2.SubmitJobRequest(dag_yaml=padded(limit - 100, "数")), timeout=30
            )
        )

    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["dag_yaml"]
    assert f"{limit} bytes" in error.message and "limits.max_dag_bytes" in error.message
    assert fitting.code is ErrorCode.JOB_REJECTED


def test_the_conf_key_sets_the_limit() -> None:
    config = config_from_mapping(
        {"party_id": "9999", "listen": "127.0.0.1:0", "data_dir": "d", "limits": {"max_dag_bytes": 2048}},
        base_dir=Path("."),
    )

    assert config.limits.max_dag_bytes == 2048


@pytest.mark.parametrize("value", [0, 5 * 1024 * 1024])
def test_a_dag_limit_outside_the_message_limit_is_refused(value: int) -> None:
    with pytest.raises(FateGrpcError) as info:
        Limits(max_dag_bytes=value)

    assert info.value.violations[0].field == "limits.max_dag_bytes"


# -- failures inside the node while a task starts ---------------------------------------------------


async def task_errors(fed: Any, job_id: str) -> list[str]:
    answer = await fed.client("9999").QueryTasks(client_pb2.QueryTasksRequest(job_id=job_id), timeout=10)
    return [t.error for t in answer.tasks if t.error]


async def test_a_task_process_that_cannot_start_says_why(tmp_path: Path) -> None:
    missing_python = str(tmp_path / "no" / "python")

    async with federation(tmp_path, ["9999"], fork_server=False, task_python=missing_python) as fed:
        job_id = await fed.submit(
            "9999", dag({"toy": task("toy_example", data_num=10, partition=1)}, parties=("9999",))
        )
        view = await fed.wait_job("9999", job_id)
        errors = await task_errors(fed, job_id)

    assert view.status == common_pb2.JOB_STATUS_FAILED
    assert errors and all("starting the task process failed: No such file or directory" in e for e in errors)
    assert not any("exited with code" in e for e in errors)


LAUGHS = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dag: " + "[" * 900 + "]" * 900 + "\n", "nested deeper than 100 levels at line 1"),
        ('{"dag": ' + "[" * 900 + "]" * 900 + "}", "nested deeper than 100 levels"),
        (LAUGHS, "expands to more than 200000 values"),
    ],
    ids=["deep-yaml", "deep-json", "billion-laughs"],
)
async def test_documents_beyond_the_loader_bounds_get_an_invalid_dag_answer(
    tmp_path: Path, text: str, words: str
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        error = await submit_error(fed, text)

        assert error.code is ErrorCode.INVALID_DAG
        assert words in error.message
        await assert_serving(fed, "9999")


def wire_size(error: FateGrpcError) -> int:
    """Bytes of the metadata the edge sends for `error` (status message + base64 rich status)."""
    sent = bounded(error)
    detail = rich_status(sent).SerializeToString()
    return len(quote(sent.message, safe="")) + (len(detail) + 2) // 3 * 4 + len(STATUS_DETAILS_KEY)


def test_a_worst_case_error_of_cjk_text_fits_the_metadata_limit() -> None:
    wide = "数" * 20_000
    error = FateGrpcError(
        ErrorCode.JOB_REJECTED,
        wide,
        hint=wide,
        fields={wide: wide, "party_id": wide},
        violations=[FieldViolation(wide, wide, wide) for _ in range(300)],
    )

    assert wire_size(error) < 8 * 1024 - 512
    assert bounded(error).violations, "the first problem always travels"


def test_an_unexpected_failure_while_preparing_a_task_names_the_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = TaskKey("202401010000000000000001", "psi_0", 0, "guest", "9999")

    with pytest.raises(FateGrpcError) as info, _step(key, "resolving the task's inputs"):
        raise KeyError("output_data")

    assert info.value.message == (
        "resolving the task's inputs failed unexpectedly (KeyError; the traceback is in this node's log,"
        " logs/node.log)"
    )
    assert "output_data" not in info.value.message
    assert any(record.exc_info for record in caplog.records), "the traceback goes to the node log"


async def test_a_task_process_that_dies_without_reporting_points_to_its_log(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await fed.register_testkit()
        job_id = await fed.submit("9999", dag({"quit": task("testkit_exit", code=3)}, parties=("9999",)))
        view = await fed.wait_job("9999", job_id)
        [error] = await task_errors(fed, job_id)

    assert view.status == common_pb2.JOB_STATUS_FAILED
    assert error == (
        f"guest 9999: task process exited with code 3 before reporting a result"
        f" (see its log: flow job log -j {job_id} -r guest -p 9999 -tn quit)"
    )
