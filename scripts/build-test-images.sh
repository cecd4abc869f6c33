#!/usr/bin/env bash
# Test images made the way users make them, from real packages by real tools: a Debian bookworm root
# filesystem by mmdebstrap from Debian's packages, pip installs from PyPI inside it (chroot), and the
# layers written by umoci. One OCI layout holds them all, tagged by case; each case is the shared
# base plus what its own steps wrote (umoci insert), so a build takes a few minutes.
# Cached outside the repository under the hash of this file (what goes in): `--print-dir` prints
# where, and a finished build is not redone. Needs root (mmdebstrap, chroot), umoci and network.
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
# insert IMAGE NEW PATH...: NEW is IMAGE plus one layer holding the PATHs as the chroot left them.
# umoci repack writes it (umoci 0.4.7's `insert` leaves the tar without its end-of-archive blocks:
# opencontainers/umoci#436, fixed by #534).
insert() {
  local image="$1" new="$2"; shift 2
  rm -rf "$WORK/case"
  umoci unpack --image "$LAYOUT:$image" "$WORK/case"
  for path in "$@"; do
    mkdir -p "$WORK/case/rootfs$(dirname "$path")"
    cp -a "$ROOT$path" "$WORK/case/rootfs$(dirname "$path")/"
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
rm -rf "${ROOT:?}$HOME_DIR"

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

# What AWS's RStudio image specification asks an image to install, from Debian's packages: sudo, a
# Java 11+ runtime, libpng, R's reticulate, boto3 and awscli (not the sagemaker SDK, which stays
# missing; nor RStudio Workbench itself, which Posit distributes).
in_root apt-get -qq update
mkdir -p "$ROOT/usr/share/man/man1"  # openjdk's postinst links its man page there; minbase left no man pages
in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
  sudo openjdk-17-jre-headless libpng16-16 r-base-core r-cran-reticulate python3-boto3 awscli >/dev/null
insert debian rstudio-packages /usr /etc
tag rstudio-packages rstudio-packages --config.user sagemaker-user \
  --config.env RSTUDIO_CONNECT_URL=https://connect.example.com \
  --config.env RSTUDIO_PACKAGE_MANAGER_URL=https://packages.example.com

umount "$ROOT/proc"
umoci rm --image "$LAYOUT:empty"
umoci gc --layout "$LAYOUT"
rm -rf "$OUT" && mkdir -p "$(dirname "$OUT")"
mv "$LAYOUT" "$OUT"
touch "$OUT/complete"
echo "test images in $OUT" >&2
