"""The HTTP API's pure pieces: parameters, paging, FATE's download layout and line format."""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.httpapi import flow_http_app
from fate_grpc.httpapi.answers import Params
from fate_grpc.httpapi.files import fate_csv_lines
from fate_grpc.httpapi.models import server_directory
from fate_grpc.httpapi.outputs import fate_data_layout
from fate_grpc.httpapi.paging import page_of

ROWS = [{"job_id": f"j{i}", "create_time": 100 + i} for i in range(5)]


def test_pages_are_fates_count_and_data_newest_first() -> None:
    assert page_of(ROWS, Params({})) == {"count": 5, "data": sorted(ROWS, key=lambda r: -r["create_time"])}
    second = page_of(ROWS, Params({"limit": "2", "page": "2"}))
    assert second == {"count": 5, "data": [ROWS[2], ROWS[1]]}
    oldest = page_of(ROWS, Params({"limit": "1", "order": "asc", "order_by": "job_id"}))
    assert oldest["data"] == [ROWS[0]]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"limit": "x"}, "limit"),
        ({"page": "0"}, "page"),
        ({"order": "up"}, "order"),
        ({"order_by": "colour"}, "order_by"),
    ],
)
def test_bad_paging_is_refused_by_field(values: dict[str, str], field: str) -> None:
    with pytest.raises(FateGrpcError) as refused:
        page_of(ROWS, Params(values))
    assert refused.value.fields.get("field_path") == field or field in refused.value.message


def test_params_read_fate_clients_value_forms() -> None:
    params = Params({"head": "True", "meta": '{"delimiter": ","}', "partitions": 4, "display": "false"})
    assert params.boolean("head") is True and params.boolean("display") is False
    assert params.mapping("meta") == {"delimiter": ","}
    assert params.integer("partitions") == 4
    with pytest.raises(FateGrpcError, match="job_id is required"):
        params.text("job_id", required=True)
    with pytest.raises(FateGrpcError, match="meta must be a JSON object"):
        Params({"meta": "[1]"}).mapping("meta")


def test_output_files_take_fates_layout() -> None:
    assert fate_data_layout(PurePosixPath("train_output_data.csv")) == PurePosixPath(
        "train_output_data/0.csv"
    )
    assert fate_data_layout(PurePosixPath("train_output_data.meta.json")) == PurePosixPath(
        "train_output_data/0.meta"
    )


def test_lines_are_written_as_fate_writes_a_table(tmp_path: Path) -> None:
    stored = tmp_path / "0.csv"
    with stored.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [["id", "predict_detail", "type"], ["7", "\"{'0': 0.25, '1': 0.75}\"", "train_set"]]
        )
    fate_csv_lines(stored)
    assert stored.read_text().splitlines() == [
        "id,predict_detail,type",
        "7,\"{'0': 0.25, '1': 0.75}\",train_set",
    ]


def test_exports_stay_inside_server_data_dirs(tmp_path: Path) -> None:
    allowed = (tmp_path / "served").resolve()
    assert server_directory(str(allowed / "models"), (allowed,), "model export") == allowed / "models"
    for outside in (str(tmp_path / "elsewhere"), str(allowed / ".." / "elsewhere"), "relative/dir"):
        with pytest.raises(FateGrpcError):
            server_directory(outside, (allowed,), "model export")
    with pytest.raises(FateGrpcError, match="sets no server_data_dirs"):
        server_directory(str(allowed), (), "model export")


async def test_endpoints_not_served_answer_in_fates_shape() -> None:
    root = web.Application()
    root.add_subapp("/v2", flow_http_app(object(), store=None, party_id="9999", signing_key=b"k"))  # type: ignore[arg-type]
    async with TestClient(TestServer(root)) as client:
        for method, path in (("GET", "/v2/server/query/all"), ("GET", "/v2/job/submit")):
            response = await client.request(method, path)
            assert response.headers["Content-Type"] == "application/json"
            answer = await response.json()
            assert answer["code"] == int(ErrorCode.NOT_FOUND) and path in answer["message"], answer
