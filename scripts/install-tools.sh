#!/usr/bin/env bash
# System tools the tests use to build and serve real images: umoci, skopeo, the Docker
# distribution registry, htpasswd (for its Basic auth), pigz (for the benchmark baseline), buildah
# (a second client that builds and pushes to the sandbox's registry).
set -euo pipefail
missing=()
for pair in umoci:umoci skopeo:skopeo docker-registry:docker-registry htpasswd:apache2-utils pigz:pigz buildah:buildah; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install these packages first: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
