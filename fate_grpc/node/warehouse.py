"""This party's model warehouse: models saved by tasks, found for predict jobs, exported and imported.

A model is a directory: `model.json` (the document, `{"data": ..., "meta": ...}`) and optionally
`files/` (binary parts). The store indexes it under (model_id, model_version, role, party_id,
task_name, output_key); the directory lives at `models/<id>/<version>/<role>_<party>/<task>/<key>`.
All file work runs in worker threads, off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import anyio

from fate_grpc.components.context import MODEL_DOCUMENT, MODEL_FILES_DIR
from fate_grpc.domain.ids import check_name, check_party_id, name_problem
from fate_grpc.errors import ErrorCode, FateGrpcError, already_exists, invalid_argument, not_found
from fate_grpc.node.paths import NodePaths
from fate_grpc.store.interface import Store
from fate_grpc.store.records import ModelRecord, TaskKey

MANIFEST = "manifest.json"
ARCHIVE_FORMAT = "fate-grpc-model/1"
# A model archive may not unpack to more than this (guards against zip bombs).
MAX_UNPACKED_BYTES = 8 * 1024**3
MAX_ARCHIVE_MEMBERS = 100_000


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
            "format": ARCHIVE_FORMAT,
            "model_id": model_id,
            "model_version": model_version,
            "role": role,
            "party_id": party_id,
            "models": [],
        }
        await anyio.to_thread.run_sync(_write_archive, archive, manifest, models, self._paths)
        return archive

    async def import_archive(self, archive: Path, model_id: str, model_version: str) -> list[ModelRecord]:
        """File the models of an exported zip under (model_id, model_version) at this party."""
        check_name(model_id, "model_id")
        check_name(model_version, "model_version")
        staging = self._paths.tmp_dir / f"import-{uuid.uuid4().hex}"
        try:
            manifest = await anyio.to_thread.run_sync(_unpack_archive, archive, staging)
            self._check_party(manifest)
            await self._check_free(manifest, model_id, model_version)
            records = await anyio.to_thread.run_sync(
                self._place_imported, manifest, staging, model_id, model_version
            )
            if not await self._store.put_models_if_absent(records):
                await self._remove_dirs_unindexed(records)
                raise already_exists(
                    f"model {model_id} version {model_version} already has some of these models here",
                    model_id=model_id,
                    model_version=model_version,
                )
            return records
        finally:
            await anyio.to_thread.run_sync(_remove_trees, [staging])

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

    def _place_imported(
        self, manifest: dict[str, Any], staging: Path, model_id: str, model_version: str
    ) -> list[ModelRecord]:
        role, party = manifest["role"], manifest["party_id"]
        records = []
        for entry in manifest["models"]:
            target = self._paths.model_dir(
                model_id, model_version, role, party, entry["task_name"], entry["output_key"]
            )
            source = staging / entry["task_name"] / entry["output_key"]
            type_name, size = _check_model_dir(source)
            _move_into_place(source, target, self._paths.tmp_dir)
            records.append(
                ModelRecord(
                    model_id=model_id,
                    model_version=model_version,
                    role=role,
                    party_id=party,
                    task_name=entry["task_name"],
                    output_key=entry["output_key"],
                    job_id=entry["job_id"],
                    attempt=int(entry["attempt"]),
                    component=entry["component"],
                    type_name=type_name,
                    path=str(target),
                    size=size,
                )
            )
        return records

    async def _remove_dirs_unindexed(self, records: list[ModelRecord]) -> None:
        indexed = {
            m.path
            for r in records
            for m in await self._store.list_models(
                model_id=r.model_id,
                model_version=r.model_version,
                role=r.role,
                party_id=r.party_id,
                task_name=r.task_name,
                output_key=r.output_key,
            )
        }
        await anyio.to_thread.run_sync(
            _remove_trees, [Path(r.path) for r in records if r.path not in indexed]
        )


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


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
                    files[rel] = _sha256(path)
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
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    except BaseException:
        archive.unlink(missing_ok=True)
        raise


def _bad_archive(reason: str) -> FateGrpcError:
    return invalid_argument(f"not a model archive made by `flow model export`: {reason}", field_path="file")


def _unpack_archive(archive: Path, staging: Path) -> dict[str, Any]:
    """Check and unpack an export zip into staging; returns its manifest."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise _bad_archive("it is not a zip file") from None
    with zf:
        manifest = _read_manifest(zf)
        expected = _expected_members(manifest)
        members = [info for info in zf.infolist() if info.filename != MANIFEST]
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise _bad_archive("it has too many members")
        if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
            raise _bad_archive("it unpacks to more than the allowed size")
        names = {info.filename for info in members}
        if names != set(expected):
            raise _bad_archive("its files do not match its manifest")
        staging.mkdir(parents=True)
        for info in members:
            _extract_checked(zf, info, staging, expected[info.filename])
    return manifest


def _read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise _bad_archive(f"it has no {MANIFEST}") from None
    except (ValueError, zipfile.BadZipFile):
        raise _bad_archive(f"its {MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise _bad_archive(f"unknown format (expected {ARCHIVE_FORMAT})")
    for field in ("model_id", "model_version", "role"):
        if name_problem(manifest.get(field)) is not None:
            raise _bad_archive(f"its manifest has a bad {field}")
    try:
        check_party_id(manifest.get("party_id"))  # type: ignore[arg-type]
    except FateGrpcError:
        raise _bad_archive("its manifest has a bad party_id") from None
    if not isinstance(manifest.get("models"), list) or not manifest["models"]:
        raise _bad_archive("its manifest lists no models")
    return manifest


def _expected_members(manifest: dict[str, Any]) -> dict[str, str]:
    """Member name -> sha256, for every file the manifest lists (names checked to be safe)."""
    expected: dict[str, str] = {}
    for entry in manifest["models"]:
        if not isinstance(entry, dict):
            raise _bad_archive("a manifest entry is not an object")
        for field in ("task_name", "output_key", "component"):
            if name_problem(entry.get(field)) is not None:
                raise _bad_archive(f"a manifest entry has a bad {field}")
        if not isinstance(entry.get("job_id"), str) or not isinstance(entry.get("attempt"), int):
            raise _bad_archive("a manifest entry lacks its job_id or attempt")
        files = entry.get("files")
        if not isinstance(files, dict) or MODEL_DOCUMENT not in files:
            raise _bad_archive(f"a manifest entry lacks its {MODEL_DOCUMENT}")
        for rel, digest in files.items():
            parts = PurePosixPath(rel).parts
            if not parts or PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts):
                raise _bad_archive(f"unsafe file name {rel!r}")
            if "\\" in rel or not isinstance(digest, str):
                raise _bad_archive(f"unsafe file name {rel!r}")
            expected[f"{entry['task_name']}/{entry['output_key']}/{rel}"] = digest
    return expected


def _extract_checked(zf: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, digest: str) -> None:
    target = (staging / info.filename).resolve()
    if staging.resolve() not in target.parents:
        raise _bad_archive(f"unsafe file name {info.filename!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256()
    written = 0
    with zf.open(info) as source, target.open("wb") as sink:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            written += len(block)
            if written > info.file_size:
                raise _bad_archive(f"{info.filename} is larger than the archive says")
            sha.update(block)
            sink.write(block)
    if sha.hexdigest() != digest:
        with contextlib.suppress(OSError):
            target.unlink()
        raise _bad_archive(f"{info.filename} does not match its checksum")
