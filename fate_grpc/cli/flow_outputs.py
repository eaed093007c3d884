"""`flow output ...` and `flow model ...` (`flow data ...` and `flow table ...` are in flow_data).

Outputs stay at the party that made them: point flow at that party's node (`--node` or `flow init`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from fate_grpc.cli.downloads import write_files, write_single_file
from fate_grpc.cli.flow_cli import Settings, cli, pass_settings, run, success
from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.outputs import metric_to_json, model_row
from fate_grpc.wire.convert import python_from_value

CHUNK_BYTES = 1024 * 1024


def task_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """FATE's -j -r -p -tn."""
    for option in reversed(
        [
            click.option("-j", "--job-id", required=True, help="Job id."),
            click.option("-r", "--role", required=True, help="Role: guest, host or arbiter."),
            click.option("-p", "--party-id", required=True, help="Party id (this node's party)."),
            click.option("-tn", "--task-name", required=True, help="Task name in the DAG."),
        ]
    ):
        command = option(command)
    return command


def _task_ref(job_id: str, role: str, party_id: str, task_name: str) -> outputs_pb2.TaskOutputRef:
    # Checked here too: these names become a local directory name.
    for value, what in ((job_id, "job_id"), (role, "role"), (task_name, "task_name")):
        check_name(value, what)
    check_party_id(party_id)
    return outputs_pb2.TaskOutputRef(job_id=job_id, role=role, party_id=party_id, task_name=task_name)


def _output_dir(path: str) -> Path:
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"{folder} is not a directory")
    return folder


def _downloaded(directory: Path) -> None:
    success(
        None,
        sort_keys=True,
        message=f"download success, please check the path: {directory}",
        directory=str(directory),
    )


@cli.group()
def output() -> None:
    """Metrics, models and data a task made at this party."""


@output.command("query-metric-key")
@task_options
@pass_settings
def query_metric_key(settings: Settings, job_id: str, role: str, party_id: str, task_name: str) -> None:
    """Names, types, groups and step axes of a task's metrics."""

    def action() -> None:
        request = outputs_pb2.QueryMetricKeysRequest(task=_task_ref(job_id, role, party_id, task_name))
        with settings.client() as client:
            answer = client.call("QueryMetricKeys", request)
        success([metric_to_json(k, with_data=False) for k in answer.keys], sort_keys=True)

    run(action)


@output.command("query-metric")
@task_options
@click.option("-n", "--name", "names", multiple=True, help="Only this metric (repeatable).")
@pass_settings
def query_metric(
    settings: Settings, job_id: str, role: str, party_id: str, task_name: str, names: tuple[str, ...]
) -> None:
    """A task's metrics (also while it runs), in FATE's record format."""

    def action() -> None:
        request = outputs_pb2.QueryMetricsRequest(
            task=_task_ref(job_id, role, party_id, task_name), names=list(names)
        )
        with settings.client() as client:
            answer = client.call("QueryMetrics", request)
        success([metric_to_json(m) for m in answer.metrics], sort_keys=True)

    run(action)


@output.command("delete-metric")
@task_options
@pass_settings
def delete_metric(settings: Settings, job_id: str, role: str, party_id: str, task_name: str) -> None:
    """Remove a task's metrics at this party."""

    def action() -> None:
        request = outputs_pb2.DeleteMetricsRequest(task=_task_ref(job_id, role, party_id, task_name))
        with settings.client() as client:
            answer = client.call("DeleteMetrics", request)
        success({"deleted": answer.deleted}, sort_keys=True)

    run(action)


@output.command("query-model")
@task_options
@pass_settings
def query_model(settings: Settings, job_id: str, role: str, party_id: str, task_name: str) -> None:
    """A task's output models: {output key: {"data": ..., "meta": ...}}."""

    def action() -> None:
        request = outputs_pb2.QueryOutputModelsRequest(task=_task_ref(job_id, role, party_id, task_name))
        with settings.client() as client:
            answer = client.call("QueryOutputModels", request)
        success({m.info.output_key: python_from_value(m.document) for m in answer.models}, sort_keys=True)

    run(action)


@output.command("download-model")
@task_options
@click.option("-o", "--path", "--output-path", "path", required=True, help="Directory to write into.")
@pass_settings
def download_model(
    settings: Settings, job_id: str, role: str, party_id: str, task_name: str, path: str
) -> None:
    """Write a task's models into PATH/output_model_<job>_<role>_<party>_<task>/."""

    def action() -> None:
        ref = _task_ref(job_id, role, party_id, task_name)
        target = _output_dir(path) / f"output_model_{job_id}_{role}_{party_id}_{task_name}"
        with settings.client() as client:
            request = outputs_pb2.DownloadOutputModelsRequest(task=ref)
            write_files(client.stream("DownloadOutputModels", request), target)
        _downloaded(target.resolve())

    run(action)


@output.command("delete-model")
@task_options
@pass_settings
def delete_model(settings: Settings, job_id: str, role: str, party_id: str, task_name: str) -> None:
    """Remove a task's output models (also from the model warehouse)."""

    def action() -> None:
        request = outputs_pb2.DeleteOutputModelsRequest(task=_task_ref(job_id, role, party_id, task_name))
        with settings.client() as client:
            answer = client.call("DeleteOutputModels", request)
        success({"deleted": answer.deleted}, sort_keys=True)

    run(action)


@output.command("query-data-table")
@task_options
@pass_settings
def query_data_table(settings: Settings, job_id: str, role: str, party_id: str, task_name: str) -> None:
    """(namespace, name) of each output table: {output key: [{"name", "namespace"}]}."""

    def action() -> None:
        request = outputs_pb2.QueryOutputTablesRequest(task=_task_ref(job_id, role, party_id, task_name))
        with settings.client() as client:
            answer = client.call("QueryOutputTables", request)
        tables: dict[str, list[dict[str, str]]] = {}
        for item in answer.tables:
            tables.setdefault(item.output_key, []).append(
                {"name": item.table.name, "namespace": item.table.namespace}
            )
        success(tables, sort_keys=True)

    run(action)


@output.command("display-data")
@task_options
@click.option("-l", "--limit", type=int, default=10, show_default=True, help="Rows per output.")
@click.option("--output-key", default="", help="Only this output.")
@pass_settings
def display_data(
    settings: Settings, job_id: str, role: str, party_id: str, task_name: str, limit: int, output_key: str
) -> None:
    """The first rows of a task's output tables, header first: {output key: [[header], [row], ...]}."""

    def action() -> None:
        request = outputs_pb2.DisplayOutputDataRequest(
            task=_task_ref(job_id, role, party_id, task_name), limit=limit, output_key=output_key
        )
        with settings.client() as client:
            answer = client.call("DisplayOutputData", request)
        shown = {o.output_key: [list(o.header), *[list(r.values) for r in o.rows]] for o in answer.outputs}
        counts = {o.output_key: o.count for o in answer.outputs}
        success(shown, sort_keys=True, count=counts)

    run(action)


@output.command("download-data")
@task_options
@click.option("-o", "--path", "--output-path", "path", required=True, help="Directory to write into.")
@click.option("--output-key", default="", help="Only this output.")
@pass_settings
def download_data(
    settings: Settings, job_id: str, role: str, party_id: str, task_name: str, path: str, output_key: str
) -> None:
    """Write each output table as CSV + meta JSON into PATH/output_data_<job>_<role>_<party>_<task>/."""

    def action() -> None:
        ref = _task_ref(job_id, role, party_id, task_name)
        target = _output_dir(path) / f"output_data_{job_id}_{role}_{party_id}_{task_name}"
        request = outputs_pb2.DownloadOutputDataRequest(task=ref, output_key=output_key)
        with settings.client() as client:
            write_files(client.stream("DownloadOutputData", request), target)
        _downloaded(target.resolve())

    run(action)


# -- the model warehouse -----------------------------------------------------------------------------


@cli.group()
def model() -> None:
    """This party's model warehouse."""


@model.command("query")
@click.option("-mid", "--model-id", default="")
@click.option("-mv", "--model-version", default="")
@click.option("-r", "--role", default="")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@pass_settings
def model_query(
    settings: Settings, model_id: str, model_version: str, role: str, party_id: str, task_name: str
) -> None:
    """Models in the warehouse (all filters optional)."""

    def action() -> None:
        request = outputs_pb2.QueryModelsRequest(
            model_id=model_id, model_version=model_version, role=role, party_id=party_id, task_name=task_name
        )
        with settings.client() as client:
            answer = client.call("QueryModels", request)
        success([model_row(m) for m in answer.models], sort_keys=True)

    run(action)


@model.command("delete")
@click.option("-mid", "--model-id", required=True)
@click.option("-mv", "--model-version", required=True)
@click.option("-r", "--role", default="")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@click.option("--output-key", default="")
@pass_settings
def model_delete(
    settings: Settings,
    model_id: str,
    model_version: str,
    role: str,
    party_id: str,
    task_name: str,
    output_key: str,
) -> None:
    """Remove models from the warehouse."""

    def action() -> None:
        request = outputs_pb2.DeleteModelsRequest(
            model_id=model_id,
            model_version=model_version,
            role=role,
            party_id=party_id,
            task_name=task_name,
            output_key=output_key,
        )
        with settings.client() as client:
            answer = client.call("DeleteModels", request)
        success({"deleted": answer.deleted}, sort_keys=True)

    run(action)


@model.command("export")
@click.option("-mid", "--model-id", required=True)
@click.option("-mv", "--model-version", required=True)
@click.option("-r", "--role", required=True)
@click.option("-p", "--party-id", required=True)
@click.option("-o", "--path", "--output-path", "path", required=True, help="Directory to write the zip into.")
@pass_settings
def model_export(
    settings: Settings, model_id: str, model_version: str, role: str, party_id: str, path: str
) -> None:
    """Write this party's models of (model_id, model_version) as <mid>_<mv>_<role>_<party>.zip."""

    def action() -> None:
        for value, what in ((model_id, "model_id"), (model_version, "model_version"), (role, "role")):
            check_name(value, what)
        check_party_id(party_id)
        target = _output_dir(path) / f"{model_id}_{model_version}_{role}_{party_id}.zip"
        request = outputs_pb2.ExportModelRequest(
            model_id=model_id, model_version=model_version, role=role, party_id=party_id
        )
        with settings.client() as client:
            written = write_single_file(client.stream("ExportModel", request), target)
        success(
            {"path": str(written)},
            sort_keys=True,
            message=f"export success, please check the path: {written}",
        )

    run(action)


@model.command("import")
@click.option("-mid", "--model-id", required=True, help="File the models under this model id.")
@click.option("-mv", "--model-version", required=True, help="... and this version.")
@click.option(
    "-i", "--path", "--input-path", "path", required=True, type=click.Path(dir_okay=False), help="The zip."
)
@pass_settings
def model_import(settings: Settings, model_id: str, model_version: str, path: str) -> None:
    """Load a zip made by `flow model export` into this party's warehouse."""

    def action() -> None:
        archive = Path(path).expanduser()
        try:
            size = archive.stat().st_size
        except OSError as exc:
            raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"cannot read {archive}: {exc.strerror}") from None
        header = outputs_pb2.ImportModelHeader(model_id=model_id, model_version=model_version, size=size)
        with settings.client() as client:
            answer = client.send_stream("ImportModel", _import_requests(header, archive))
        success([model_row(m) for m in answer.models], sort_keys=True)

    run(action)


def _import_requests(
    header: outputs_pb2.ImportModelHeader, archive: Path
) -> Iterator[outputs_pb2.ImportModelRequest]:
    yield outputs_pb2.ImportModelRequest(header=header)
    with archive.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield outputs_pb2.ImportModelRequest(chunk=chunk)
