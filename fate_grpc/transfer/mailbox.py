"""Objects received for this node's tasks, kept until consumed: small ones in memory, the rest on disk.

Each object is delivered once per key; a resent object (same key) is dropped. Receivers wait on an
event for their key, so delivery wakes them at once (no polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument


@dataclass(frozen=True)
class MailKey:
    """Identity of an object: who sent it to whom, for which task attempt, under which tag."""

    job_id: str
    task_name: str
    attempt: int
    tag: str
    source_role: str
    source_party_id: str
    destination_role: str
    destination_party_id: str


@dataclass
class _Entry:
    size: int
    data: bytes | None = None
    path: Path | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    consumed: bool = False


class Mailbox:
    """Delivered-but-unconsumed objects of this node, bounded in memory."""

    def __init__(self, spool_dir: Path, *, memory_budget_bytes: int, chunk_bytes: int) -> None:
        self._spool = spool_dir
        self._budget = memory_budget_bytes
        self._chunk = chunk_bytes
        self._in_memory = 0
        self._entries: dict[MailKey, _Entry] = {}

    @property
    def bytes_in_memory(self) -> int:
        return self._in_memory

    def _entry(self, key: MailKey) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(size=-1)
            self._entries[key] = entry
        return entry

    def is_known(self, key: MailKey) -> bool:
        """True if the object was already delivered (consumed or not)."""
        entry = self._entries.get(key)
        return entry is not None and entry.ready.is_set()

    async def deliver(self, key: MailKey, total_size: int, chunks: AsyncIterator[bytes]) -> bool:
        """Store an object from a chunk stream. False (and the stream drained) if it was a resend."""
        if total_size < 0:
            raise invalid_argument("total_size must not be negative", field_path="total_size")
        if self.is_known(key):
            async for _ in chunks:
                pass
            return False
        if total_size <= self._chunk and self._in_memory + total_size <= self._budget:
            # Reserve the bytes before collecting, so concurrent deliveries cannot overrun the budget.
            self._in_memory += total_size
            try:
                data = await self._collect(chunks, total_size)
            except BaseException:
                self._in_memory -= total_size
                raise
            if self.is_known(key):  # a concurrent resend won the race
                self._in_memory -= total_size
                return False
            entry = self._entry(key)
            entry.data, entry.size = data, len(data)
        else:
            path = await self._spill(key, chunks, total_size)
            if self.is_known(key):
                path.unlink(missing_ok=True)
                return False
            entry = self._entry(key)
            entry.path, entry.size = path, total_size
        entry.ready.set()
        return True

    async def _collect(self, chunks: AsyncIterator[bytes], total_size: int) -> bytes:
        parts, size = [], 0
        async for chunk in chunks:
            size += len(chunk)
            if size > total_size:
                raise invalid_argument("object is larger than its declared size", field_path="chunk")
            parts.append(chunk)
        if size != total_size:
            raise invalid_argument(
                f"object truncated: got {size} of {total_size} bytes", field_path="total_size"
            )
        return b"".join(parts)

    async def _spill(self, key: MailKey, chunks: AsyncIterator[bytes], total_size: int) -> Path:
        folder = self._spool / key.job_id
        await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
        path = folder / f"{uuid.uuid4().hex}.part"
        size = 0
        try:
            async with await anyio.open_file(path, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > total_size:
                        raise invalid_argument("object is larger than its declared size", field_path="chunk")
                    await out.write(chunk)
            if size != total_size:
                raise invalid_argument(
                    f"object truncated: got {size} of {total_size} bytes", field_path="total_size"
                )
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return path

    async def receive(self, key: MailKey, timeout_s: float) -> AsyncIterator[bytes]:
        """Wait for the object and yield it in chunks; it is removed once fully yielded."""
        entry = self._entry(key)
        if entry.consumed:
            raise FateGrpcError(
                ErrorCode.CONFLICT,
                f"object {key.tag!r} from {key.source_role} {key.source_party_id} was already received",
            )
        try:
            await asyncio.wait_for(entry.ready.wait(), timeout=timeout_s)
        except TimeoutError:
            raise FateGrpcError(
                ErrorCode.DEADLINE_EXCEEDED,
                f"waited {timeout_s:g}s for {key.tag!r} from {key.source_role} {key.source_party_id};"
                " it never came",
                fields={"party_id": key.source_party_id},
            ) from None
        async for chunk in self._read(entry):
            yield chunk
        self._consume(entry)

    async def _read(self, entry: _Entry) -> AsyncIterator[bytes]:
        if entry.data is not None:
            view = memoryview(entry.data)
            for start in range(0, max(len(view), 1), self._chunk):
                yield bytes(view[start : start + self._chunk])
            return
        assert entry.path is not None
        async with await anyio.open_file(entry.path, "rb") as source:
            while chunk := await source.read(self._chunk):
                yield chunk

    def object_size(self, key: MailKey) -> int:
        return self._entry(key).size

    def _consume(self, entry: _Entry) -> None:
        entry.consumed = True
        if entry.data is not None:
            self._in_memory -= len(entry.data)
            entry.data = None
        if entry.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
            entry.path = None

    def drop_job(self, job_id: str) -> None:
        """Forget everything of a job (called when the job ends here)."""
        for key in [k for k in self._entries if k.job_id == job_id]:
            self._consume(self._entries.pop(key))
        shutil.rmtree(self._spool / job_id, ignore_errors=True)
