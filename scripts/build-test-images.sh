#!/usr/bin/env bash
# Test images made the way users make them, from real packages by real tools: a Debian bookworm root
# filesystem by mmdebstrap from Debian's packages, pip installs from PyPI inside it (chroot), and the
# layers written by umoci. One OCI layout holds them all, tagged by case; each case is the shared
# base plus what its own steps wrote (umoci insert), so a build takes a few minutes.
# Cached outside the repository under the hash of this file (what goes in): `--print-dir` prints
# where (DIR/layout: the images; DIR/sbom: the base's dpkg database and the venv-wheel case's venv, as
# the package managers left them), and a finished build is not redone. Needs root (mmdebstrap,
# chroot), umoci and network (Debian's mirror, PyPI, npm).
set -euo pipefail

SCRIPT="$(readlink -f "$0")"
KEY="$(sha256sum "$SCRIPT" | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/studio-image-test-images"
OUT="$CACHE/$KEY"
if [ "${1:-}" = "--print-dir" ]; then echo "$OUT"; exit 0; fi
[ -f "$OUT/complete" ] && exit 0

MIRROR=http://deb.debian.org/debian  # Debian's default mirror, as this machine's apt uses
PACKAGES=python3-ipykernel,python3-venv,python3-pip,passwd
PATH_DEFAULT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME_DIR=/home/sagemaker-user

WORK="$(mktemp -d "${TMPDIR:-/tmp}/studio-test-images.XXXXXX")"
LAYOUT="$WORK/layout"
ROOT="$WORK/bundle/rootfs"
cleanup() {
  if mountpoint -q "$ROOT/proc"; then umount "$ROOT/proc"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# pip in the chroot trusts what the host's pip trusts (a CI network may re-sign TLS with its own CA)
HOST_CA="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
CHROOT_ENV=(PATH="$PATH_DEFAULT" PIP_CACHE_DIR=/var/cache/pip PIP_CERT=/etc/ssl/host-ca.pem)
in_root() { chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" HOME=/root "$@"; }
as_user() { chroot --userspec=1000:100 "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" HOME="$HOME_DIR" "$@"; }
pip_quiet() { "$@" --quiet --disable-pip-version-check --no-warn-script-location; }

# tag FROM NEW [umoci config options...]: NEW is FROM with its config changed
tag() {
  local from="$1" new="$2"; shift 2
  umoci config --image "$LAYOUT:$from" --tag "$new" --no-history "$@"
}
# insert IMAGE NEW PATH...: NEW is IMAGE plus one layer holding the PATHs as the chroot left them
# (or as $FROM, another root, holds them). umoci repack writes it (umoci 0.4.7's `insert` leaves the
# tar without its end-of-archive blocks: opencontainers/umoci#436, fixed by #534).
insert() {
  local image="$1" new="$2" from="${FROM:-$ROOT}"; shift 2
  rm -rf "$WORK/case"
  umoci unpack --image "$LAYOUT:$image" "$WORK/case"
  for path in "$@"; do
    mkdir -p "$WORK/case/rootfs$(dirname "$path")"
    cp -a "$from$path" "$WORK/case/rootfs$(dirname "$path")/"
  done
  umoci repack --image "$LAYOUT:$new" "$WORK/case"
}

echo "building test images into $OUT" >&2
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:empty"
umoci unpack --image "$LAYOUT:empty" "$WORK/bundle"
# The root filesystem is kept beside the images, keyed by what makes it, so a change to a case
# below does not download Debian again.
DEBOOTSTRAP=(mmdebstrap --quiet --variant=minbase --include="$PACKAGES"
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --format=tar bookworm)
BASE="$CACHE/rootfs-$(echo "${DEBOOTSTRAP[*]} $MIRROR" | sha256sum | cut -c1-16).tar"
if [ ! -f "$BASE" ]; then
  mkdir -p "$CACHE"
  "${DEBOOTSTRAP[@]}" "$BASE.partial" "$MIRROR"
  mv "$BASE.partial" "$BASE"
fi
tar -xf "$BASE" -C "$ROOT" --same-owner --preserve-permissions
in_root useradd --uid 1000 --gid 100 --no-create-home --home-dir "$HOME_DIR" --shell /bin/bash sagemaker-user
umoci repack --image "$LAYOUT:debian" "$WORK/bundle"
mkdir -p "$WORK/sbom"
cp -a "$ROOT/var/lib/dpkg" "$WORK/sbom/dpkg"  # what dpkg-query reads for the base layer
cp /etc/resolv.conf /etc/hosts "$ROOT/etc/"  # the host's network, as a chroot shares it
cp "$HOST_CA" "$ROOT/etc/ssl/host-ca.pem"
install -d -m 1777 "$ROOT/var/cache/pip"  # one pip cache for root's and the user's installs
mount -t proc proc "$ROOT/proc"  # Python's psutil (which jupyter_client asks for this host's IPs) reads it
tag debian debian --config.env "PATH=$PATH_DEFAULT"

# Debian's own python3-ipykernel: /usr/share/jupyter/kernels/python3 starts /usr/bin/python3.
tag debian distro-kernel

# A venv with ipykernel from PyPI: the wheel's kernelspec starts a bare "python".
in_root python3 -m venv /opt/venv
pip_quiet in_root /opt/venv/bin/pip install ipykernel
insert debian venv-wheel /opt/venv
cp -a "$ROOT/opt/venv" "$WORK/sbom/venv"  # what `pip list --path` reads for the venv's layer
tag venv-wheel venv-wheel --config.env "PATH=/opt/venv/bin:$PATH_DEFAULT"
# ... then `python -m ipykernel install --sys-prefix`, as AWS's samples do: an absolute argv[0].
in_root /opt/venv/bin/python -m ipykernel install --sys-prefix
insert venv-wheel venv-sys-prefix /opt/venv/share/jupyter
# ... and `--prefix` elsewhere, found through JUPYTER_PATH (and not without it).
in_root /opt/venv/bin/python -m ipykernel install --prefix /opt/kernels --name venv-prefix
insert venv-sys-prefix venv-prefix-unlisted /opt/kernels
tag venv-prefix-unlisted venv-prefix --config.env JUPYTER_PATH=/opt/kernels/share/jupyter

# `--user` as the Studio user: into the home, which Studio's volume hides.
install -d -o 1000 -g 100 "$ROOT$HOME_DIR"
as_user /opt/venv/bin/python -m ipykernel install --user --name user-kernel
insert venv-sys-prefix kernel-user "$HOME_DIR"
tag kernel-user kernel-user --config.user sagemaker-user
rm -rf "${ROOT:?}$HOME_DIR/.local"

# `--user` as root, whose home (/root) no volume hides: Jupyter reads ~/.local/share/jupyter after
# the venv it prefers (one its user owns) and before the system directories.
in_root python3 -m ipykernel install --user
insert debian kernel-user-root /root/.local
insert venv-sys-prefix venv-kernel-user-root /root/.local
rm -rf "$ROOT/root/.local"

# Five kernels from `ipykernel install --prefix /usr/local` beside Debian's: six, more than an
# AppImageConfig takes.
for n in 1 2 3 4 5; do in_root python3 -m ipykernel install --prefix /usr/local --name "extra-$n"; done
insert debian kernels-six /usr/local/share/jupyter
rm -rf "$ROOT/usr/local/share/jupyter"

# A kernel whose interpreter is a venv in the home.
as_user python3 -m venv "$HOME_DIR/venv"
pip_quiet as_user "$HOME_DIR/venv/bin/pip" install ipykernel
in_root "$HOME_DIR/venv/bin/python" -m ipykernel install --prefix /usr/local --name home-venv
insert debian kernel-home-venv "$HOME_DIR" /usr/local/share/jupyter
rm -rf "${ROOT:?}$HOME_DIR/venv" "$ROOT/usr/local/share/jupyter"

# JupyterLab with `pip install --user`: ~/.local/bin/jupyter-lab, on the PATH but under the mount.
pip_quiet as_user pip install --user --break-system-packages jupyterlab
insert debian lab-user "$HOME_DIR"
tag lab-user lab-user --config.user sagemaker-user --config.env "PATH=$HOME_DIR/.local/bin:$PATH_DEFAULT"
rm -rf "${ROOT:?}$HOME_DIR/.local"

# Laid out as sagemaker-distribution's Dockerfile lays it out: a Python environment with JupyterLab
# under /opt/conda on the PATH, the user sagemaker-user 1000:100, /var/log/studio made for the app,
# and the files it writes into the home.
in_root python3 -m venv /opt/conda
pip_quiet in_root /opt/conda/bin/pip install jupyterlab
install -d -o 1000 -g 100 "$ROOT/var/log/studio" "$ROOT$HOME_DIR/.conda"
install -d -m 0777 "$ROOT/var/log/sagemaker"
printf 'channels:\n  - conda-forge\n' >"$ROOT$HOME_DIR/.condarc"
cp "$ROOT/etc/skel/.bashrc" "$ROOT$HOME_DIR/.bashrc"
chown -R 1000:100 "$ROOT$HOME_DIR"
insert debian distribution-like /opt/conda /var/log/studio /var/log/sagemaker "$HOME_DIR"
tag distribution-like distribution-like --config.user sagemaker-user --config.env "PATH=/opt/conda/bin:$PATH_DEFAULT" \
  --config.env SHELL=/bin/bash --config.workingdir "$HOME_DIR"

# ... and Code Editor's open-source base, code-server, installed by npm from the registry into the
# same prefix (sagemaker-code-editor is on conda-forge only). 4.89.1 is the last release for Node 18,
# bookworm's; its postinstall builds native modules (node-gyp), hence the compilers and headers.
in_root apt-get -qq update
in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends nodejs npm \
  build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev >/dev/null
in_root env npm_config_cafile=/etc/ssl/host-ca.pem npm_config_cache=/var/cache/npm npm install --global \
  --unsafe-perm --no-fund --no-audit --loglevel=error --prefix /opt/conda code-server@4.89.1 >/dev/null
in_root /opt/conda/bin/code-server --version >/dev/null  # it runs
# ... and its parser takes the options registration starts it with (appconfig.SERVER_COMMANDS)
in_root /opt/conda/bin/code-server --bind-addr 0.0.0.0:8888 --auth none --version >/dev/null
insert distribution-like code-editor /opt/conda /usr /etc
rm -rf "${ROOT:?}$HOME_DIR" "$ROOT/root/.config"

# A Gateway Provisioners kernel image, as its documentation builds one: the docker-stacks user
# jovyan (1000:100), pip install gateway_provisioners, then `jupyter image-bootstrap install`, the
# files owned by jovyan, CMD the bootstrap.
in_root usermod --login jovyan --home /home/jovyan sagemaker-user
pip_quiet in_root pip install --break-system-packages gateway_provisioners
# (`python3 -m jupyter` is the `jupyter` command: Debian ships jupyter_core's module, not its script)
in_root python3 -m jupyter image-bootstrap install --languages python
chown 1000:100 "$ROOT/usr/local/bin/bootstrap-kernel.sh" && chmod 0755 "$ROOT/usr/local/bin/bootstrap-kernel.sh"
chown -R 1000:100 "$ROOT/usr/local/bin/kernel-launchers"
insert debian provisioners /usr/local /etc/passwd /etc/shadow
tag provisioners provisioners --config.user jovyan --config.cmd /usr/local/bin/bootstrap-kernel.sh
in_root usermod --login sagemaker-user --home "$HOME_DIR" jovyan

# What AWS's RStudio image specification asks an image to install, from Debian's packages: sudo, a
# Java 11+ runtime, libpng, R's reticulate, boto3 and awscli (not the sagemaker SDK: missing here).
mkdir -p "$ROOT/usr/share/man/man1"  # openjdk's postinst links its man page there; minbase left no man pages
in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
  sudo openjdk-17-jre-headless libpng16-16 r-base-core r-cran-reticulate python3-boto3 awscli >/dev/null
insert debian rstudio-packages /usr /etc
tag rstudio-packages rstudio-packages --config.user sagemaker-user \
  --config.env RSTUDIO_CONNECT_URL=https://connect.example.com \
  --config.env RSTUDIO_PACKAGE_MANAGER_URL=https://packages.example.com
# ... then the specification's pip line, into a Python of its own as Posit's images have under
# /opt/python: all the specification asks but RStudio Workbench (Posit's download, unreachable here).
in_root python3 -m venv /opt/python/3.11
pip_quiet in_root /opt/python/3.11/bin/pip install 'boto3>1.0,<2.0' 'awscli>1.0,<2.0' 'sagemaker[local]<3'
insert rstudio-packages rstudio /opt/python
tag rstudio rstudio --config.env "PATH=/opt/python/3.11/bin:$PATH_DEFAULT"
# The same image declaring in its Env the Workbench version a session image would carry (RSW_VERSION,
# the name Posit's Dockerfiles take it by as a build argument): the current minimum, and the
# specification's old one; and without the URLs.
tag rstudio rstudio-declared --config.env RSW_VERSION=2025.05.1+513.pro3
tag rstudio rstudio-old --config.env RSW_VERSION=2022.02.2+485.pro2
tag rstudio rstudio-no-env --clear=config.env --config.env "PATH=/opt/python/3.11/bin:$PATH_DEFAULT"

# Code under /opt/ml/code, as SageMaker training containers put it (reserved), beside /opt/mlflow
# (not reserved); a file owned by UID 70000 (beyond what a FileSystemConfig takes) beside one owned
# by 65535, the largest it takes.
install -d "$ROOT/opt/ml/code" "$ROOT/opt/mlflow" "$ROOT/srv/data"
cp "$ROOT/usr/lib/python3/dist-packages/ipykernel_launcher.py" "$ROOT/opt/ml/code/"
cp "$ROOT/usr/lib/python3/dist-packages/ipykernel_launcher.py" "$ROOT/opt/mlflow/"
cp "$ROOT/etc/debian_version" "$ROOT/srv/data/uid-70000" && chown 70000:70000 "$ROOT/srv/data/uid-70000"
cp "$ROOT/etc/debian_version" "$ROOT/srv/data/uid-65535" && chown 65535:65535 "$ROOT/srv/data/uid-65535"
insert debian reserved /opt/ml /opt/mlflow /srv/data

# NVIDIA's driver library from Debian's non-free archive (libcuda1) beside the CUDA runtime
# (libcudart11.0), which belongs in an image: their files as dpkg-deb unpacks them.
echo "deb $MIRROR bookworm non-free" >"$ROOT/etc/apt/sources.list.d/non-free.list"
in_root apt-get -qq update
in_root sh -c 'cd /tmp && apt-get -qq download libcuda1 libcudart11.0'
mkdir -p "$WORK/nvidia"
for deb in "$ROOT"/tmp/libcuda1_*.deb "$ROOT"/tmp/libcudart11.0_*.deb; do dpkg-deb -x "$deb" "$WORK/nvidia"; done
FROM="$WORK/nvidia" insert debian nvidia /usr/lib

# A layer GNU tar wrote with --absolute-names: a member that climbs out of the root ("../") beside
# one whose name only starts with dots; umoci adds it verbatim.
mkdir -p "$WORK/anomaly/in/etc"
echo escaped >"$WORK/anomaly/escape" && echo kept >"$WORK/anomaly/in/etc/..hidden"
(cd "$WORK/anomaly/in" && tar --absolute-names -cf "$WORK/anomaly.tar" ../escape etc/..hidden)
umoci config --image "$LAYOUT:debian" --tag layer-anomaly --no-history
umoci raw add-layer --image "$LAYOUT:layer-anomaly" --no-history "$WORK/anomaly.tar"

# Debian's busybox for arm64 (mmdebstrap extracts it and runs nothing): an image not for amd64.
mmdebstrap --quiet --variant=extract --architectures=arm64 --include=busybox-static \
  --format=tar bookworm "$WORK/arm64.tar" "$MIRROR"
umoci new --image "$LAYOUT:arm64"
umoci unpack --image "$LAYOUT:arm64" "$WORK/arm64"
tar -xf "$WORK/arm64.tar" -C "$WORK/arm64/rootfs" --same-owner --preserve-permissions
umoci repack --image "$LAYOUT:arm64" "$WORK/arm64"
umoci config --image "$LAYOUT:arm64" --tag arm64 --no-history --architecture arm64 --os linux

# Config only: a User that /etc/passwd does not know.
tag debian user-unknown --config.user jupyter

umount "$ROOT/proc"
umoci rm --image "$LAYOUT:empty"
umoci gc --layout "$LAYOUT"
rm -rf "$OUT" && mkdir -p "$OUT"
mv "$LAYOUT" "$OUT/layout"
mv "$WORK/sbom" "$OUT/sbom"
touch "$OUT/complete"
echo "test images in $OUT" >&2
