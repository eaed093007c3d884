"""`flow data ...` and `flow table ...` with fate_client 2.2's commands, flags and conf keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fate_grpc.cli.downloads import write_single_file
from fate_grpc.cli.flow_cli import Settings, data, load_json_conf, pass_settings, run, success, table
from fate_grpc.client.v1 import data_pb2, outputs_pb2
from fate_grpc.domain.ids import check_name
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.outputs import fate_table

# The keys fate_client's SDK takes from each conf (anything else makes fate_client fail as well).
UPLOAD_KEYS = ("file", "head", "partitions", "meta", "extend_sid", "namespace", "name", "role", "party_id")
TRANSFORMER_KEYS = ("data_warehouse", "namespace", "name", "site_name", "drop")
# `-d/--display` takes a string in fate_client; FATE's server reads it as a boolean.
TRUE_WORDS = ("true", "1", "yes", "y", "on", "t")
FALSE_WORDS = ("false", "0", "no", "n", "off", "f", "")


def name_options(command: Any) -> Any:
    """fate_client's -n/--name and -ns/--namespace, both required."""
    command = click.option("-ns", "--namespace", required=True, help="Namespace of the table.")(command)
    return click.option("-n", "--name", required=True, help="Name of the table.")(command)


# -- data ----------------------------------------------------------------------------------------------


def _upload(settings: Settings, conf: str, *, server_side: bool) -> None:
    raw = load_json_conf(conf)
    # "overwrite" was this CLI's own key before uploads replaced tables as FATE's do; still accepted.
    _refuse_unknown({k: v for k, v in raw.items() if k != "overwrite"}, UPLOAD_KEYS, conf)
    if not raw.get("file"):
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"upload conf {conf} needs 'file'")
    file = _local_file(str(raw["file"]), Path(conf), server_side=server_side)
    header = data_pb2.UploadDataHeader(
        namespace=_text(raw, "namespace", conf),
        name=_text(raw, "name", conf),
        extend_sid=_flag(raw, "extend_sid", conf, default=False),
        source_file=file.name if file else "",
        server_file="" if file else str(raw["file"]),
    )
    if raw.get("head") is not None:
        header.head = _flag(raw, "head", conf, default=True)
    if raw.get("partitions") is not None:
        header.partitions = _integer(raw["partitions"], "partitions", conf)
    meta = raw.get("meta")
    if meta is not None:
        if not isinstance(meta, dict):
            raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"upload conf {conf}: 'meta' must be a JSON object")
        header.meta.update(meta)
    with settings.client() as client:
        answer = client.upload_data(header, file)
    success(fate_table(answer.table))


@data.command("upload")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False), help="Conf.")
@click.option("--overwrite", is_flag=True, hidden=True, help="Accepted; uploads replace.")
@pass_settings
def data_upload(settings: Settings, conf: str, overwrite: bool) -> None:
    """Upload a file with FATE's upload conf (file, head, partitions, meta, extend_sid, namespace, name).

    A file found on this machine is streamed to the node; otherwise an absolute path is read by the node
    on its machine (as FATE does), if it lies in the node's server_data_dirs. A table of the same name
    is replaced."""
    run(lambda: _upload(settings, conf, server_side=True))


@data.command("upload-file")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False), help="Conf.")
@pass_settings
def data_upload_file(settings: Settings, conf: str) -> None:
    """Upload a file from this machine with FATE's upload conf (sent to the node, as FATE does)."""
    run(lambda: _upload(settings, conf, server_side=False))


@data.command("transformer")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False), help="Conf.")
@pass_settings
def data_transformer(settings: Settings, conf: str) -> None:
    """Make a dataframe table of an uploaded table: {"data_warehouse": {"namespace", "name"}, "namespace",
    "name", "site_name", "drop"}."""

    def action() -> None:
        raw = load_json_conf(conf)
        _refuse_unknown(raw, TRANSFORMER_KEYS, conf)
        source = raw.get("data_warehouse")
        if not isinstance(source, dict) or not source.get("namespace") or not source.get("name"):
            raise FateGrpcError(
                ErrorCode.CLIENT_INPUT,
                f'conf {conf}: \'data_warehouse\' must be {{"namespace": ..., "name": ...}}',
            )
        request = data_pb2.TransformTableRequest(
            source_namespace=str(source["namespace"]),
            source_name=str(source["name"]),
            namespace=_text(raw, "namespace", conf, required=True),
            name=_text(raw, "name", conf, required=True),
            site_name=_text(raw, "site_name", conf),
        )
        if raw.get("drop") is not None:
            request.drop = _flag(raw, "drop", conf, default=True)
        with settings.client() as client:
            answer = client.transform_table(request)
        success(fate_table(answer.table))

    run(action)


@data.command("download-component")
@name_options
@click.option("-o", "--path", "path", required=True, help="Directory on the node's machine.")
@pass_settings
def data_download_component(settings: Settings, name: str, namespace: str, path: str) -> None:
    """Write a table on the node's machine: PATH/data/0.csv and PATH/data/0.meta (PATH must lie in the
    node's server_data_dirs)."""

    def action() -> None:
        with settings.client() as client:
            answer = client.save_table_on_node(namespace, name, path)
        shown = {
            "name": name,
            "namespace": namespace,
            "path": path,
            "file": answer.file,
            "count": answer.count,
        }
        success(shown)

    run(action)


@data.command("download")
@name_options
@click.option(
    "-o", "--path", "--output-path", "path", required=True, help="A directory, or a file path ending in .csv."
)
@pass_settings
def data_download(settings: Settings, name: str, namespace: str, path: str) -> None:
    """Stream a stored table to a local CSV file (<namespace>_<name>.csv in a directory)."""

    def action() -> None:
        check_name(name, "name")
        check_name(namespace, "namespace")
        target = Path(path).expanduser()
        if not target.name.endswith(".csv"):
            if target.exists() and not target.is_dir():
                raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"{target} is not a directory")
            target = target / f"{namespace}_{name}.csv"
        request = outputs_pb2.DownloadTableRequest(namespace=namespace, name=name)
        with settings.client() as client:
            written = write_single_file(client.stream("DownloadTable", request), target)
        success(
            {"name": name, "namespace": namespace, "path": str(written)},
            sort_keys=True,
            message=f"download success, please check the path: {written}",
            directory=str(written.parent),
        )

    run(action)


# -- table ---------------------------------------------------------------------------------------------


@table.command("query")
@name_options
@click.option("-d", "--display", default=None, help="true: add the first rows, as FATE keeps them.")
@pass_settings
def table_query(settings: Settings, name: str, namespace: str, display: str | None) -> None:
    """A table's metadata (FATE's keys and ours); with `-d true`, its first 100 rows as [id, values]."""

    def action() -> None:
        with settings.client() as client:
            if not _truthy(display):
                success(fate_table(client.query_table(namespace, name).table))
                return
            answer = client.display_table(namespace, name)
        row = fate_table(answer.table)
        row["display"] = [[r.key, r.value] for r in answer.rows]
        success(row)

    run(action)


@table.command("delete")
@name_options
@pass_settings
def table_delete(settings: Settings, name: str, namespace: str) -> None:
    """Remove a stored table and its file from this node."""

    def action() -> None:
        with settings.client() as client:
            request = outputs_pb2.DeleteTableRequest(namespace=namespace, name=name)
            answer = client.call("DeleteTable", request)
        success({"name": answer.table.name, "namespace": answer.table.namespace}, sort_keys=True)

    run(action)


@table.command("bind")
@name_options
@click.option("-o", "--path", "path", required=True, help="A CSV file on the node's machine.")
@pass_settings
def table_bind(settings: Settings, name: str, namespace: str, path: str) -> None:
    """Bind a CSV file on the node's machine (inside its server_data_dirs) as a table."""

    def action() -> None:
        with settings.client() as client:
            answer = client.bind_table(namespace, name, path)
        success(fate_table(answer.table))

    run(action)


# -- helpers -------------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"-d/--display must be true or false, got {value!r}")


def _refuse_unknown(raw: dict[str, Any], allowed: tuple[str, ...], conf: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT,
            f"conf {conf}: unknown key {unknown[0]!r} (FATE's keys: {', '.join(allowed)})",
        )


def _text(raw: dict[str, Any], key: str, conf: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {conf} needs '{key}'")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {conf}: '{key}' must be a string")
    return str(value)


def _flag(raw: dict[str, Any], key: str, conf: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    # FATE's confs write head as 1/0 as often as true/false.
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {conf}: '{key}' must be true or false, got {value!r}")


def _integer(value: Any, key: str, conf: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {conf}: '{key}' must be an integer, got {value!r}")
    return value


def _local_file(file: str, conf: Path, *, server_side: bool) -> Path | None:
    """The file on this machine; None when it is not here but the node may read it on its machine."""
    candidate = Path(file).expanduser()
    for option in (candidate, conf.parent / candidate):
        if option.is_file():
            return option
    if server_side and candidate.is_absolute():
        return None
    also = " (an absolute path not found here is read by the node on its machine)" if server_side else ""
    raise FateGrpcError(
        ErrorCode.CLIENT_INPUT,
        f"data file {file} not found on this machine: relative paths are tried from the current"
        f" directory and from the conf file's directory{also}",
    )
