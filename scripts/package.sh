#!/usr/bin/env bash
# Package a built binary as a release archive for krew:
#   scripts/package.sh BINARY TAG OS ARCH OUTDIR
# Writes OUTDIR/kubectl-kasten_ilb_<TAG>_<OS>_<ARCH>.tar.gz (.zip for windows) holding the
# binary, LICENSE and README.md at the top level, and prints the archive path and its sha256.
set -euo pipefail
bin=$1 tag=$2 os=$3 arch=$4 out=$5
root=$(cd "$(dirname "$0")/.." && pwd)
name="kubectl-kasten_ilb_${tag}_${os}_${arch}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
exe=kubectl-kasten_ilb
[ "$os" = windows ] && exe=kubectl-kasten_ilb.exe
cp "$bin" "$stage/$exe"
chmod 0755 "$stage/$exe"
cp "$root/LICENSE" "$root/README.md" "$stage/"
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ "$os" = windows ]; then
  archive="$out/$name.zip"
  rm -f "$archive"
  (cd "$stage" && zip -q -X "$archive" "$exe" LICENSE README.md)
else
  archive="$out/$name.tar.gz"
  tar -C "$stage" --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00' -czf "$archive" "$exe" LICENSE README.md
fi
sha=$(sha256sum "$archive" | cut -d' ' -f1)
echo "$archive $sha"
