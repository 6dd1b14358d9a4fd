#!/usr/bin/env bash
# Package a built binary as a release archive for krew:
#   scripts/package.sh [--dry-run] BINARY TAG OS ARCH OUTDIR
# Writes OUTDIR/kubectl-kasten_ilb_<TAG>_<OS>_<ARCH>.tar.gz (.zip for windows) holding the
# binary, LICENSE and README.md at the top level (plus, for linux and darwin, the
# kubectl_complete-kasten_ilb helper that kubectl 1.26+ runs to complete the plugin's arguments),
# and prints the archive path and its sha256.
#
# Run it on the OS it packages for (the release workflow does): each runner has its own tools.
#   linux    GNU tar, sha256sum
#   darwin   bsdtar (no --owner/--mtime: --uid/--gid, and file times set with touch), shasum -a 256
#   windows  Git Bash has no zip: 7-Zip (7z, on GitHub's Windows runners), sha256sum (Git Bash)
# --dry-run prints the commands for OS instead of running them (nothing is read or written).
set -euo pipefail
dry=0
if [ "${1:-}" = --dry-run ]; then
  dry=1
  shift
fi
if [ $# -ne 5 ]; then
  echo "usage: scripts/package.sh [--dry-run] BINARY TAG OS ARCH OUTDIR" >&2
  exit 64
fi
bin=$1 tag=$2 os=$3 arch=$4 out=$5
case "$os" in
  linux | darwin | windows) ;;
  *)
    echo "unknown OS \`$os\`: linux, darwin or windows" >&2
    exit 64
    ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
name="kubectl-kasten_ilb_${tag}_${os}_${arch}"
helper=kubectl_complete-kasten_ilb

# Print a command (dry run) or run it.
run() {
  if [ "$dry" = 1 ]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}

if [ "$dry" = 1 ]; then
  stage=STAGE
  case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
else
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
fi
exe=kubectl-kasten_ilb
files=("$exe" LICENSE README.md)
if [ "$os" = windows ]; then
  exe=kubectl-kasten_ilb.exe
  files=("$exe" LICENSE README.md)
else
  files+=("$helper")
fi

run cp "$bin" "$stage/$exe"
run cp "$root/LICENSE" "$root/README.md" "$stage/"
if [ "$os" != windows ]; then
  run cp "$root/scripts/$helper" "$stage/$helper"
  run chmod 0755 "$stage/$exe" "$stage/$helper"
  run chmod 0644 "$stage/LICENSE" "$stage/README.md"
fi
# One fixed time on every file: the same input gives the same archive.
run touch -t 202601010000 "${files[@]/#/$stage/}"

case "$os" in
  linux)
    archive="$out/$name.tar.gz"
    run tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$archive" "${files[@]}"
    sha=(sha256sum "$archive")
    ;;
  darwin)
    archive="$out/$name.tar.gz"
    run tar -C "$stage" --uid 0 --gid 0 --numeric-owner -czf "$archive" "${files[@]}"
    sha=(shasum -a 256 "$archive")
    ;;
  windows)
    archive="$out/$name.zip"
    run rm -f "$archive"
    # 7z takes the names relative to the current directory; -bso0 -bsp0: no progress output.
    if [ "$dry" = 1 ]; then
      echo "cd $stage && 7z a -tzip -bso0 -bsp0 $archive ${files[*]}"
    else
      (cd "$stage" && 7z a -tzip -bso0 -bsp0 "$archive" "${files[@]}")
    fi
    sha=(sha256sum "$archive")
    ;;
esac

if [ "$dry" = 1 ]; then
  run "${sha[@]}"
else
  sum=$("${sha[@]}" | cut -d' ' -f1)
  echo "$archive $sum"
fi
