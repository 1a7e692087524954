#!/usr/bin/env bash
# Builds the mediasoup worker from the npm package's own C++ sources against Debian's -dev libraries
# (see shims/README.md for why no download happens). Usage: build-worker.sh <mediasoup-version> <out-binary>
set -euo pipefail

version="$1"
out="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/plenum-worker-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log() { printf '[setup:worker] %s\n' "$*"; }

log "fetching mediasoup@${version} sources from the npm registry"
(cd "$work" && npm pack --silent "mediasoup@${version}" >/dev/null)
tar -xzf "$work/mediasoup-${version}.tgz" -C "$work"
src="$work/package/worker"

# Each wrap's shim goes where meson looks for that wrap's unpacked sources.
for wrap in "$src"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  [ "$name" = wingetopt ] && continue # Windows only
  dir="$(sed -n 's/^directory *= *//p' "$wrap")"
  [ -d "$here/shims/$name" ] || { log "no shim for wrap '$name' (mediasoup version changed?)"; exit 1; }
  cp -r "$here/shims/$name" "$src/subprojects/$dir"
done

log "meson setup"
meson setup --buildtype release -Db_ndebug=true --wrap-mode=nodownload "$work/build" "$src" >"$work/meson.log" 2>&1 \
  || { cat "$work/meson.log"; log "meson setup failed"; exit 1; }

jobs="$(nproc)"
log "compiling with ninja on ${jobs} cores (about 4 minutes on 2 cores); progress every 10%"
start=$SECONDS
# ninja prints "[done/total] ..." per step; show one line per 10 % so CI logs stay readable.
# (A bash loop, not awk: mawk reads its input in large blocks and would print nothing until the end.)
next_pct=0
while IFS= read -r line; do
  printf '%s\n' "$line" >>"$work/ninja.log"
  if [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]]; then
    pct=$((100 * BASH_REMATCH[1] / BASH_REMATCH[2]))
    if [ "$pct" -ge "$next_pct" ]; then
      log "$(printf '%3d%% (%s/%s) after %d s' "$pct" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" $((SECONDS - start)))"
      next_pct=$((pct - pct % 10 + 10))
    fi
  fi
done < <(ninja -C "$work/build" -j "$jobs" mediasoup-worker 2>&1 || true)
[ -x "$work/build/mediasoup-worker" ] || { tail -n 40 "$work/ninja.log"; log "compilation failed"; exit 1; }

if ldd "$work/build/mediasoup-worker" | grep -q 'not found'; then
  ldd "$work/build/mediasoup-worker"; log "the built worker misses shared libraries"; exit 1
fi
strip "$work/build/mediasoup-worker" 2>/dev/null || true
mkdir -p "$(dirname "$out")"
cp "$work/build/mediasoup-worker" "$out.tmp" && mv "$out.tmp" "$out"
log "built in $((SECONDS - start)) s: $out"
