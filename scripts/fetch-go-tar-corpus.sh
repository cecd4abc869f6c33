#!/usr/bin/env bash
# Go's archive/tar test corpus (src/archive/tar/testdata and reader_test.go), the reference our
# tar reader is tested against: from Debian's golang-1.19-src package, fetched with apt (no Go
# toolchain), unpacked outside the repository. The files stay under Go's BSD licence, in the cache.
set -euo pipefail
dest="${GO_TAR_CORPUS:-$HOME/.cache/studio-image/go-archive-tar}"
[ -f "$dest/reader_test.go" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: fetch golang-1.19-src's src/archive/tar into $dest by hand" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download golang-1.19-src >/dev/null 2>&1); then
  [ "$(id -u)" -eq 0 ] && apt-get update -qq
  (cd "$work" && apt-get download golang-1.19-src >/dev/null)
fi
dpkg-deb -x "$work"/golang-1.19-src_*.deb "$work/x"
mkdir -p "$dest"
cp -r "$work"/x/usr/share/go-1.19/src/archive/tar/testdata/. "$dest/"
cp "$work"/x/usr/share/go-1.19/src/archive/tar/reader_test.go "$dest/"
cp "$work"/x/usr/share/doc/golang-1.19-src/copyright "$dest/"
