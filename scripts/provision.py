"""Provision a federation: CA, one cert + key per party id, client-user certs, example node confs.

Example (three parties on separate hosts, one admin and one user at the guest):

    python scripts/provision.py --out federation \
        --party 9999=10.0.0.1:9360 --party 10000=10.0.0.2:9360 --party 9998=10.0.0.3:9360 \
        --admin 9999:root --user 9999:alice

Copy parties/<id>/ (and trust/bundle.crt) to each party's host only; keys are written 0600.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fate_grpc.security.provision import parse_party, provision, with_users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--party", action="append", required=True, metavar="ID=HOST:PORT")
    parser.add_argument("--user", action="append", default=[], metavar="ID:NAME", help="a client user")
    parser.add_argument("--admin", action="append", default=[], metavar="ID:NAME", help="an admin user")
    parser.add_argument("--ca-per-party", action="store_true", help="one CA per party instead of one for all")
    parser.add_argument("--days", type=int, default=825, help="validity of node and user certs")
    parser.add_argument("--data-root", default="var", help="data_dir prefix written into the confs")
    args = parser.parse_args(argv)
    try:
        parties = with_users([parse_party(p) for p in args.party], args.user, args.admin)
    except ValueError as exc:
        parser.error(str(exc))
    result = provision(
        args.out, parties, ca_per_party=args.ca_per_party, days=args.days, data_root=args.data_root
    )
    print(f"federation written to {result.root}")
    for party in parties:
        print(f"  party {party.party_id}: conf {result.conf(party.party_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
