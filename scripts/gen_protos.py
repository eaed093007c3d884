"""Regenerate the committed Python code from protos/: python, grpc and typed stubs (mypy-protobuf).

Usage: python scripts/gen_protos.py [--out DIR]
With --out, writes into DIR instead of the source tree (used by the staleness test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def plugins() -> list[str]:
    """mypy-protobuf's protoc plugins, found next to this interpreter (a venv need not be on PATH)."""
    found = []
    for name in ("protoc-gen-mypy", "protoc-gen-mypy_grpc"):
        script = Path(sys.executable).parent / name
        if not script.exists():
            raise SystemExit(
                f"{name} not found next to {sys.executable}: install the dev extra (mypy-protobuf)"
            )
        found.append(f"--plugin={name}={script}")
    return found


def generate(out_dir: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).resolve().parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        *plugins(),
        f"--python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        # Typed stubs of the service stubs and servicer bases, so servicers are checked against them.
        f"--mypy_grpc_out={out_dir}",
        *[str(p.relative_to(PROTO_ROOT)) for p in proto_files()],
    ]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    package_root = out_dir / "fate_grpc"
    for proto in proto_files():
        # Each generated package (fate_grpc/<api>/ and fate_grpc/<api>/v1/) needs an __init__.py.
        version_dir = out_dir / proto.parent.relative_to(PROTO_ROOT)
        for package_dir in (version_dir.parent, version_dir):
            init = package_dir / "__init__.py"
            if package_dir != package_root and not init.exists():
                init.write_text("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
