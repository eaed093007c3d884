"""Model import is all or nothing: every refused archive leaves the warehouse (rows and files) as it was.

A real SQLite store and a real warehouse folder; archives are built here in export's format, then broken
the ways seen in the field (a duplicated entry, an attempt of 2**70, a job id that is no job id, a zip
declaring far more than it holds, a header that lies about a size) and by hypothesis at random.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import json
import struct
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fate_grpc.data import model_archive
from fate_grpc.data.paths import NodePaths
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.records import ModelRecord
from fate_grpc.store.sqlite_store import SqliteStore

PARTY = "9999"
JOB_ID = "202611301200000000001"
MODELS = {
    ("scale_0", "output_model"): {"model.json": b'{"data": {"mean": [1.5]}, "meta": {"method": "standard"}}'},
    ("lr_0", "output_model"): {
        "model.json": b'{"data": {}, "meta": {"kind": "lr"}}',
        "files/weights.bin": bytes(range(256)) * 4,
    },
}


def manifest_for(models: dict[tuple[str, str], dict[str, bytes]]) -> dict[str, Any]:
    """The manifest export writes for these models."""
    return {
        "format": model_archive.ARCHIVE_FORMAT,
        "model_id": "trained",
        "model_version": "0",
        "role": "guest",
        "party_id": PARTY,
        "models": [
            {
                "task_name": task_name,
                "output_key": output_key,
                "job_id": JOB_ID,
                "attempt": 0,
                "component": "feature_scale",
                "type_name": "model_directory"
                if any(n.startswith("files/") for n in files)
                else "json_model",
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
            }
            for (task_name, output_key), files in models.items()
        ],
    }


def zip_bytes(
    manifest: Any, models: dict[tuple[str, str], dict[str, bytes]], *, raw_manifest: bytes = b""
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for (task_name, output_key), files in models.items():
            for name, data in files.items():
                zf.writestr(f"{task_name}/{output_key}/{name}", data)
        zf.writestr(model_archive.MANIFEST, raw_manifest or json.dumps(manifest).encode())
    return buffer.getvalue()


def set_declared_size(archive: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size rewritten in its central directory entry."""
    data = bytearray(archive)
    name = member.encode()
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_length] == name:
            struct.pack_into("<I", data, start + 24, size)
            return bytes(data)
        start += 4
    raise AssertionError(f"{member} not in the archive")


class Warehouse:
    """A node's warehouse over a real store, and a snapshot of everything an import could change."""

    def __init__(self, root: Path, store: SqliteStore) -> None:
        self.paths = NodePaths(root / "data")
        self.paths.ensure()
        self.store = store
        self.warehouse = ModelWarehouse(store=store, paths=self.paths, party_id=PARTY)
        self.archives = root / "archives"
        self.archives.mkdir()

    async def import_bytes(self, archive: bytes, model_version: str = "1") -> list[ModelRecord]:
        path = self.archives / f"{uuid.uuid4().hex}.zip"
        path.write_bytes(archive)
        return await self.warehouse.import_archive(path, "imported", model_version)

    async def snapshot(self) -> tuple[list[tuple[Any, ...]], dict[str, bytes | None], list[str]]:
        rows = [astuple(m) for m in await self.store.list_models()]
        files: dict[str, bytes | None] = {}
        for path in sorted(self.paths.models_dir.rglob("*")):
            files[path.relative_to(self.paths.models_dir).as_posix()] = (
                path.read_bytes() if path.is_file() else None
            )
        scratch = sorted(p.name for p in self.paths.tmp_dir.iterdir())
        return rows, files, scratch


@asynccontextmanager
async def opened(
    root: Path, store_type: Callable[[Path], SqliteStore] = SqliteStore
) -> AsyncIterator[Warehouse]:
    store = store_type(root / "node.db")
    await store.open()
    try:
        house = Warehouse(root, store)
        # Something already in the warehouse, which a refused import must leave exactly as it is.
        await house.import_bytes(zip_bytes(manifest_for(MODELS), MODELS), model_version="0")
        yield house
    finally:
        await store.close()


async def refused(house: Warehouse, archive: bytes) -> FateGrpcError:
    before = await house.snapshot()
    with pytest.raises(FateGrpcError) as caught:
        await house.import_bytes(archive)
    assert await house.snapshot() == before
    return caught.value


def violation_path(error: FateGrpcError) -> str:
    return error.violations[0].field if error.violations else ""


async def test_a_valid_archive_is_imported_with_its_rows_and_files(tmp_path: Path) -> None:
    async with opened(tmp_path) as house:
        records = await house.import_bytes(zip_bytes(manifest_for(MODELS), MODELS))
        assert sorted((r.task_name, r.type_name, r.job_id, r.attempt) for r in records) == [
            ("lr_0", "model_directory", JOB_ID, 0),
            ("scale_0", "json_model", JOB_ID, 0),
        ]
        weights = Path(next(r.path for r in records if r.task_name == "lr_0")) / "files" / "weights.bin"
        assert weights.read_bytes() == MODELS[("lr_0", "output_model")]["files/weights.bin"]
        assert (await house.snapshot())[2] == [], "no staging left behind"


async def test_a_duplicated_manifest_entry_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    manifest = manifest_for(MODELS)
    manifest["models"].append(copy.deepcopy(manifest["models"][0]))
    async with opened(tmp_path) as house:
        error = await refused(house, zip_bytes(manifest, MODELS))
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert violation_path(error) == "manifest.models[2]" and "listed twice" in error.message


@pytest.mark.parametrize("attempt", [2**70, -1, 1.0, True, "0", None])
async def test_an_attempt_out_of_range_is_refused_and_leaves_nothing(tmp_path: Path, attempt: Any) -> None:
    manifest = manifest_for(MODELS)
    manifest["models"][1]["attempt"] = attempt
    async with opened(tmp_path) as house:
        error = await refused(house, zip_bytes(manifest, MODELS))
    assert violation_path(error) == "manifest.models[1].attempt"
    assert "whole number from 0 to" in error.message


@pytest.mark.parametrize("job_id", ["", "../../etc", "a b", "x" * 65, 42])
async def test_a_job_id_is_checked_by_the_id_rules(tmp_path: Path, job_id: Any) -> None:
    manifest = manifest_for(MODELS)
    manifest["models"][0]["job_id"] = job_id
    async with opened(tmp_path) as house:
        error = await refused(house, zip_bytes(manifest, MODELS))
    assert violation_path(error) == "manifest.models[0].job_id"


async def test_a_zip_declaring_gigabytes_is_refused_before_anything_is_unpacked(tmp_path: Path) -> None:
    archive = set_declared_size(
        zip_bytes(manifest_for(MODELS), MODELS), "lr_0/output_model/model.json", 2**31
    )
    async with opened(tmp_path) as house:
        error = await refused(house, archive)
    assert "compressed more than" in error.message


async def test_a_real_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    # 64 MiB of zeros deflate to about 64 KiB: honest headers, a ratio of about a thousand.
    models = {("bomb_0", "output_model"): {"model.json": b"{}", "files/zeros.bin": bytes(64 * 1024**2)}}
    manifest = manifest_for(models)
    async with opened(tmp_path) as house:
        error = await refused(house, zip_bytes(manifest, models))
    assert "files/zeros.bin is compressed more than 100 to 1" in error.message


async def test_a_header_that_understates_a_size_is_caught_while_unpacking(tmp_path: Path) -> None:
    member = "lr_0/output_model/files/weights.bin"
    archive = set_declared_size(zip_bytes(manifest_for(MODELS), MODELS), member, 10)
    async with opened(tmp_path) as house:
        error = await refused(house, archive)
    assert member in error.message


async def test_duplicate_keys_unknown_fields_and_bad_roles_are_refused(tmp_path: Path) -> None:
    manifest = manifest_for(MODELS)
    text = json.dumps(manifest)
    duplicated = text.replace('"role": "guest"', '"role": "guest", "role": "host"').encode()
    unknown = copy.deepcopy(manifest)
    unknown["models"][0]["path"] = "/elsewhere"
    bad_role = copy.deepcopy(manifest)
    bad_role["role"] = "auditor"
    async with opened(tmp_path) as house:
        assert (
            "repeats the key 'role'"
            in (await refused(house, zip_bytes(None, MODELS, raw_manifest=duplicated))).message
        )
        assert "unknown field path" in (await refused(house, zip_bytes(unknown, MODELS))).message
        assert violation_path(await refused(house, zip_bytes(bad_role, MODELS))) == "manifest.role"


class FailingCommitStore(SqliteStore):
    """A store whose model commit fails after the files were renamed into place (a full disk, say)."""

    fail = False

    async def put_models_if_absent(self, models: Sequence[ModelRecord]) -> bool:
        if self.fail:
            raise OSError("database or disk is full")
        return await super().put_models_if_absent(models)


async def test_a_failed_commit_undoes_the_renames_and_restores_a_leftover_folder(tmp_path: Path) -> None:
    async with opened(tmp_path, FailingCommitStore) as house:
        leftover = house.paths.model_dir("imported", "1", "guest", PARTY, "scale_0", "output_model")
        leftover.mkdir(parents=True)
        (leftover / "model.json").write_text("{}")
        assert isinstance(house.store, FailingCommitStore)
        house.store.fail = True
        before = await house.snapshot()
        with pytest.raises(OSError):
            await house.import_bytes(zip_bytes(manifest_for(MODELS), MODELS))
        assert await house.snapshot() == before


# -- any mutation of a valid manifest --------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
TOP_FIELDS = ["format", "model_id", "model_version", "role", "party_id", "models"]
ENTRY_FIELDS = ["task_name", "output_key", "job_id", "attempt", "component", "type_name", "files"]


@st.composite
def mutated_manifests(draw: st.DrawFn) -> dict[str, Any]:
    manifest = manifest_for(MODELS)
    kind = draw(st.sampled_from(["top", "entry", "delete", "add", "duplicate", "file"]))
    entry = manifest["models"][draw(st.integers(0, len(manifest["models"]) - 1))]
    if kind == "top":
        manifest[draw(st.sampled_from(TOP_FIELDS))] = draw(JSON_VALUES)
    elif kind == "entry":
        entry[draw(st.sampled_from(ENTRY_FIELDS))] = draw(JSON_VALUES)
    elif kind == "delete":
        target = draw(st.sampled_from([manifest, entry]))
        del target[draw(st.sampled_from(sorted(target)))]
    elif kind == "add":
        target = draw(st.sampled_from([manifest, entry]))
        target[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in target))] = draw(JSON_VALUES)
    elif kind == "duplicate":
        manifest["models"].append(copy.deepcopy(entry))
    else:
        entry["files"][draw(st.text(min_size=1, max_size=20))] = draw(JSON_VALUES)
    return manifest


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=mutated_manifests())
def test_every_refused_mutation_leaves_the_warehouse_byte_for_byte_unchanged(
    tmp_path: Path, manifest: dict[str, Any]
) -> None:
    async def scenario() -> None:
        root = tmp_path / uuid.uuid4().hex
        root.mkdir()
        async with opened(root) as house:
            before = await house.snapshot()
            try:
                await house.import_bytes(zip_bytes(manifest, MODELS))
            except FateGrpcError as error:
                assert error.code is ErrorCode.INVALID_ARGUMENT, error.message
                assert await house.snapshot() == before
            else:
                # Only a mutation that keeps the manifest valid (a new valid name, say) may pass.
                model_archive.check_manifest(manifest)

    asyncio.run(scenario())
