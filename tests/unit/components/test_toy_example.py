"""toy_example at a guest and hosts: the index round trip, what each party receives, the outputs."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from fate_grpc.components import toy_example
from fate_grpc.components.base import get_component
from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.domain.dag import parse_dag
from fate_grpc.errors import FateGrpcError
from tests.support.local_context import LocalFederation

GUEST = Party("guest", "9999")
HOST = Party("host", "10000")
HOST_2 = Party("host", "10001")


def run_toy(parties: list[Party], **params: object) -> tuple[LocalFederation, dict[Party, Table]]:
    federation = LocalFederation(parties, common_parameters=params)
    outputs = federation.run(toy_example.run)
    return federation, {party: out["output_data"] for party, out in outputs.items()}


def expected_layout(data_num: int, partition: int) -> list[str]:
    """Plain oracle: sample ids block by block (crc32 modulo partition), ascending inside a block."""
    blocks: dict[int, list[str]] = {b: [] for b in range(partition)}
    for i in range(data_num):
        blocks[zlib.crc32(str(i).encode()) % partition].append(str(i))
    return [sample_id for b in range(partition) for sample_id in blocks[b]]


def test_each_party_receives_the_other_sides_index_once() -> None:
    federation, _ = run_toy([GUEST, HOST], data_num=1024, partition=4)

    layout = expected_layout(1024, 4)
    [to_host] = federation.sent_between(GUEST, HOST)
    [to_guest] = federation.sent_between(HOST, GUEST)
    assert [m.tag for m in federation.sent] == ["guest_index", "host_index"]
    assert to_host.tag == toy_example.TAG_GUEST_INDEX and to_guest.tag == toy_example.TAG_HOST_INDEX
    for message in (to_host, to_guest):
        arrays = decode_arrays(message.payload)
        assert sorted(arrays) == ["block", "offset", "sample_id"]
        assert arrays["sample_id"].tolist() == layout
        blocks = [zlib.crc32(s.encode()) % 4 for s in layout]
        assert arrays["block"].tolist() == blocks
        # Offsets count 0, 1, 2, ... inside each block.
        assert arrays["offset"].tolist() == [blocks[:i].count(b) for i, b in enumerate(blocks)]
    assert set(np.bincount(decode_arrays(to_host.payload)["block"])) != {1024}  # really spread over blocks


def test_both_parties_keep_every_row_in_the_same_order_and_write_their_role() -> None:
    federation, out = run_toy([GUEST, HOST], data_num=100, partition=3)

    for party in (GUEST, HOST):
        frame = out[party].frame
        assert len(frame) == 100
        assert frame["sample_id"].tolist() == expected_layout(100, 3)
        assert frame["match_id"].tolist() == frame["sample_id"].tolist()
        assert frame["x0"].tolist() == [float(s) for s in frame["sample_id"]]
        assert frame["x0"].dtype == np.float64
        assert out[party].schema.header == ("sample_id", "match_id", "x0")
        assert out[party].schema.match_id_name == "match_id"
        model = federation.contexts[party].models["json_model_output"]
        assert model.data == {"test_role": party.role} and model.meta == {}


def test_every_host_gets_the_guest_index_and_the_guest_uses_the_first_hosts() -> None:
    federation, out = run_toy([GUEST, HOST, HOST_2], data_num=10, partition=1)

    assert [m.destination for m in federation.sent_between(GUEST, HOST)] == [HOST]
    assert [m.destination for m in federation.sent_between(GUEST, HOST_2)] == [HOST_2]
    assert all(len(o) == 10 for o in out.values())
    assert out[GUEST].frame["sample_id"].tolist() == [str(i) for i in range(10)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"data_num": 0, "partition": 4}, "data_num"),
        ({"data_num": 10, "partition": -1}, "partition"),
        ({"data_num": True, "partition": 4}, "data_num"),
        ({"data_num": 10}, "partition"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(params: dict[str, object], field: str) -> None:
    with pytest.raises(ComponentError, match=rf"parameters\.{field} must be an integer > 0"):
        run_toy([GUEST, HOST], **params)


def _host_answering_unknown_ids(ctx: ComponentContext) -> None:
    """The guest runs toy_example; the host answers with a sample id the guest does not have."""
    if ctx.role == "guest":
        toy_example.run(ctx)
        return
    ctx.receive(toy_example.TAG_GUEST_INDEX, GUEST)
    bogus = {"sample_id": np.array(["nope"]), "block": np.zeros(1, np.int64), "offset": np.zeros(1, np.int64)}
    ctx.send(toy_example.TAG_HOST_INDEX, GUEST, encode_arrays(bogus))


def test_a_host_index_naming_unknown_rows_fails_the_guest() -> None:
    federation = LocalFederation([GUEST, HOST], common_parameters={"data_num": 5, "partition": 2})
    with pytest.raises(ComponentError, match="not in this table"):
        federation.run(_host_answering_unknown_ids)


def test_the_component_is_registered_with_fates_contract() -> None:
    spec = builtin_catalog()["toy_example"]
    assert get_component("toy_example") is toy_example.run
    assert spec.roles == {"guest", "host"}
    assert [o.key for o in spec.stages["default"].outputs] == ["output_data", "json_model_output"]
    assert {name: p.required for name, p in spec.parameters.items()} == {"data_num": True, "partition": True}


def test_fate_clients_toy_dag_is_accepted_as_submitted() -> None:
    # fate_client 2.2 submits this document (JSON) for `flow test toy -gid 9999 -hid 10000`.
    document = {
        "dag": {
            "parties": [{"party_id": ["9999"], "role": "guest"}, {"party_id": ["10000"], "role": "host"}],
            "stage": "default",
            "tasks": {
                "toy_example_0": {
                    "component_ref": "toy_example",
                    "parameters": {"data_num": 1024, "partition": 4},
                }
            },
        },
        "schema_version": "2.0.0.alpha",
    }
    dag = parse_dag(json.dumps(document), builtin_catalog())
    assert dag.schema_version == "2.0.0.alpha" and list(dag.tasks) == ["toy_example_0"]


def test_a_toy_dag_without_data_num_is_refused_at_parse() -> None:
    document = {
        "dag": {
            "parties": [{"party_id": ["9999"], "role": "guest"}, {"party_id": ["10000"], "role": "host"}],
            "tasks": {"toy_0": {"component_ref": "toy_example", "parameters": {"partition": 4}}},
        },
        "schema_version": "2.0.0.alpha",
    }
    with pytest.raises(FateGrpcError) as caught:
        parse_dag(json.dumps(document), builtin_catalog())
    assert "dag.tasks.toy_0.parameters.data_num" in [v.field for v in caught.value.violations]
