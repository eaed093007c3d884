"""TableService on a real SQLite store: server-side paths, the transformer, FATE-style display rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from fate_grpc.data.paths import NodePaths
from fate_grpc.data.tables import TableService, UploadRequest
from fate_grpc.data.upload_meta import parse_upload_meta
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.config import config_from_mapping
from fate_grpc.store.sqlite_store import SqliteStore

CSV = b"id,y,x0\n7,1,0.5\n3,0,0.25\n"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "node.sqlite3")
    await opened.open()
    yield opened
    await opened.close()


def service(store: SqliteStore, root: Path, *dirs: Path) -> TableService:
    paths = NodePaths(root / "data")
    paths.ensure()
    return TableService(store=store, paths=paths, server_data_dirs=dirs)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def fate_upload(namespace: str, name: str, **meta: object) -> UploadRequest:
    fate = parse_upload_meta({"match_id_name": "id", **meta}, partitions=4)
    return UploadRequest(namespace, name, True, ",", "id", fate.label_name, "", (), True, "t.csv", fate=fate)


async def test_without_server_data_dirs_bind_and_download_component_are_refused(
    store: SqliteStore, tmp_path: Path
) -> None:
    tables = service(store, tmp_path)
    await tables.upload(fate_upload("ns", "t"), chunks(CSV))
    with pytest.raises(FateGrpcError) as bind:
        await tables.bind("ns", "b", str(tmp_path / "x.csv"))
    with pytest.raises(FateGrpcError) as save:
        await tables.save_on_node("ns", "t", str(tmp_path / "out"))
    for caught in (bind, save):
        assert caught.value.code is ErrorCode.PERMISSION_DENIED
        assert "server_data_dirs" in caught.value.message
    assert "flow data upload" in bind.value.hint
    assert "flow data download -n NAME -ns NAMESPACE -o DIR" in save.value.hint
    assert not (tmp_path / "out").exists()


async def test_paths_must_be_absolute_and_stay_inside_the_dirs_after_links(
    store: SqliteStore, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_bytes(CSV)
    (allowed / "link.csv").symlink_to(secret)
    tables = service(store, tmp_path, allowed)

    with pytest.raises(FateGrpcError) as relative:
        await tables.bind("ns", "b", "allowed/link.csv")
    assert [v.field for v in relative.value.violations] == ["path"]
    with pytest.raises(FateGrpcError) as linked:
        await tables.bind("ns", "b", str(allowed / "link.csv"))
    assert linked.value.code is ErrorCode.PERMISSION_DENIED
    with pytest.raises(FateGrpcError) as missing:
        await tables.bind("ns", "b", str(allowed / "nope.csv"))
    assert missing.value.code is ErrorCode.INVALID_ARGUMENT and "does not exist" in missing.value.message


async def test_bind_links_the_file_so_the_table_outlives_it(store: SqliteStore, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "t.csv").write_bytes(CSV)
    tables = service(store, tmp_path, allowed)

    table = await tables.bind("ns", "bound", str(allowed / "t.csv"))
    assert (table.count, table.header, table.match_id_name) == (2, ("id", "y", "x0"), "id")
    (allowed / "t.csv").unlink()
    assert await anyio.Path(table.path).read_bytes() == CSV


async def test_transformer_copies_rows_and_roles_and_honours_drop(store: SqliteStore, tmp_path: Path) -> None:
    tables = service(store, tmp_path)
    raw = await tables.upload(fate_upload("upload", "raw", label_name="y"), chunks(CSV))

    made = await tables.transform(("upload", "raw"), ("exp", "frame"), site_name="guest_9999", drop=True)
    assert made.meta["data_type"] == "dataframe" and made.meta["site_name"] == "guest_9999"
    assert (made.label_name, made.match_id_name, made.count) == ("y", "id", 2)
    assert await anyio.Path(made.path).read_bytes() == await anyio.Path(raw.path).read_bytes()

    with pytest.raises(FateGrpcError) as kept:
        await tables.transform(("upload", "raw"), ("exp", "frame"), site_name="", drop=False)
    assert kept.value.code is ErrorCode.ALREADY_EXISTS and '"drop": true' in kept.value.hint
    with pytest.raises(FateGrpcError) as same:
        await tables.transform(("upload", "raw"), ("upload", "raw"), site_name="", drop=True)
    assert same.value.code is ErrorCode.INVALID_ARGUMENT
    with pytest.raises(FateGrpcError) as absent:
        await tables.transform(("upload", "nope"), ("exp", "other"), site_name="", drop=True)
    assert absent.value.code is ErrorCode.NOT_FOUND


async def test_display_rows_are_fates_key_and_value(store: SqliteStore, tmp_path: Path) -> None:
    tables = service(store, tmp_path)
    await tables.upload(fate_upload("ns", "by_column", sample_id_name="y"), chunks(CSV))
    _, rows = await tables.display("ns", "by_column", 100)
    assert rows == [("1", "7,0.5"), ("0", "3,0.25")]

    fate = parse_upload_meta({"match_id_name": "id"}, extend_sid=True)
    request = UploadRequest("ns", "generated", True, ",", "id", "", "", (), True, "", fate=fate)
    await tables.upload(request, chunks(CSV))
    _, rows = await tables.display("ns", "generated", 1)
    assert rows == [("0", "7,1,0.5")]


def test_server_data_dirs_in_the_node_conf(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    base = {"party_id": "9999", "listen": "127.0.0.1:1", "data_dir": "d"}
    config = config_from_mapping({**base, "server_data_dirs": ["shared"]}, base_dir=tmp_path)
    assert config.server_data_dirs == ((tmp_path / "shared").resolve(),)
    assert config_from_mapping(base, base_dir=tmp_path).server_data_dirs == ()
    for bad, field in ((["shared", "missing"], "server_data_dirs[1]"), ("shared", "server_data_dirs")):
        with pytest.raises(FateGrpcError) as caught:
            config_from_mapping({**base, "server_data_dirs": bad}, base_dir=tmp_path)
        assert [v.field for v in caught.value.violations] == [field]


async def test_upload_of_a_file_on_the_node_reads_it_from_the_allowed_dirs(
    store: SqliteStore, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    await anyio.Path(allowed / "t.csv").write_bytes(CSV)
    await anyio.Path(tmp_path / "outside.csv").write_bytes(CSV)
    tables = service(store, tmp_path, allowed)

    table = await tables.upload_server_file(fate_upload("ns", "t"), str(allowed / "t.csv"), chunks())
    assert (table.count, table.meta["source_file"]) == (2, "t.csv")
    assert await anyio.Path(table.path).read_bytes() == CSV
    with pytest.raises(FateGrpcError) as outside:
        await tables.upload_server_file(fate_upload("ns", "u"), str(tmp_path / "outside.csv"), chunks())
    assert outside.value.code is ErrorCode.PERMISSION_DENIED and "upload-file" in outside.value.hint
    with pytest.raises(FateGrpcError) as mixed:
        await tables.upload_server_file(fate_upload("ns", "u"), str(allowed / "t.csv"), chunks(b"x"))
    assert [v.field for v in mixed.value.violations] == ["chunk"]
