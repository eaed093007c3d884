"""Metrics, models and tables as FATE's JSON records."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from fate_grpc.common.v1 import common_pb2
from fate_grpc.flow_answers.jobs import epoch_ms
from fate_grpc.wire.convert import python_from_value


def metric_to_json(message: common_pb2.Metric, *, with_data: bool = True) -> dict[str, Any]:
    """FATE's metric record: name, type, groups [{name, index}], step_axis, data [{metric, step, ...}]."""
    record: dict[str, Any] = {
        "name": message.name,
        "type": message.type or None,  # FATE writes null for a metric logged without a type
        "groups": [
            {"name": g.name, "index": g.index if g.HasField("index") else None} for g in message.groups
        ],
        "step_axis": message.step_axis if message.HasField("step_axis") else None,
    }
    if with_data:
        record["data"] = [
            {
                "metric": python_from_value(p.metric),
                "step": p.step if p.HasField("step") else None,
                "timestamp": p.timestamp,
            }
            for p in message.data
        ]
    return record


def model_row(info: common_pb2.ModelInfo) -> dict[str, Any]:
    return {
        "model_id": info.model_id,
        "model_version": info.model_version,
        "role": info.role,
        "party_id": info.party_id,
        "task_name": info.task_name,
        "output_key": info.output_key,
        "job_id": info.job_id,
        "component": info.component,
        "type_name": info.type_name,
        "size": info.size,
        "create_time": info.create_time_ms,
    }


def table_info(info: common_pb2.TableInfo) -> dict[str, Any]:
    return {
        "namespace": info.namespace,
        "name": info.name,
        "count": info.count,
        "header": list(info.header),
        "match_id_name": info.match_id_name,
        "label_name": info.label_name,
        "weight_name": info.weight_name,
        "delimiter": info.delimiter,
        "create_time": epoch_ms(info.create_time_ms),
        "meta": json_format.MessageToDict(info.meta),
    }


def fate_table(info: common_pb2.TableInfo) -> dict[str, Any]:
    """A table as `flow table query` shows it: FATE's keys (meta = FATE's data meta, data_type, engine)
    next to ours (header, match_id_name, label_name, ...)."""
    row = table_info(info)
    stored = python_from_value(struct_pb2.Value(struct_value=info.meta)) if info.meta.fields else {}
    row["meta"] = stored.pop("data_meta", None) or _derived_data_meta(info)
    row["data_type"] = stored.pop("data_type", "dataframe")
    row["engine"] = "file"
    row.update(stored)
    return row


def _derived_data_meta(info: common_pb2.TableInfo) -> dict[str, Any]:
    # Tables written by tasks carry no upload meta: FATE's keys from the column roles.
    meta: dict[str, Any] = {
        "delimiter": info.delimiter,
        "header": info.delimiter.join(info.header),
        "sample_id_name": info.header[0] if info.header else "",
        "match_id_name": info.match_id_name,
    }
    meta.update({k: v for k, v in (("label_name", info.label_name), ("weight_name", info.weight_name)) if v})
    return meta
