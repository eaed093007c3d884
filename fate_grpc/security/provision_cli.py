"""`fate-grpc provision`: a federation's CA, one cert + key per party id, client-user certs, node confs.

Example (three parties on separate hosts, one admin and one user at the guest, a token port 9380):

    fate-grpc provision --out ~/fate-grpc-federation \\
        --party 9999=10.0.0.1:9360 --party 10000=10.0.0.2:9360 --party 9998=10.0.0.3:9360 \\
        --admin 9999:root --user 9999:alice --user-port 9380

Copy parties/<id>/ to party <id>'s host only (it holds that node's conf, key, certificate and the trust
bundle) and start the node from inside it: fate-grpc node --conf node.yaml. Keep ca/ca.key offline.
Keys are written 0600. The output folder defaults to one outside any checkout, and a folder inside a git
checkout is refused unless git ignores it, so that no key is committed by mistake.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from fate_grpc.security.provision import parse_party, provision, with_users

DEFAULT_OUT = Path("~/fate-grpc-federation")


def tracked_by_git(folder: Path) -> Path | None:
    """The git checkout that would track files written into `folder` (None: none, or it is ignored)."""
    folder = folder.expanduser().resolve()
    checkout = next((p for p in (folder, *folder.parents) if (p / ".git").exists()), None)
    if checkout is None:
        return None
    try:
        ignored = subprocess.run(
            ["git", "-C", str(checkout), "check-ignore", "-q", str(folder / "ca" / "ca.key")],
            capture_output=True,
            check=False,
        )
    except OSError:
        return checkout  # no git to ask: assume the worst
    return None if ignored.returncode == 0 else checkout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fate-grpc provision", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder to write into (default {DEFAULT_OUT})"
    )
    parser.add_argument("--party", action="append", required=True, metavar="ID=HOST:PORT")
    parser.add_argument("--user", action="append", default=[], metavar="ID:NAME", help="a client user")
    parser.add_argument("--admin", action="append", default=[], metavar="ID:NAME", help="an admin user")
    parser.add_argument("--ca-per-party", action="store_true", help="one CA per party instead of one for all")
    parser.add_argument("--days", type=int, default=825, help="validity of node and user certs")
    parser.add_argument("--data-root", default="var", help="data_dir prefix written into the confs")
    parser.add_argument(
        "--user-port",
        type=int,
        metavar="PORT",
        help="serve the user API on this port of each party's host, TLS without client certificates"
        " (users authenticate with tokens); without it users present certificates on the partner port",
    )
    args = parser.parse_args(argv)
    try:
        parties = with_users([parse_party(p) for p in args.party], args.user, args.admin)
    except ValueError as exc:
        parser.error(str(exc))
    out = args.out.expanduser()
    checkout = tracked_by_git(out)
    if checkout is not None:
        parser.error(
            f"--out {out} is inside the git checkout {checkout} and not ignored by git: keys written there"
            " could be committed; choose a folder outside it (the default is ~/fate-grpc-federation)"
        )
    result = provision(
        out,
        parties,
        ca_per_party=args.ca_per_party,
        days=args.days,
        data_root=args.data_root,
        user_port=args.user_port,
    )
    offline = "cas/*/ca.key" if args.ca_per_party else "ca/ca.key"
    print(f"federation written to {result.root} (keep {offline} offline)")
    for party in parties:
        folder = result.party_dir(party.party_id)
        print(f"  party {party.party_id}: copy {folder} to its host and start it there:")
        print("    fate-grpc node --conf node.yaml")
    return 0
