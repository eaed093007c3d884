"""The outbox of the SQLite store: messages to other parties kept until acknowledged (mixed into
SqliteStore)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from fate_grpc.errors import already_exists
from fate_grpc.store.records import OutboxMessage


class SqliteOutbox:
    """Needs `_tx`, `_fetchall` and `_clock` from SqliteStore."""

    _clock: Callable[[], int]
    _tx: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]
    _fetchall: Callable[..., Any]

    async def add_outbox_messages(self, messages: Sequence[OutboxMessage]) -> None:
        async with self._tx() as db:
            await self._insert_outbox(db, messages)

    async def _insert_outbox(self, db: aiosqlite.Connection, messages: Sequence[OutboxMessage]) -> None:
        """Insert messages inside the caller's transaction (so they commit with its state change)."""
        if not messages:
            return
        now = self._clock()
        try:
            await db.executemany(
                "INSERT INTO outbox (message_id, party_id, job_id, rpc, payload, attempts, next_attempt_ms,"
                " last_error, create_time_ms) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        m.message_id,
                        m.party_id,
                        m.job_id,
                        m.rpc,
                        m.payload,
                        m.attempts,
                        m.next_attempt_ms,
                        m.last_error,
                        m.create_time_ms or now,
                    )
                    for m in messages
                ],
            )
        except sqlite3.IntegrityError:
            raise already_exists("an outbox message with that id is already stored") from None

    async def list_outbox(self, *, party_id: str | None = None, limit: int = 1000) -> list[OutboxMessage]:
        where, params = ("WHERE party_id = ?", [party_id]) if party_id is not None else ("", [])
        rows = await self._fetchall(f"SELECT * FROM outbox {where} ORDER BY seq LIMIT ?", [*params, limit])
        return [_message(r) for r in rows]

    async def list_outbox_heads(self) -> list[OutboxMessage]:
        rows = await self._fetchall(
            "SELECT * FROM outbox WHERE seq IN (SELECT MIN(seq) FROM outbox GROUP BY party_id) ORDER BY seq"
        )
        return [_message(r) for r in rows]

    async def ack_outbox_message(self, message_id: str) -> bool:
        async with self._tx() as db:
            cursor = await db.execute("DELETE FROM outbox WHERE message_id = ?", (message_id,))
            return cursor.rowcount > 0

    async def drop_outbox_messages(self, job_id: str, rpcs: Iterable[str]) -> int:
        names = list(rpcs)
        if not names:
            return 0
        async with self._tx() as db:
            cursor = await db.execute(
                f"DELETE FROM outbox WHERE job_id = ? AND rpc IN ({','.join('?' * len(names))})",
                (job_id, *names),
            )
            return cursor.rowcount

    async def defer_outbox_message(self, message_id: str, *, next_attempt_ms: int, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?"
                " WHERE message_id = ?",
                (next_attempt_ms, error[:2000], message_id),
            )


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        message_id=row["message_id"],
        party_id=row["party_id"],
        job_id=row["job_id"],
        rpc=row["rpc"],
        payload=bytes(row["payload"]),
        attempts=row["attempts"],
        next_attempt_ms=row["next_attempt_ms"],
        last_error=row["last_error"],
        create_time_ms=row["create_time_ms"],
        seq=row["seq"],
    )
