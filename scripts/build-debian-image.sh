#!/usr/bin/env bash
# A real Debian image for the SBOM tests: a bookworm minbase root filesystem made by mmdebstrap from
# Debian's packages (layer 1) and a venv with pip-installed wheels (layer 2), as an OCI layout.
# Usage: build-debian-image.sh DIR. Leaves DIR/rootfs (without the venv), DIR/venv and
# DIR/layout (tag "debian"); does nothing if DIR/layout exists. Needs root, mmdebstrap and umoci.
set -euo pipefail
dir=$1
[ -e "$dir/layout" ] && exit 0
mkdir -p "$(dirname "$dir")"
work=$(mktemp -d "$dir.XXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wheels"
"${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: -d "$work/wheels" six==1.16.0 idna==3.7
mmdebstrap --quiet --mode=root --variant=minbase --include=python3,python3-venv \
  bookworm "$work/rootfs" http://deb.debian.org/debian
cp "$work"/wheels/*.whl "$work/rootfs/tmp/"
chroot "$work/rootfs" python3 -m venv /opt/venv
chroot "$work/rootfs" sh -c '/opt/venv/bin/pip install -q --no-index --no-deps /tmp/*.whl && rm /tmp/*.whl'
mv "$work/rootfs/opt/venv" "$work/venv"
# Unpack and repack (umoci 0.4.7's `insert` into a subdirectory writes a truncated tar).
umoci init --layout "$work/layout"
umoci new --image "$work/layout:debian"
umoci unpack --image "$work/layout:debian" "$work/bundle"
cp -a "$work/rootfs/." "$work/bundle/rootfs/"
umoci repack --refresh-bundle --image "$work/layout:debian" "$work/bundle"
cp -a "$work/venv" "$work/bundle/rootfs/opt/venv"
umoci repack --refresh-bundle --image "$work/layout:debian" "$work/bundle"
rm -rf "$work/bundle"
mv "$work" "$dir"
trap - EXIT
