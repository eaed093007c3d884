"""This party's model warehouse: models saved by tasks, found for predict jobs, exported and imported.

A model is a directory: `model.json` (the document, `{"data": ..., "meta": ...}`) and optionally
`files/` (binary parts). The store indexes it under (model_id, model_version, role, party_id,
task_name, output_key); the directory lives at `models/<id>/<version>/<role>_<party>/<task>/<key>`.
All file work runs in worker threads, off the event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from fate_grpc.components.context import MODEL_DOCUMENT, MODEL_FILES_DIR
from fate_grpc.data import model_archive
from fate_grpc.data.paths import NodePaths
from fate_grpc.domain.ids import check_name
from fate_grpc.errors import ErrorCode, FateGrpcError, already_exists, invalid_argument, not_found
from fate_grpc.store.interface import Store
from fate_grpc.store.records import ModelRecord, TaskKey


@dataclass(frozen=True)
class ModelSource:
    """Which task made a model, and under which model id and version its job files it."""

    key: TaskKey
    output_key: str
    component: str
    model_id: str
    model_version: str


class ModelWarehouse:
    def __init__(self, *, store: Store, paths: NodePaths, party_id: str) -> None:
        self._store = store
        self._paths = paths
        self._party_id = party_id
        self._import_lock = anyio.Lock()

    # -- saving from a task ----------------------------------------------------------------------
    async def save_task_model(self, source: ModelSource, written: Path) -> ModelRecord:
        """Move a model a task wrote (a directory with model.json) into the warehouse and index it."""
        key = source.key
        target = self._paths.model_dir(
            source.model_id, source.model_version, key.role, key.party_id, key.task_name, source.output_key
        )
        type_name, size = await anyio.to_thread.run_sync(_check_model_dir, written)
        await anyio.to_thread.run_sync(_move_into_place, written, target, self._paths.tmp_dir)
        record = ModelRecord(
            model_id=source.model_id,
            model_version=source.model_version,
            role=key.role,
            party_id=key.party_id,
            task_name=key.task_name,
            output_key=source.output_key,
            job_id=key.job_id,
            attempt=key.attempt,
            component=source.component,
            type_name=type_name,
            path=str(target),
            size=size,
        )
        previous = await self._store.put_model(record)
        if previous is not None and Path(previous.path) != target:
            await self._remove_dirs([previous])
        return record

    # -- finding ---------------------------------------------------------------------------------
    async def find(
        self, model_id: str, model_version: str, role: str, party_id: str, task_name: str, output_key: str
    ) -> ModelRecord | None:
        found = await self._store.list_models(
            model_id=model_id,
            model_version=model_version,
            role=role,
            party_id=party_id,
            task_name=task_name,
            output_key=output_key,
        )
        return found[0] if found else None

    async def of_job_task(self, job_id: str, task_name: str, role: str, party_id: str) -> list[ModelRecord]:
        return await self._store.list_models(job_id=job_id, task_name=task_name, role=role, party_id=party_id)

    async def read_document(self, model: ModelRecord) -> Any:
        path = self._paths.confine(Path(model.path) / MODEL_DOCUMENT)
        return await anyio.to_thread.run_sync(_read_json, path)

    async def files_of(self, model: ModelRecord, prefix: str) -> list[tuple[str, Path]]:
        """(relative path in a download, file on disk) for every file of a model (walked in a thread)."""
        root = self._paths.confine(Path(model.path))
        found = await anyio.to_thread.run_sync(lambda: list(_walk_files(root)))
        return [(f"{prefix}/{rel}", path) for rel, path in found]

    # -- deleting --------------------------------------------------------------------------------
    async def delete(self, **filters: str | None) -> list[ModelRecord]:
        removed = await self._store.delete_models(**filters)
        await self._remove_dirs(removed)
        return removed

    async def _remove_dirs(self, models: list[ModelRecord]) -> None:
        dirs = [self._paths.confine(Path(m.path)) for m in models]
        await anyio.to_thread.run_sync(_remove_trees, dirs)

    # -- export and import -----------------------------------------------------------------------
    async def export(self, model_id: str, model_version: str, role: str, party_id: str) -> Path:
        """A zip of this party's models under (model_id, model_version) in `role`; the caller removes it."""
        check_name(model_id, "model_id")
        check_name(model_version, "model_version")
        models = await self._store.list_models(
            model_id=model_id, model_version=model_version, role=role, party_id=party_id
        )
        if not models:
            raise not_found(
                f"no model {model_id} version {model_version} for {role} {party_id} in this warehouse",
                model_id=model_id,
                model_version=model_version,
            )
        archive = self._paths.tmp_dir / f"export-{uuid.uuid4().hex}.zip"
        manifest = {
            "format": model_archive.ARCHIVE_FORMAT,
            "model_id": model_id,
            "model_version": model_version,
            "role": role,
            "party_id": party_id,
            "models": [],
        }
        await anyio.to_thread.run_sync(_write_archive, archive, manifest, models, self._paths)
        return archive

    async def import_archive(self, archive: Path, model_id: str, model_version: str) -> list[ModelRecord]:
        """File the models of an exported zip under (model_id, model_version) at this party.

        All or nothing: the archive is checked whole before anything is unpacked, unpacked into a
        staging folder, every model checked, then the folders are renamed into place and the rows
        written in one transaction; on any failure the renames are undone, so the warehouse (rows
        and files) is exactly as it was.
        """
        check_name(model_id, "model_id")
        check_name(model_version, "model_version")
        staging = self._paths.tmp_dir / f"import-{uuid.uuid4().hex}"
        try:
            manifest = await anyio.to_thread.run_sync(model_archive.unpack_archive, archive, staging)
            self._check_party(manifest)
            # One import at a time: the check for free names and the filing must not interleave.
            async with self._import_lock:
                await self._check_free(manifest, model_id, model_version)
                records = await anyio.to_thread.run_sync(
                    self._staged_records, manifest, staging, model_id, model_version
                )
                await self._file_all_or_nothing(records, staging)
            return records
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_remove_trees, [staging])

    async def _file_all_or_nothing(self, records: list[ModelRecord], staging: Path) -> None:
        placement = _Placement(
            [(_staged_dir(staging, r), Path(r.path)) for r in records], staging / ".replaced"
        )
        try:
            await anyio.to_thread.run_sync(placement.place)
            if not await self._store.put_models_if_absent(records):
                first = records[0]
                raise already_exists(
                    f"model {first.model_id} version {first.model_version} already has some of these"
                    " models here",
                    model_id=first.model_id,
                    model_version=first.model_version,
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(placement.undo)
            raise

    def _check_party(self, manifest: dict[str, Any]) -> None:
        party = manifest["party_id"]
        if party != self._party_id:
            raise FateGrpcError(
                ErrorCode.INVALID_ARGUMENT,
                f"this archive holds the models of party {party}; this node is party {self._party_id}",
                hint="import an archive into the node of the party that exported it",
                fields={"party_id": party},
            )

    async def _check_free(self, manifest: dict[str, Any], model_id: str, model_version: str) -> None:
        taken = {
            (m.task_name, m.output_key)
            for m in await self._store.list_models(
                model_id=model_id, model_version=model_version, role=manifest["role"], party_id=self._party_id
            )
        }
        clashes = sorted(
            f"{e['task_name']}.{e['output_key']}"
            for e in manifest["models"]
            if (e["task_name"], e["output_key"]) in taken
        )
        if clashes:
            raise FateGrpcError(
                ErrorCode.ALREADY_EXISTS,
                f"model {model_id} version {model_version} already has {', '.join(clashes)}"
                f" for {manifest['role']} {self._party_id}",
                hint=f"delete them first (flow model delete -mid {model_id} -mv {model_version})"
                " or import under another -mid/-mv",
                fields={"model_id": model_id, "model_version": model_version},
            )

    def _staged_records(
        self, manifest: dict[str, Any], staging: Path, model_id: str, model_version: str
    ) -> list[ModelRecord]:
        """The rows of the staged models, each checked to be a model directory as its entry says."""
        role, party = manifest["role"], manifest["party_id"]
        records = []
        for index, entry in enumerate(manifest["models"]):
            source = staging / entry["task_name"] / entry["output_key"]
            type_name, size = _check_model_dir(source)
            if type_name != entry["type_name"]:
                raise model_archive.bad_archive(
                    f"it says {entry['type_name']} but the model is a {type_name}",
                    f"manifest.models[{index}].type_name",
                )
            target = self._paths.model_dir(
                model_id, model_version, role, party, entry["task_name"], entry["output_key"]
            )
            records.append(
                ModelRecord(
                    model_id=model_id,
                    model_version=model_version,
                    role=role,
                    party_id=party,
                    task_name=entry["task_name"],
                    output_key=entry["output_key"],
                    job_id=entry["job_id"],
                    attempt=entry["attempt"],
                    component=entry["component"],
                    type_name=type_name,
                    path=str(target),
                    size=size,
                )
            )
        return records


def _staged_dir(staging: Path, record: ModelRecord) -> Path:
    return staging / record.task_name / record.output_key


class _Placement:
    """Renames staged model folders into the warehouse, and can undo exactly what it did.

    A folder already at a target has no row (rows were checked first, under the import lock): it is
    a leftover, moved aside and put back if the import fails.
    """

    def __init__(self, moves: list[tuple[Path, Path]], aside_dir: Path) -> None:
        self._moves = moves
        self._aside_dir = aside_dir
        self._placed: list[tuple[Path, Path]] = []
        self._aside: list[tuple[Path, Path]] = []
        self._created: list[Path] = []

    def place(self) -> None:
        for source, target in self._moves:
            self._make_parents(target.parent)
            if target.exists() or target.is_symlink():
                aside = self._aside_dir / str(len(self._aside))
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, aside)
                self._aside.append((aside, target))
            os.replace(source, target)
            self._placed.append((source, target))

    def _make_parents(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self._created.append(path)

    def undo(self) -> None:
        for source, target in reversed(self._placed):
            os.replace(target, source)
        for aside, target in reversed(self._aside):
            os.replace(aside, target)
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._placed, self._aside, self._created = [], [], []


# -- file work (runs in worker threads) --------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise not_found("the model's files are missing from this node's warehouse") from None
    except (OSError, ValueError) as exc:
        raise FateGrpcError(ErrorCode.INTERNAL, f"the model document cannot be read: {exc}") from None


def _check_model_dir(folder: Path) -> tuple[str, int]:
    """The model's type name and size; raises if it is not a model directory."""
    document = folder / MODEL_DOCUMENT
    if folder.is_symlink() or not folder.is_dir() or not document.is_file() or document.is_symlink():
        raise invalid_argument(f"a model directory must hold a {MODEL_DOCUMENT} file", field_path="path")
    try:
        parsed = json.loads(document.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise invalid_argument(f"{MODEL_DOCUMENT} is not valid JSON: {exc}", field_path="path") from None
    if not isinstance(parsed, dict):
        raise invalid_argument(f"{MODEL_DOCUMENT} must hold a JSON object", field_path="path")
    size = 0
    has_files = False
    for rel, path in _walk_files(folder):
        size += path.stat().st_size
        has_files = has_files or rel.startswith(f"{MODEL_FILES_DIR}/")
    return ("model_directory" if has_files else "json_model"), size


def _walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Regular files under root (symlinks are refused: a model may not point outside itself)."""
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                raise invalid_argument("a model directory may not contain symbolic links", field_path="path")
        dirnames.sort()
        for name in sorted(filenames):
            path = base / name
            if path.is_symlink() or not path.is_file():
                raise invalid_argument("a model directory may hold regular files only", field_path="path")
            yield path.relative_to(root).as_posix(), path


def _move_into_place(source: Path, target: Path, tmp_dir: Path) -> None:
    """Replace target with source by renames (same file system), so readers never see half a model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = tmp_dir / f"replaced-{uuid.uuid4().hex}"
        os.replace(target, old)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_trees(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _write_archive(
    archive: Path, manifest: dict[str, Any], models: list[ModelRecord], paths: NodePaths
) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for model in models:
                root = paths.confine(Path(model.path))
                files = {}
                for rel, path in _walk_files(root):
                    name = f"{model.task_name}/{model.output_key}/{rel}"
                    zf.write(path, name)
                    files[rel] = model_archive.sha256_of(path)
                manifest["models"].append(
                    {
                        "task_name": model.task_name,
                        "output_key": model.output_key,
                        "job_id": model.job_id,
                        "attempt": model.attempt,
                        "component": model.component,
                        "type_name": model.type_name,
                        "files": files,
                    }
                )
            zf.writestr(model_archive.MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    except BaseException:
        archive.unlink(missing_ok=True)
        raise
