"""Outputs of tasks in the SQLite store: data outputs, metrics and the model warehouse index
(mixed into SqliteStore)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from fate_grpc.store import sqlite_rows as row_map
from fate_grpc.store.records import MetricRecord, ModelRecord, OutputRecord, TableRecord, TaskKey

INSERT_MODEL = (
    "INSERT {verb} INTO models (model_id, model_version, role, party_id, task_name, output_key, job_id,"
    " attempt, component, type_name, path, size, create_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
MODEL_FILTERS = ("model_id", "model_version", "role", "party_id", "task_name", "output_key", "job_id")


def _key(key: TaskKey) -> tuple[str, str, int, str, str]:
    return (key.job_id, key.task_name, key.attempt, key.role, key.party_id)


class SqliteOutputTables:
    """Needs `_tx`, `_fetchall`, `_clock` and `_insert_table` from SqliteStore."""

    _clock: Callable[[], int]
    _tx: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]
    _fetchall: Callable[..., Any]
    _insert_table: Callable[..., Any]

    # -- data outputs ----------------------------------------------------------------------------
    async def put_output(self, output: OutputRecord, table: TableRecord) -> None:
        async with self._tx() as db:
            await self._insert_table(db, table, overwrite=True)
            await self._insert_output(db, output)

    async def _insert_output(self, db: aiosqlite.Connection, output: OutputRecord) -> None:
        await db.execute(
            "INSERT OR REPLACE INTO outputs (job_id, task_name, attempt, role, party_id, output_key,"
            " kind, namespace, name, create_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                *_key(output.key),
                output.output_key,
                output.kind,
                output.namespace,
                output.name,
                output.create_time_ms or self._clock(),
            ),
        )

    async def list_outputs(
        self,
        job_id: str,
        *,
        task_name: str | None = None,
        role: str | None = None,
        party_id: str | None = None,
    ) -> list[OutputRecord]:
        sql, params = _where(
            "SELECT * FROM outputs",
            {"job_id": job_id, "task_name": task_name, "role": role, "party_id": party_id},
        )
        rows = await self._fetchall(sql + " ORDER BY task_name, attempt, role, party_id, output_key", params)
        return [row_map.output_record(r) for r in rows]

    async def delete_table(self, namespace: str, name: str) -> TableRecord | None:
        async with self._tx() as db:
            async with db.execute(
                "SELECT * FROM data_tables WHERE namespace = ? AND name = ?", (namespace, name)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            # A task output that is deleted is no longer an output of its task.
            await db.execute("DELETE FROM outputs WHERE namespace = ? AND name = ?", (namespace, name))
            await db.execute("DELETE FROM data_tables WHERE namespace = ? AND name = ?", (namespace, name))
            return row_map.table_record(row)

    # -- metrics ---------------------------------------------------------------------------------
    async def add_metrics(self, key: TaskKey, metrics: Sequence[MetricRecord]) -> None:
        now = self._clock()
        async with self._tx() as db:
            await db.executemany(
                "INSERT INTO metrics (job_id, task_name, attempt, role, party_id, name, type, groups,"
                " step_axis, data, create_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        *_key(key),
                        m.name,
                        m.type,
                        json.dumps([{"name": g, "index": i} for g, i in m.groups]),
                        m.step_axis,
                        json.dumps(list(m.data), allow_nan=True),
                        now,
                    )
                    for m in metrics
                ],
            )

    async def list_metrics(self, key: TaskKey) -> list[MetricRecord]:
        rows = await self._fetchall(
            "SELECT * FROM metrics WHERE job_id = ? AND task_name = ? AND attempt = ? AND role = ?"
            " AND party_id = ? ORDER BY id",
            _key(key),
        )
        return [_metric_record(r) for r in rows]

    async def delete_metrics(self, job_id: str, task_name: str, role: str, party_id: str) -> int:
        async with self._tx() as db:
            cursor = await db.execute(
                "DELETE FROM metrics WHERE job_id = ? AND task_name = ? AND role = ? AND party_id = ?",
                (job_id, task_name, role, party_id),
            )
            return cursor.rowcount

    # -- models ----------------------------------------------------------------------------------
    async def put_model(self, model: ModelRecord) -> ModelRecord | None:
        async with self._tx() as db:
            async with db.execute(
                "SELECT * FROM models WHERE model_id = ? AND model_version = ? AND role = ? AND party_id = ?"
                " AND task_name = ? AND output_key = ?",
                _model_key(model),
            ) as cursor:
                previous = await cursor.fetchone()
            await db.execute(INSERT_MODEL.format(verb="OR REPLACE"), self._model_row(model))
            return _model_record(previous) if previous is not None else None

    async def put_models_if_absent(self, models: Sequence[ModelRecord]) -> bool:
        async with self._tx() as db:
            for model in models:
                async with db.execute(
                    "SELECT 1 FROM models WHERE model_id = ? AND model_version = ? AND role = ?"
                    " AND party_id = ? AND task_name = ? AND output_key = ?",
                    _model_key(model),
                ) as cursor:
                    if await cursor.fetchone() is not None:
                        return False
            try:
                await db.executemany(INSERT_MODEL.format(verb=""), [self._model_row(m) for m in models])
            except sqlite3.IntegrityError:
                return False
            return True

    def _model_row(self, model: ModelRecord) -> tuple[Any, ...]:
        return (
            *_model_key(model),
            model.job_id,
            model.attempt,
            model.component,
            model.type_name,
            model.path,
            model.size,
            model.create_time_ms or self._clock(),
        )

    async def list_models(self, **filters: str | None) -> list[ModelRecord]:
        sql, params = _where("SELECT * FROM models", _model_filters(filters))
        rows = await self._fetchall(
            sql + " ORDER BY model_id, model_version, role, party_id, task_name, output_key", params
        )
        return [_model_record(r) for r in rows]

    async def delete_models(self, **filters: str | None) -> list[ModelRecord]:
        where = _model_filters(filters)
        if not any(v is not None for v in where.values()):
            raise ValueError("delete_models needs at least one filter")
        async with self._tx() as db:
            sql, params = _where("SELECT * FROM models", where)
            async with db.execute(sql, params) as cursor:
                rows = list(await cursor.fetchall())
            sql, params = _where("DELETE FROM models", where)
            await db.execute(sql, params)
        return [_model_record(r) for r in rows]


def _where(sql: str, filters: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses = [f"{column} = ?" for column, value in filters.items() if value is not None]
    params = [value for value in filters.values() if value is not None]
    return (f"{sql} WHERE {' AND '.join(clauses)}" if clauses else sql), params


def _model_filters(filters: dict[str, str | None]) -> dict[str, str | None]:
    unknown = set(filters) - set(MODEL_FILTERS)
    if unknown:
        raise ValueError(f"unknown model filters: {sorted(unknown)}")
    return {column: filters.get(column) for column in MODEL_FILTERS}


def _model_key(model: ModelRecord) -> tuple[str, str, str, str, str, str]:
    return (
        model.model_id,
        model.model_version,
        model.role,
        model.party_id,
        model.task_name,
        model.output_key,
    )


def _metric_record(row: sqlite3.Row) -> MetricRecord:
    return MetricRecord(
        name=row["name"],
        type=row["type"],
        groups=tuple((g["name"], g["index"]) for g in json.loads(row["groups"])),
        step_axis=row["step_axis"],
        data=tuple(json.loads(row["data"])),
        create_time_ms=row["create_time_ms"],
    )


def _model_record(row: sqlite3.Row) -> ModelRecord:
    return ModelRecord(
        model_id=row["model_id"],
        model_version=row["model_version"],
        role=row["role"],
        party_id=row["party_id"],
        task_name=row["task_name"],
        output_key=row["output_key"],
        job_id=row["job_id"],
        attempt=row["attempt"],
        component=row["component"],
        type_name=row["type_name"],
        path=row["path"],
        size=row["size"],
        create_time_ms=row["create_time_ms"],
    )
