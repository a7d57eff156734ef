#!/usr/bin/env bash
# Builds vigil's image with podman on a machine that reaches no container registry: the Node 20 base
# image is assembled here (debootstrap from the machine's Debian mirror + this machine's Node 20).
#
#   scripts/build-image.sh [--tag vigil:local]
#
# With a registry at hand, `docker build -t vigil .` needs none of this.
#
# Environment (all optional):
#   VIGIL_IMAGE_TAG        the image's name (default localhost/vigil:local; --tag overrides)
#   VIGIL_PODMAN_ROOT      podman storage (--root) and
#   VIGIL_PODMAN_RUNROOT   its run state (--runroot, and --tmpdir under it); default: podman's own
#   VIGIL_BASE_CACHE       a directory where the base image's rootfs is kept as a tarball, so a
#                          later build (even with fresh podman storage) skips debootstrap
#   DEBIAN_MIRROR          the Debian mirror; default: the first bookworm one apt is configured with
#   CA_BUNDLE              the CA bundle npm trusts during the build (default the machine's,
#                          /etc/ssl/certs/ca-certificates.crt); needed behind a TLS-inspecting proxy
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${VIGIL_IMAGE_TAG:-localhost/vigil:local}
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --tag=*) tag=${1#--tag=}; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
done

say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }

command -v podman >/dev/null || die "podman is not installed (apt-get install podman)"
[ "$(id -u)" = 0 ] || die "run as root: debootstrap and podman's vfs storage with chroot isolation need it"

podman_opts=(--storage-driver=vfs --events-backend=file)
[ -n "${VIGIL_PODMAN_ROOT:-}" ] && podman_opts+=(--root "$VIGIL_PODMAN_ROOT")
# libpod's own run state (locks, events) goes with the run root, so a dedicated storage shares nothing.
[ -n "${VIGIL_PODMAN_RUNROOT:-}" ] && podman_opts+=(--runroot "$VIGIL_PODMAN_RUNROOT" --tmpdir "$VIGIL_PODMAN_RUNROOT/libpod")
pm() { podman "${podman_opts[@]}" "$@"; }

# --- this machine's Node 20: the binary, npm and the headers native modules compile against -------
node_bin=$(readlink -f "$(command -v node)") || die "node is not installed"
node_version=$("$node_bin" -p process.versions.node)
[ "${node_version%%.*}" = 20 ] || die "the image runs Node 20; this machine has Node $node_version"
node_prefix=$(dirname "$(dirname "$node_bin")")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found (looked in $npm_dir)"
headers="$node_prefix/include/node"
[ -f "$headers/node.h" ] || die "Node's headers are not in $headers"

base="localhost/vigil-base:node$node_version-bookworm"

# --- the Debian mirror apt already uses (deb822 .sources or one-line .list) -------------------------
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # One stanza per paragraph: the URI of the first stanza whose suites include plain bookworm.
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
          if ($i ~ /^Enabled:[ \t]*no/) ok = 0
        }
        if (ok && uri != "") { print uri; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++
      if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
  done
}

build_base() {
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  local mirror=${DEBIAN_MIRROR:-$(debian_mirror | head -n 1)}
  [ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list{,.d}; set DEBIAN_MIRROR"
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  say "adding Node $node_version from $node_bin, npm from $npm_dir, headers from $headers"
  local r="$work/rootfs"
  install -D -m 0755 "$node_bin" "$r/usr/bin/node"
  mkdir -p "$r/usr/lib/node_modules" "$r/usr/include"
  cp -a "$npm_dir" "$r/usr/lib/node_modules/npm"
  cp -a "$headers" "$r/usr/include/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
  # What a base image does not need: package lists and caches.
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin "$r/var/cache/apt/archives/"*.deb
  "$r/usr/bin/node" --version >/dev/null || die "the copied node does not run"
  local tarball="$work/rootfs.tar"
  tar --numeric-owner -C "$r" -cf "$tarball" .
  if [ -n "${VIGIL_BASE_CACHE:-}" ]; then
    mkdir -p "$VIGIL_BASE_CACHE"
    mv "$tarball" "$VIGIL_BASE_CACHE/${base##*:}.tar"
    tarball="$VIGIL_BASE_CACHE/${base##*:}.tar"
  fi
  import_base "$tarball"
  rm -rf "$work"
  trap - EXIT
}

import_base() {
  say "importing $1 as $base"
  # The same settings as the node:20-bookworm-slim image the Dockerfile uses by default.
  pm import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'CMD ["node"]' \
    "$1" "$base" >/dev/null
}

if pm image exists "$base"; then
  say "base image $base is present"
elif [ -n "${VIGIL_BASE_CACHE:-}" ] && [ -f "$VIGIL_BASE_CACHE/${base##*:}.tar" ]; then
  import_base "$VIGIL_BASE_CACHE/${base##*:}.tar"
else
  build_base
fi

# --- the image --------------------------------------------------------------------------------------
# The headers and the CA bundle are used by the build stages only: the headers are already in the base
# image (node-gyp would otherwise download them), and the CA bundle goes in as a build secret, which
# no layer keeps. Docker format, because the OCI format has no HEALTHCHECK.
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
build_args=(--build-arg "NODE_IMAGE=$base" --build-arg "NODE_HEADERS_DIR=/usr")
[ -f "$ca_bundle" ] && build_args+=(--secret "id=ca-bundle,src=$ca_bundle")
say "building $tag"
started=$(date +%s)
pm build --isolation=chroot --format docker --jobs 2 "${build_args[@]}" -t "$tag" -f Dockerfile .
size=$(pm image inspect --format '{{.Size}}' "$tag")
say "built $tag in $(( $(date +%s) - started )) s: $(( size / 1000000 )) MB"
