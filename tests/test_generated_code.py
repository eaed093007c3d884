"""The committed generated code (messages, grpc stubs and their mypy-protobuf .pyi) must equal what
scripts/gen_protos.py produces from protos/."""

from __future__ import annotations

import filecmp
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("grpc_tools") is None or importlib.util.find_spec("mypy_protobuf") is None,
    reason="grpcio-tools or mypy-protobuf (dev extra) missing",
)
def test_generated_code_is_fresh(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out", str(tmp_path)], check=True
    )
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*.py*"))
    assert generated, "the generator produced nothing"
    committed = sorted(p.relative_to(ROOT) for p in (ROOT / "fate_grpc").rglob("*_pb2*.py*"))
    assert generated == committed, "generated files differ from the committed set"
    # Typed stubs of messages and of services (stubs and servicer bases) are part of that set.
    stubs = {p.name for p in generated if p.suffix == ".pyi"}
    assert {"client_pb2.pyi", "client_pb2_grpc.pyi", "control_pb2_grpc.pyi"} <= stubs
    stale = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, ROOT / p, shallow=False)]
    assert not stale, f"stale generated code (run python scripts/gen_protos.py): {stale}"


def test_every_proto_package_matches_its_path() -> None:
    for proto in (ROOT / "protos").rglob("*.proto"):
        relative = proto.parent.relative_to(ROOT / "protos")
        package = next(
            line.split()[1].rstrip(";")
            for line in proto.read_text().splitlines()
            if line.startswith("package ")
        )
        assert package == ".".join(relative.parts), proto
