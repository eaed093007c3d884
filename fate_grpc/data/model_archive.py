"""Model archives (`flow model export` / `import`): writing one, and checking one before and while unpacking.

An archive is a zip of `<task_name>/<output_key>/<file>` members plus `manifest.json`, which names every
model and the sha256 of each of its files. An archive from elsewhere is refused, naming the manifest field
or member at fault, when:
- its manifest is not exactly what export writes (every field typed and in range, ids by the id rules, no
  duplicate model, no unknown field), or
- its central directory declares too much: too many members, more unpacked bytes than allowed or than the
  disk has free, an entry (or the whole) compressed more than ``MAX_COMPRESSION_RATIO`` to one, an
  encrypted entry or a compression method export never uses, duplicate member names.
All of that is decided before anything is written. While unpacking, every entry is counted again as it
streams, so a header that lies about a size is caught at the first byte too many.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fate_grpc.components.context import MODEL_DOCUMENT
from fate_grpc.domain.component_spec import ROLES
from fate_grpc.domain.ids import is_valid_job_id, is_valid_party_id, name_problem
from fate_grpc.errors import FateGrpcError, invalid_argument

MANIFEST = "manifest.json"
ARCHIVE_FORMAT = "fate-grpc-model/1"
# An archive (the zip itself) may not be larger than this.
MAX_ARCHIVE_BYTES = 4 * 1024**3
# Nor unpack to more than this, nor to more than the disk has free (less a reserve).
MAX_UNPACKED_BYTES = 4 * 1024**3
FREE_SPACE_RESERVE_BYTES = 64 * 1024**2
MAX_ARCHIVE_MEMBERS = 100_000
MAX_MANIFEST_BYTES = 16 * 1024**2
MAX_MODELS = 10_000
# Unpacked size / compressed size: model JSON compresses about 3 to 10 times; zip bombs a thousand times.
MAX_COMPRESSION_RATIO = 100
# Entries this small may compress better than the ratio (a file of zeros, say): their total stays bounded.
RATIO_EXEMPT_BYTES = 1024**2
MAX_ATTEMPT = 1000
MAX_FILE_NAME_CHARS = 1024
MODEL_TYPES = ("json_model", "model_directory")
_BLOCK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOP_FIELDS = frozenset({"format", "model_id", "model_version", "role", "party_id", "models"})
_ENTRY_FIELDS = frozenset({"task_name", "output_key", "job_id", "attempt", "component", "type_name", "files"})
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED_FLAG = 0x1


def bad_archive(reason: str, field_path: str = "file") -> FateGrpcError:
    """The error for an archive that is not one export made (or not one this node may unpack)."""
    return invalid_argument(
        f"not a model archive made by `flow model export`: {reason}", field_path=field_path
    )


# -- the manifest (pure) -----------------------------------------------------------------------------


def parse_manifest(text: bytes) -> dict[str, Any]:
    """The manifest document, checked field by field; raises naming the first field at fault."""
    try:
        document = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        raise bad_archive(f"its {MANIFEST} repeats the key {exc.key!r}", "manifest") from None
    except (ValueError, RecursionError):
        raise bad_archive(f"its {MANIFEST} is not valid JSON", "manifest") from None
    check_manifest(document)
    return dict(document)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def check_manifest(document: Any) -> None:
    """Every field of a manifest as export writes it; raises naming the field path and the reason."""
    _check_object(document, _TOP_FIELDS, "manifest")
    if document["format"] != ARCHIVE_FORMAT:
        raise bad_archive(f"unknown format (expected {ARCHIVE_FORMAT})", "manifest.format")
    for field in ("model_id", "model_version"):
        _check_name(document[field], f"manifest.{field}")
    if not isinstance(document["role"], str) or document["role"] not in ROLES:
        raise bad_archive(f"the role must be one of {', '.join(ROLES)}", "manifest.role")
    if not is_valid_party_id(document["party_id"]):
        raise bad_archive("the party_id is not a valid party id", "manifest.party_id")
    models = document["models"]
    if not isinstance(models, list) or not 0 < len(models) <= MAX_MODELS:
        raise bad_archive(f"the manifest must list 1 to {MAX_MODELS} models", "manifest.models")
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(models):
        path = f"manifest.models[{index}]"
        _check_entry(entry, path)
        identity = (entry["task_name"], entry["output_key"])
        if identity in seen:
            raise bad_archive(f"the model {identity[0]}.{identity[1]} is listed twice", path)
        seen.add(identity)


def _check_entry(entry: Any, path: str) -> None:
    _check_object(entry, _ENTRY_FIELDS, path)
    for field in ("task_name", "output_key", "component"):
        _check_name(entry[field], f"{path}.{field}")
    if not is_valid_job_id(entry["job_id"]):
        raise bad_archive("the job_id is not a valid job id", f"{path}.job_id")
    attempt = entry["attempt"]
    if isinstance(attempt, bool) or not isinstance(attempt, int) or not 0 <= attempt <= MAX_ATTEMPT:
        raise bad_archive(f"the attempt must be a whole number from 0 to {MAX_ATTEMPT}", f"{path}.attempt")
    if entry["type_name"] not in MODEL_TYPES:
        raise bad_archive(f"the type_name must be one of {', '.join(MODEL_TYPES)}", f"{path}.type_name")
    files = entry["files"]
    if not isinstance(files, dict) or MODEL_DOCUMENT not in files:
        raise bad_archive(f"the files must include {MODEL_DOCUMENT}", f"{path}.files")
    for name, digest in files.items():
        _check_file_name(name, f"{path}.files")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise bad_archive(f"the checksum of {name!r} is not a sha256 in hex", f"{path}.files")


def _check_object(value: Any, fields: frozenset[str], path: str) -> None:
    if not isinstance(value, dict):
        raise bad_archive("must be a JSON object", path)
    missing = sorted(fields - value.keys())
    if missing:
        raise bad_archive(f"it lacks {', '.join(missing)}", path)
    unknown = sorted(str(key) for key in value.keys() - fields)
    if unknown:
        raise bad_archive(f"unknown field {', '.join(unknown)}", path)


def _check_name(value: Any, path: str) -> None:
    problem = name_problem(value)
    if problem is not None:
        raise bad_archive(f"{path.rsplit('.', 1)[-1]} {problem}", path)


def _check_file_name(name: str, path: str) -> None:
    pure = PurePosixPath(name)
    unsafe = (
        not name
        or len(name) > MAX_FILE_NAME_CHARS
        or pure.is_absolute()
        or "\\" in name
        or "\0" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
    )
    if unsafe:
        raise bad_archive(f"unsafe file name {name[:100]!r}", path)


def expected_members(manifest: dict[str, Any]) -> dict[str, str]:
    """Member name -> sha256 of every file the (checked) manifest lists."""
    return {
        f"{entry['task_name']}/{entry['output_key']}/{name}": digest
        for entry in manifest["models"]
        for name, digest in entry["files"].items()
    }


# -- the central directory, before anything is unpacked ------------------------------------------------


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    """The checked manifest, read through a bounded stream (its header may lie about its size)."""
    infos = [info for info in zf.infolist() if info.filename == MANIFEST]
    if not infos:
        raise bad_archive(f"it has no {MANIFEST}")
    if len(infos) > 1:
        raise bad_archive(f"it holds {MANIFEST} twice")
    info = infos[0]
    _check_entry_header(info, MANIFEST)
    if info.file_size > MAX_MANIFEST_BYTES:
        raise bad_archive(f"its {MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    with zf.open(info) as stream:
        text = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(text) > info.file_size:
        raise bad_archive(f"{MANIFEST} is larger than the archive says")
    return parse_manifest(text)


def check_members(zf: zipfile.ZipFile, expected: dict[str, str], archive_bytes: int, free_bytes: int) -> int:
    """Check every member's header against the manifest and the limits; returns the unpacked total."""
    infos = zf.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS + 1:
        raise bad_archive(f"it has more than {MAX_ARCHIVE_MEMBERS} members")
    names = [info.filename for info in infos if info.filename != MANIFEST]
    if len(set(names)) != len(names):
        raise bad_archive("it holds a member name twice")
    if set(names) != set(expected):
        missing = sorted(set(expected) - set(names))[:3]
        extra = sorted(set(names) - set(expected))[:3]
        raise bad_archive(f"its files do not match its manifest (missing {missing}, not listed {extra})")
    total = 0
    for info in infos:
        _check_entry_header(info, info.filename)
        total += info.file_size
    limit = min(MAX_UNPACKED_BYTES, max(RATIO_EXEMPT_BYTES, MAX_COMPRESSION_RATIO * archive_bytes))
    if total > limit:
        raise bad_archive(f"it declares {total} unpacked bytes, more than the {limit} allowed for its size")
    if total > free_bytes - FREE_SPACE_RESERVE_BYTES:
        raise bad_archive(f"it declares {total} unpacked bytes and this node has {free_bytes} free")
    return total


def _check_entry_header(info: zipfile.ZipInfo, name: str) -> None:
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise bad_archive(f"{name[:100]} is encrypted")
    if info.compress_type not in _METHODS:
        raise bad_archive(f"{name[:100]} uses a compression method export never uses")
    ratio_applies = info.file_size > RATIO_EXEMPT_BYTES
    if ratio_applies and info.file_size > MAX_COMPRESSION_RATIO * max(1, info.compress_size):
        raise bad_archive(f"{name[:100]} is compressed more than {MAX_COMPRESSION_RATIO} to 1")


# -- unpacking ---------------------------------------------------------------------------------------


def unpack_archive(archive: Path, staging: Path) -> dict[str, Any]:
    """Check an export zip whole (manifest and central directory), then unpack it into staging.

    Returns the checked manifest. Nothing is written unless every check passed; on a failure while
    unpacking, the caller removes staging.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise bad_archive("it is not a zip file") from None
    with zf:
        manifest = read_manifest(zf)
        expected = expected_members(manifest)
        staging.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(staging.parent).free
        budget = check_members(zf, expected, archive.stat().st_size, free)
        staging.mkdir()
        for info in zf.infolist():
            if info.filename != MANIFEST:
                budget -= _extract_checked(zf, info, staging, expected[info.filename], budget)
    return manifest


def _extract_checked(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, digest: str, budget: int
) -> int:
    """Stream one member to staging, counting bytes against its header and the archive's budget."""
    target = (staging / info.filename).resolve()
    if staging.resolve() not in target.parents:
        raise bad_archive(f"unsafe file name {info.filename[:100]!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256()
    written = 0
    try:
        with zf.open(info) as source, target.open("xb") as sink:
            while block := source.read(_BLOCK):
                written += len(block)
                if written > info.file_size or written > budget:
                    raise bad_archive(f"{info.filename[:100]} is larger than the archive says")
                sha.update(block)
                sink.write(block)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise bad_archive(f"{info.filename[:100]} appears twice") from None
        raise bad_archive(f"{info.filename[:100]} cannot be unpacked (damaged)") from None
    if written != info.file_size:
        raise bad_archive(f"{info.filename[:100]} is shorter than the archive says")
    if sha.hexdigest() != digest:
        raise bad_archive(f"{info.filename[:100]} does not match its checksum")
    return written


# -- writing -----------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
