#!/usr/bin/env bash
# The one setup recipe: used by the README's commands, by .ci/run and by the Dockerfile.
# Idempotent: each step checks what is already in place and skips it, so a warm run takes seconds.
#
#   scripts/setup.sh                      everything: system packages (build, runtime, test), worker, npm ci, build
#   scripts/setup.sh --no-test-packages   as above without the test-only packages (chromium, redis-server, postgresql)
#   scripts/setup.sh --runtime-packages   only the system packages the built server needs at run time
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-all}"
case "$mode" in all|--no-test-packages|--runtime-packages) ;; *) echo "usage: $0 [--no-test-packages|--runtime-packages]" >&2; exit 2 ;; esac

step_start=$SECONDS
step="start"
log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# Never a silent exit: any failing command names the step, the line and the command.
on_error() {
  local rc=$? line=$1 cmd=$2 file="${BASH_SOURCE[1]:-scripts/setup.sh}"
  printf '[setup] ERROR: step "%s" failed (exit %s) at %s line %s: %s\n' "$step" "$rc" "${file#"$root"/}" "$line" "$cmd" >&2
  exit "$rc"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR
# shellcheck source=lib/apt-sources.sh
. "$root/scripts/lib/apt-sources.sh"

MEDIASOUP_VERSION="3.12.16"
# The recorders and the dial-in mixers run GStreamer's gst-launch-1.0 (opusparse is in -bad; rtp, ogg,
# matroska, mulaw/alaw in -good); the dial-in prompts are spoken by espeak-ng.
RUNTIME_PACKAGES=(libabsl20220623 libsrtp2-1 libuv1 libusrsctp2 libssl3 ca-certificates
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad espeak-ng)
BUILD_PACKAGES=(build-essential python3 pkg-config ninja-build libabsl-dev libsrtp2-dev libuv1-dev
  nlohmann-json3-dev libssl-dev libusrsctp-dev)
# baresip: a real SIP phone for the dial-in tests; iproute2 and nftables shape links for the bandwidth ones.
TEST_PACKAGES=(redis-server chromium postgresql gstreamer1.0-plugins-base-apps baresip-core iproute2 nftables)

# ---- system packages -------------------------------------------------------------------------------
step="system packages"
[ -r /etc/debian_version ] || die "this recipe needs Debian bookworm (apt); /etc/debian_version is missing"

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || printf '%s ' "$p"
  done
}

meson_ok() {
  # The worker's meson.build needs meson >= 1.1; bookworm has 1.0.1, bookworm-backports has newer.
  command -v meson >/dev/null 2>&1 || return 1
  [ "$(printf '1.1.0\n%s\n' "$(meson --version)" | sort -V | head -1)" = 1.1.0 ]
}

apt_updated=0
apt_install() { # apt_install [-t suite] pkg...
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: $* — run this script as root (it uses apt-get), or install them yourself: apt-get install $*"
  fi
  command -v apt-get >/dev/null || die "apt-get not found; install by hand: $*"
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -q >/tmp/plenum-apt.log 2>&1 || { cat /tmp/plenum-apt.log >&2; die "apt-get update failed (output above)"; }
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/tmp/plenum-apt.log 2>&1 \
    || { tail -n 30 /tmp/plenum-apt.log >&2; die "apt-get install $* failed (last lines above)"; }
}

ensure_backports_source() {
  if ! apt_has_suite bookworm-backports; then
    [ "$(id -u)" -eq 0 ] || die "meson >= 1.1 is needed (bookworm-backports); run as root to add that apt source"
    local mirror
    # The mirror that already serves bookworm (deb822 URIs: field or a one-line entry), else Debian's CDN.
    mirror="$(apt_mirror_for bookworm)"
    mirror="${mirror:-http://deb.debian.org/debian}"
    log "adding the bookworm-backports apt source ($mirror) for meson"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" >/etc/apt/sources.list.d/plenum-backports.sources
    apt_updated=0
  fi
}

wanted=("${RUNTIME_PACKAGES[@]}")
[ "$mode" = --runtime-packages ] || wanted+=("${BUILD_PACKAGES[@]}")
[ "$mode" = all ] && wanted+=("${TEST_PACKAGES[@]}")
missing="$(missing_packages "${wanted[@]}")"
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing
if [ "$mode" != --runtime-packages ] && ! meson_ok; then
  ensure_backports_source
  apt_install -t bookworm-backports meson
  meson_ok || die "meson >= 1.1 could not be installed"
fi
# The PostgreSQL tests start their own servers from Debian's binaries (test/helpers/postgres-process.ts).
if [ "$mode" = all ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  die "postgresql is installed but /usr/lib/postgresql/<version>/bin/initdb is missing"
fi
log "system packages ready ($((SECONDS - step_start)) s)"
[ "$mode" = --runtime-packages ] && exit 0

# ---- mediasoup worker, cached by version --------------------------------------------------------
step="mediasoup worker"
cache_dir="${PLENUM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plenum}"
worker_bin="$cache_dir/mediasoup-worker-${MEDIASOUP_VERSION}-$(uname -m)-debian$(cut -d. -f1 /etc/debian_version)/mediasoup-worker"
if [ ! -x "$worker_bin" ]; then
  log "no cached mediasoup ${MEDIASOUP_VERSION} worker; building it (a one-time step)"
  bash "$root/media/worker-build/build-worker.sh" "$MEDIASOUP_VERSION" "$worker_bin"
else
  log "mediasoup worker: cached at $worker_bin"
fi

# ---- npm dependencies --------------------------------------------------------------------------
step="npm dependencies"
stamp="node_modules/.plenum-install-stamp"
want_stamp="$(cat package-lock.json "$root/scripts/setup.sh" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  log "npm ci"
  # With MEDIASOUP_WORKER_BIN set, mediasoup's postinstall neither downloads nor builds a worker.
  MEDIASOUP_WORKER_BIN="$worker_bin" npm ci --no-audit --no-fund --loglevel=error
  echo "$want_stamp" >"$stamp"
else
  log "node_modules up to date"
fi
# mediasoup looks for its worker here when MEDIASOUP_WORKER_BIN is unset at run time.
default_worker="node_modules/mediasoup/worker/out/Release/mediasoup-worker"
if ! cmp -s "$worker_bin" "$default_worker"; then
  mkdir -p "$(dirname "$default_worker")" && cp "$worker_bin" "$default_worker"
fi

# ---- compile and bundle ------------------------------------------------------------------------
step="compile and bundle"
log "compiling TypeScript and bundling the SDK"
npm run --silent build
log "ready in $((SECONDS - step_start)) s"
