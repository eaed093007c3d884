"""Provision a federation: the same as the installed command `fate-grpc provision` (see its --help)."""

from __future__ import annotations

import sys

from fate_grpc.security.provision_cli import main

if __name__ == "__main__":
    sys.exit(main())
