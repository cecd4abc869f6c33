#!/usr/bin/env bash
# System tools the tests use to build and serve real images: umoci, skopeo, the Docker
# distribution registry, htpasswd (for its Basic auth), pigz (for the benchmark baseline).
set -euo pipefail
missing=()
for pair in umoci:umoci skopeo:skopeo docker-registry:docker-registry htpasswd:apache2-utils pigz:pigz; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
"$(dirname "$0")/fetch-go-tar-corpus.sh"  # Go's archive/tar corpus: the tar reader's reference
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install these packages first: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
