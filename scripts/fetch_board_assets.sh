#!/usr/bin/env bash
# Re-fetch the board's third-party browser files from npm into fate_grpc/board/static/vendor/.
# The board ships these files inside the package (machines may be offline; no CDN at run time);
# run this only to update them, then commit the result. Versions come from vendor/manifest.json
# unless given: scripts/fetch_board_assets.sh [ECHARTS_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=fate_grpc/board/static/vendor
manifest="$vendor/manifest.json"
current() { python3 -c "import json,sys; print(json.load(open('$manifest'))['packages'][sys.argv[1]]['version'])" "$1"; }
echarts_version="${1:-$(current echarts)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack NAME VERSION -> prints the unpacked package directory
  local name="$1" version="$2" tarball
  tarball="$(cd "$work" && npm pack --silent "$name@$version")"
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name"
  echo "$work/$name/package"
}

echarts_dir="$(unpack echarts "$echarts_version")"
# echarts.min.js bundles zrender: its licence travels with it, at the version echarts pins.
zrender_version="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['dependencies']['zrender'])" "$echarts_dir/package.json")"
zrender_dir="$(unpack zrender "$zrender_version")"

mkdir -p "$vendor"
cp "$echarts_dir/dist/echarts.min.js" "$vendor/echarts.min.js"
cp "$echarts_dir/LICENSE" "$vendor/echarts.LICENSE"
cp "$echarts_dir/NOTICE" "$vendor/echarts.NOTICE"
cp "$echarts_dir/licenses/LICENSE-d3" "$vendor/echarts.LICENSE-d3"
cp "$zrender_dir/LICENSE" "$vendor/zrender.LICENSE"

python3 - "$manifest" "$echarts_version" "$zrender_version" "$vendor/echarts.min.js" <<'PY'
import hashlib
import json
import sys

manifest, echarts, zrender, bundle = sys.argv[1:]
digest = hashlib.sha256(open(bundle, "rb").read()).hexdigest()
document = {
    "about": "Third-party browser files shipped with the board; re-fetch with scripts/fetch_board_assets.sh",
    "packages": {
        "echarts": {
            "version": echarts,
            "source": f"https://registry.npmjs.org/echarts/-/echarts-{echarts}.tgz",
            "license": "Apache-2.0",
            "files": {
                "echarts.min.js": {"from": "dist/echarts.min.js", "sha256": digest},
                "echarts.LICENSE": {"from": "LICENSE"},
                "echarts.NOTICE": {"from": "NOTICE"},
                "echarts.LICENSE-d3": {"from": "licenses/LICENSE-d3"},
            },
        },
        "zrender": {
            "version": zrender,
            "source": f"https://registry.npmjs.org/zrender/-/zrender-{zrender}.tgz",
            "license": "BSD-3-Clause",
            "note": "bundled inside echarts.min.js; only its licence is copied",
            "files": {"zrender.LICENSE": {"from": "LICENSE"}},
        },
    },
}
with open(manifest, "w", encoding="utf-8") as handle:
    json.dump(document, handle, indent=2)
    handle.write("\n")
PY
echo "board assets: echarts $echarts_version (zrender $zrender_version) in $vendor"
