#!/usr/bin/env bash
# System tools the tests use to build and serve real images: umoci, skopeo, the Docker
# distribution registry, htpasswd (for its Basic auth), pigz (for the benchmark baseline),
# Chromium (the HTML report is tested in it, driven by Playwright), mmdebstrap and rpm (rpmbuild)
# for the real test images and the SBOM tests' package databases, and buildah (a second client
# that builds and pushes to the sandbox's registry).
# Tests that need them are marked `tools` and are skipped, with the reason, where they are missing.
set -euo pipefail
missing=()
for pair in umoci:umoci skopeo:skopeo docker-registry:docker-registry htpasswd:apache2-utils pigz:pigz \
  chromium:chromium mmdebstrap:mmdebstrap rpmbuild:rpm buildah:buildah; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
"$(dirname "$0")/fetch-go-tar-corpus.sh"  # Go's archive/tar corpus: the tar reader's reference
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "not installing ${missing[*]} (needs root): the tests marked \`tools\` will be skipped;" \
    "as root: apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "installing with apt-get: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
