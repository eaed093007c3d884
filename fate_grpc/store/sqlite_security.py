"""Client tokens and partner grants of the SQLite store (mixed into SqliteStore)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from fate_grpc.errors import already_exists
from fate_grpc.store.records import GrantRecord, TokenRecord


class SqliteSecurityTables:
    """Needs `_tx`, `_fetchall` and `_clock` from SqliteStore."""

    _clock: Callable[[], int]
    _tx: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]
    _fetchall: Callable[..., Any]

    async def count_unfinished_jobs(self, party_id: str) -> int:
        rows = await self._fetchall(
            "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('waiting', 'running')"
            " AND (initiator_party_id = ? OR scheduler_party_id = ?)",
            (party_id, party_id),
        )
        return int(rows[0]["n"])

    async def put_token(self, token: TokenRecord) -> None:
        async with self._tx() as db:
            try:
                await db.execute(
                    "INSERT INTO client_tokens (token_hash, name, is_admin, create_time_ms, expire_time_ms)"
                    " VALUES (?,?,?,?,?)",
                    (
                        token.token_hash,
                        token.name,
                        int(token.is_admin),
                        token.create_time_ms or self._clock(),
                        token.expire_time_ms,
                    ),
                )
            except sqlite3.IntegrityError:
                raise already_exists(f"a token named {token.name} already exists", name=token.name) from None

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        rows = await self._fetchall("SELECT * FROM client_tokens WHERE token_hash = ?", (token_hash,))
        return _token(rows[0]) if rows else None

    async def list_tokens(self) -> list[TokenRecord]:
        return [_token(r) for r in await self._fetchall("SELECT * FROM client_tokens ORDER BY name")]

    async def delete_token(self, name: str) -> bool:
        async with self._tx() as db:
            cursor = await db.execute("DELETE FROM client_tokens WHERE name = ?", (name,))
            return cursor.rowcount > 0

    async def add_grants(self, grants: Sequence[GrantRecord]) -> None:
        now = self._clock()
        async with self._tx() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO grants (party_id, kind, value, create_time_ms) VALUES (?,?,?,?)",
                [(g.party_id, g.kind, g.value, g.create_time_ms or now) for g in grants],
            )

    async def remove_grants(self, party_id: str, kind: str | None = None, value: str | None = None) -> int:
        sql, params = "DELETE FROM grants WHERE party_id = ?", [party_id]
        for column, wanted in (("kind", kind), ("value", value)):
            if wanted is not None:
                sql += f" AND {column} = ?"
                params.append(wanted)
        async with self._tx() as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    async def list_grants(self, party_id: str | None = None) -> list[GrantRecord]:
        if party_id is None:
            rows = await self._fetchall("SELECT * FROM grants ORDER BY party_id, kind, value")
        else:
            rows = await self._fetchall(
                "SELECT * FROM grants WHERE party_id = ? ORDER BY kind, value", (party_id,)
            )
        return [GrantRecord(r["party_id"], r["kind"], r["value"], r["create_time_ms"]) for r in rows]


def _token(row: sqlite3.Row) -> TokenRecord:
    return TokenRecord(
        token_hash=row["token_hash"],
        name=row["name"],
        is_admin=bool(row["is_admin"]),
        create_time_ms=row["create_time_ms"],
        expire_time_ms=row["expire_time_ms"],
    )
