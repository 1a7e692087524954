#!/usr/bin/env bash
# Tries the README's two commands as a new user would, in a brand-new Debian bookworm root that has only
# what a new machine has: root, deb822 apt sources (no /etc/apt/sources.list), Node 20 with npm (this
# host's, copied in), python3, make, g++, git, ca-certificates. Built with mmdebstrap (Debian package).
#
#   scripts/try-fresh-root.sh [--keep] [--ref <git ref>] [--worktree-scripts]
#
# Clones the committed <ref> (default HEAD) of this repository into the root and runs, as root in a chroot,
# the two commands of the clone's README ("## Two commands"; npm start / npm test if it has none):
#   1. npm run setup && npm start   (setup cold; start, wait for /healthz 200, SIGTERM, check it exits)
#   2. npm run setup && npm test    (setup warm)
# and prints the timings as JSON at the end. Runs in its own mount namespace, and unmounts and removes the
# root on exit, also on failure (--keep keeps the root). --worktree-scripts copies this working tree's
# scripts/ over the clone (to try a setup fix before it is committed). Needs root on a Debian host.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
args=("$@")
keep=0
ref=HEAD
worktree_scripts=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --worktree-scripts) worktree_scripts=1 ;;
    --ref) [ $# -ge 2 ] || { echo "--ref needs a git ref" >&2; exit 2; }; ref="$2"; shift ;;
    *) echo "usage: $0 [--keep] [--ref <git ref>] [--worktree-scripts]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[fresh-root %s] %s\n' "$(date +%T)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }
trap 'rc=$?; log "ERROR: failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2; exit $rc' ERR

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, mount, chroot)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap"

# Mounts made in a private mount namespace never show up on the host, and vanish with this process
# even if it is killed; the EXIT trap still unmounts them in order.
if [ -z "${PLENUM_FRESH_ROOT_NS:-}" ]; then
  exec unshare --mount --propagation private env PLENUM_FRESH_ROOT_NS=1 bash "${BASH_SOURCE[0]}" "${args[@]}"
fi

sha="$(git -C "$repo" rev-parse --verify "${ref}^{commit}")" || die "unknown git ref: $ref"
rootfs="$(mktemp -d "${TMPDIR:-/var/tmp}/plenum-fresh-root.XXXXXX")"
rmdir "$rootfs" # mmdebstrap wants to create it
mounted=()

declare -A took=() status=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

timings_json() {
  local k out="" sep=""
  for k in build_root setup_cold start_to_healthy stop setup_warm npm_test; do
    out+="$sep\"${k}_s\": ${took[$k]:-null}"
    sep=", "
  done
  out+=", \"exit\": {"
  sep=""
  for k in setup_cold start_to_healthy stop setup_warm npm_test; do
    out+="$sep\"$k\": ${status[$k]:-null}"
    sep=", "
  done
  printf '{"ref": "%s", %s}}\n' "$sha" "$out"
}

in_root_pids() { # processes started inside the root (their / is the root); only ours
  local p r
  for p in /proc/[0-9]*; do
    r="$(readlink "$p/root" 2>/dev/null)" || continue
    [ "$r" = "$rootfs" ] && printf '%s ' "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local rc=$? pids i m
  trap - ERR
  set +e
  pids="$(in_root_pids)"
  if [ -n "$pids" ]; then
    log "stopping leftover processes in the root: $pids"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 1 20); do [ -z "$(in_root_pids)" ] && break; sleep 0.5; done
    pids="$(in_root_pids)"
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
  fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m="${mounted[$i]}"
    umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"
  done
  if [ "$keep" = 1 ]; then
    log "kept the root at $rootfs"
  elif [ -d "$rootfs" ]; then
    # Never delete through a mount (that would be the host's /dev or /proc).
    if grep -qE " ${rootfs}[/ ]" /proc/self/mountinfo; then
      log "not removing $rootfs: something is still mounted in it"
    else
      rm -rf --one-file-system "$rootfs"
    fi
  fi
  echo "TIMINGS $(timings_json)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- the root ----------------------------------------------------------------------------------
# shellcheck source=lib/apt-sources.sh
. "$here/lib/apt-sources.sh"
mirror="$(apt_mirror_for bookworm)"
mirror="${mirror:-http://deb.debian.org/debian}"
security="$(apt_mirror_for bookworm-security)"
security="${security:-http://deb.debian.org/debian-security}"

log "building a bookworm root with mmdebstrap in $rootfs ($mirror)"
t0="$(now)"
mmdebstrap --variant=minbase --include=ca-certificates,python3,make,g++,git \
  bookworm "$rootfs" "deb $mirror bookworm main" 2>&1 | sed -u 's/^/[mmdebstrap] /'
took[build_root]="$(elapsed "$t0" "$(now)")"

# Debian bookworm's own default layout (and node:20-bookworm-slim's): deb822 only, snapshot URLs in comments.
rm -f "$rootfs/etc/apt/sources.list" "$rootfs"/etc/apt/sources.list.d/*
snapshot="$(date -u +%Y%m%dT000000Z)"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
# http://snapshot.debian.org/archive/debian/$snapshot
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/$snapshot
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
[ -s "$rootfs/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
# A real machine starts redis-server under systemd when apt installs it. A chroot has no init: a daemon
# started by apt would outlive this run and keep the mounts busy, so services are not started here.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"

# Node 20 and npm, copied from this host to the same paths.
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(npm root -g)/npm"
[ -f "$npm_dir/package.json" ] || die "npm's install directory not found ($npm_dir)"
mkdir -p "$rootfs$(dirname "$node_bin")" "$rootfs$(dirname "$npm_dir")"
cp "$node_bin" "$rootfs$node_bin"
cp -a "$npm_dir" "$rootfs$npm_dir"
for tool in node npm npx; do
  link="$(command -v "$tool")" || continue
  [ "$link" = "$node_bin" ] || cp -P "$link" "$rootfs$link"
done
npmrc="$rootfs$(dirname "$(dirname "$node_bin")")/etc/npmrc" # npm's global config: <prefix>/etc/npmrc
mkdir -p "$(dirname "$npmrc")"
: >"$npmrc"
for key in registry cafile proxy https-proxy noproxy strict-ssl; do
  value="$(npm config get "$key" 2>/dev/null || true)"
  case "$value" in ''|null|undefined) continue ;; esac
  [ "$key" = registry ] && [ "$value" = https://registry.npmjs.org/ ] && continue
  [ "$key" = strict-ssl ] && [ "$value" = true ] && continue
  printf '%s=%s\n' "$key" "$value" >>"$npmrc"
done
mount_in_root() { # mount_in_root <target in root> <mount args...>
  local target="$rootfs$1"
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}
mount_in_root /proc -t proc proc
mount_in_root /sys -t sysfs -o ro sysfs
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
mount_in_root /dev/shm -t tmpfs -o mode=1777,nosuid,nodev tmpfs

# This host's network may need its own CAs (an egress proxy) and npm settings to reach the registry.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi
log "node $(chroot "$rootfs" node --version), npm $(chroot "$rootfs" npm --version); npm config: $(tr '\n' ' ' <"$npmrc")"

app=/root/plenum
git clone --quiet --no-hardlinks "$repo" "$rootfs$app"
git -C "$rootfs$app" -c advice.detachedHead=false checkout --quiet --detach "$sha"
log "cloned $repo at $sha into $app"
if [ "$worktree_scripts" = 1 ]; then
  cp -a "$repo/scripts/." "$rootfs$app/scripts/"
  log "scripts/ from the working tree (not committed): $(git -C "$rootfs$app" status --short scripts | tr '\n' ' ')"
fi

# ---- the README's commands -----------------------------------------------------------------------
# "npm run setup && <command>" lines in the README's "## Two commands" section: the run and the test command.
readme_commands() {
  awk '/^## / { inside = ($0 == "## Two commands") } inside && /^npm run setup && / { sub(/^npm run setup && /, ""); print }' \
    "$rootfs$app/README.md" 2>/dev/null || true
}
mapfile -t commands < <(readme_commands)
start_cmd="${commands[0]:-npm start}"
test_cmd="${commands[1]:-npm test}"
log "the README's commands: 'npm run setup && $start_cmd', 'npm run setup && $test_cmd'"
chroot_env=(env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS; do
  if [ -n "${!var:-}" ]; then chroot_env+=("$var=${!var}"); fi
done
in_root() { chroot "$rootfs" "${chroot_env[@]}" bash -c "cd $app && $1"; }

run_step() { # run_step <name> <command in the clone>
  local name="$1" t rc=0
  log "== $name: $2"
  t="$(now)"
  in_root "$2" 2>&1 | sed -u "s/^/[$name] /" || rc=$?
  took[$name]="$(elapsed "$t" "$(now)")"
  status[$name]=$rc
  log "== $name: exit $rc after ${took[$name]} s"
  return "$rc"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_env=""
if ! port_free 3000; then
  # Another server on this shared host holds the README's port: move this one out of the way.
  start_env="PLENUM_PORT=3300 PLENUM_MEDIA_PORT_BASE=43000 PLENUM_MEDIA_RTC_MIN_PORT=43100 PLENUM_MEDIA_RTC_MAX_PORT=43999 "
  port_free 3300 || die "ports 3000 and 3300 are both in use"
  log "port 3000 is in use on this host; the server runs with $start_env"
fi
port="$(printf '%s' "$start_env" | sed -n 's/^PLENUM_PORT=\([0-9]*\).*/\1/p')"
port="${port:-3000}"

failed=0
# 1. npm run setup && <run command>
if run_step setup_cold "npm run setup"; then
  log "== start_to_healthy: $start_cmd, waiting for http://127.0.0.1:$port/healthz"
  t="$(now)"
  setsid chroot "$rootfs" "${chroot_env[@]}" bash -c "cd $app && ${start_env}exec $start_cmd" >"$rootfs/tmp/plenum-start.log" 2>&1 &
  server=$!
  deadline=$((SECONDS + 120))
  code=000
  while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$server" 2>/dev/null; do
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)"
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  if [ "$code" = 200 ]; then
    took[start_to_healthy]="$(elapsed "$t" "$(now)")"
    status[start_to_healthy]=0
    log "== start_to_healthy: /healthz 200 after ${took[start_to_healthy]} s"
  else
    status[start_to_healthy]=1
    failed=1
    log "== start_to_healthy: no 200 from /healthz (last: $code); server output:"
    tail -n 40 "$rootfs/tmp/plenum-start.log" | sed 's/^/[server] /'
  fi
  sed -n '1,15p' "$rootfs/tmp/plenum-start.log" | sed 's/^/[server] /'
  # SIGTERM to the process group (npm and the server under it), as Ctrl-C or a service manager would:
  # npm 11 exits on SIGTERM without passing it on, which would leave the server running.
  t="$(now)"
  # setsid made npm a process group leader; /proc/<pid>/stat: the group is the 3rd field after "(comm) ".
  pgid="$(sed 's/.*) //' "/proc/$server/stat" 2>/dev/null | awk '{ print $3 }' || true)"
  if [ "$pgid" = "$server" ]; then kill -TERM -- "-$server" 2>/dev/null || true; else kill -TERM "$server" 2>/dev/null || true; fi
  deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ] && [ -n "$(in_root_pids)" ]; do sleep 0.25; done
  took[stop]="$(elapsed "$t" "$(now)")"
  rc=0
  if [ -n "$(in_root_pids)" ]; then
    status[stop]=1
    failed=1
    log "== stop: still running 30 s after SIGTERM: $(in_root_pids); killing them"
    # shellcheck disable=SC2046
    kill -KILL "$server" $(in_root_pids) 2>/dev/null || true
    wait "$server" || true
  else
    wait "$server" || rc=$?
    status[stop]=0
    log "== stop: all processes exited after ${took[stop]} s ($start_cmd: exit $rc); last lines:"
    tail -n 5 "$rootfs/tmp/plenum-start.log" | sed 's/^/[server] /'
  fi
else
  failed=1
fi

# 2. npm run setup && <test command> (setup is warm now)
if run_step setup_warm "npm run setup"; then
  run_step npm_test "$test_cmd" || failed=1
else
  failed=1
fi

exit "$failed"
