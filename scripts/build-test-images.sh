#!/usr/bin/env bash
# Test images made the way users make them, from real packages by real tools: a Debian bookworm root
# filesystem by mmdebstrap from Debian's packages, pip installs from PyPI inside it (chroot), and the
# layers written by umoci. One OCI layout holds them all, tagged by case; each case is the shared
# base plus what its own steps wrote (umoci repack).
# Cached outside the repository under the hash of this file (what goes in): `--print-dir` prints
# where (DIR/layout: the images; DIR/sbom: the base's dpkg database and the venv-wheel case's venv, as
# the package managers left them), and a finished build is not redone. Needs root (mmdebstrap,
# chroot), umoci and network (Debian's mirror, PyPI, npm).
# Independent groups of cases run side by side, each in its own copy of the root filesystem, and
# their output is shown if one fails; each step's time goes to stderr.
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
BUNDLES="$WORK/bundles"  # unpacked images (umoci bundles), by tag
ROOT="$WORK/root"        # the root filesystem the steps run in; each job has its own
mkdir -p "$BUNDLES" "$WORK/stage"
exec 3>&2  # step times reach the caller's stderr also from jobs whose output goes to their log
set -m     # each job its own process group, so that stopping it stops what it started

declare -A JOBS=()  # pid -> name of each job not yet waited for
umount_roots() {
  local mnt
  for mnt in $(awk -v work="$WORK/" 'index($2, work) == 1 { print $2 }' /proc/mounts); do
    umount "$mnt" || umount -l "$mnt"
  done
}
cleanup() {
  local pid
  for pid in "${!JOBS[@]}"; do kill -- -"$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  umount_roots
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# job NAME FUNCTION: FUNCTION in the background, its output in WORK/NAME.log
job() { "$2" >"$WORK/$1.log" 2>&1 & JOBS[$!]="$1"; }
# wait_jobs [NAME...]: until the jobs NAME (or all) have finished; the first job to fail ends the
# build, its output shown
wait_jobs() {
  local pid name
  while pending "$@"; do
    if wait -n -p pid "${!JOBS[@]}"; then unset "JOBS[$pid]"; continue; fi
    name="${JOBS[$pid]}"  # left in JOBS: cleanup stops what it started
    echo "building test images: job $name failed; its output:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
  done
}

pending() {
  local name
  for name in "${JOBS[@]}"; do
    if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then return 0; fi
  done
  return 1
}

# step NAME: the steps that follow are NAME; prints how long the group's previous step took
GROUP=main STEP="" STEP_AT=$SECONDS
step() {
  local now=$SECONDS
  if [ -n "$STEP" ]; then
    printf '%5ds  %-8s %-22s %4ds\n' "$now" "$GROUP" "$STEP" $((now - STEP_AT)) >&3
  fi
  STEP="$1" STEP_AT=$now
}
group() { GROUP="$1" STEP=""; }  # group NAME: the steps that follow are the job NAME's

# pip in the chroot trusts what the host's pip trusts (a CI network may re-sign TLS with its own CA)
HOST_CA="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
CHROOT_ENV=(PATH="$PATH_DEFAULT" PIP_CACHE_DIR=/var/cache/pip PIP_CERT=/etc/ssl/host-ca.pem)
in_root() { chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" HOME=/root "$@"; }
as_user() { chroot --userspec=1000:100 "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" HOME="$HOME_DIR" "$@"; }
pip_quiet() { "$@" --quiet --disable-pip-version-check --no-warn-script-location; }

# new_root DIR: a root for a job, the base as the debian image holds it, then what the steps need:
# the host's network (as a chroot shares it) and CA, one pip cache for root's and the user's
# installs, and /proc (Python's psutil, which jupyter_client asks for this host's IPs, reads it).
new_root() {
  cp -a "$BUNDLES/debian/rootfs" "$1"
  cp /etc/resolv.conf /etc/hosts "$1/etc/"
  cp "$HOST_CA" "$1/etc/ssl/host-ca.pem"
  install -d -m 1777 "$1/var/cache/pip"
  mount -t proc proc "$1/proc"
}
# drop_root: a job removes its root when done, while the others still work
drop_root() { umount "$ROOT/proc" && rm -rf "$ROOT"; }

# The jobs share the layout, and umoci rewrites its index.json whole: one umoci at a time on it.
u() { flock "$WORK/layout.lock" umoci "$@"; }
# tag FROM NEW [umoci config options...]: NEW is FROM with its config changed
tag() {
  local from="$1" new="$2"; shift 2
  u config --image "$LAYOUT:$from" --tag "$new" --no-history "$@"
  # A kept bundle is the image as repacked, and a case inserted on it has that config: dropped when
  # the config changes, unless KEEP=1 keeps it for cases that are given the same change again.
  if [ "$from" = "$new" ] && [ -z "${KEEP:-}" ]; then rm -rf "${BUNDLES:?}/$new"; fi
}
# insert IMAGE NEW PATH...: NEW is IMAGE plus one layer holding the PATHs as the root left them (or
# as $FROM, another directory, holds them). umoci repack writes it (umoci 0.4.7's `insert` leaves the
# tar without its end-of-archive blocks: opencontainers/umoci#436, fixed by #534), from a copy of
# IMAGE's bundle where one is kept (KEEP=1 keeps NEW's), else from umoci unpack: copying is much
# faster than unpacking, and a copy repacks the same (umoci compares the tree with the bundle's mtree).
insert() {
  local image="$1" new="$2" from="${FROM:-$ROOT}" bundle="$BUNDLES/$2" path; shift 2
  if [ -d "$BUNDLES/$image" ]; then
    cp -a "$BUNDLES/$image" "$bundle"
  else
    u unpack --image "$LAYOUT:$image" "$bundle"
  fi
  for path in "$@"; do
    mkdir -p "$bundle/rootfs$(dirname "$path")"
    cp -a "$from$path" "$bundle/rootfs$(dirname "$path")/"
  done
  u repack ${KEEP:+--refresh-bundle} --image "$LAYOUT:$new" "$bundle"
  if [ -z "${KEEP:-}" ]; then rm -rf "$bundle"; fi
}
# later insert|tag ARGS...: the same, run by the job started after these steps (the main group's
# steps are what the other groups start from, so their layers are written beside them): the PATHs
# are copied aside now, as the root holds them.
LATER="$WORK/later.sh"
later() {
  local path stage="$WORK/stage/${3:-}"
  if [ "$1" = insert ]; then
    for path in "${@:4}"; do
      mkdir -p "$stage$(dirname "$path")"
      cp -a "$ROOT$path" "$stage$(dirname "$path")/"
    done
    printf 'KEEP=%q FROM=%q ' "${KEEP:-}" "$stage" >>"$LATER"
  fi
  printf '%q ' "$@" >>"$LATER"
  echo >>"$LATER"
}
kernel_layers() { group layers; step layers; . "$LATER"; rm -rf "$WORK/stage"; step ""; }

# Node 18 and the compilers code-server's native modules need, from Debian's packages.
node_toolchain() {
  in_root apt-get -qq update
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends nodejs npm \
    build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev >/dev/null
}

# Debian's busybox for arm64 (mmdebstrap extracts it and runs nothing): an image not for amd64.
arm64() {
  group arm64
  step arm64
  mmdebstrap --quiet --variant=extract --architectures=arm64 --include=busybox-static \
    --format=tar bookworm "$WORK/arm64.tar" "$MIRROR"
  u new --image "$LAYOUT:arm64"
  u unpack --image "$LAYOUT:arm64" "$WORK/arm64"
  tar -xf "$WORK/arm64.tar" -C "$WORK/arm64/rootfs" --same-owner --preserve-permissions
  u repack --image "$LAYOUT:arm64" "$WORK/arm64"
  u config --image "$LAYOUT:arm64" --tag arm64 --no-history --architecture arm64 --os linux
  step ""
}

echo "building test images into $OUT" >&2
u init --layout "$LAYOUT"
job arm64 arm64

step debootstrap
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
step debian
# debian's config is set before its layer is written, so that the bundle kept here is the image's
# own and every case can start from a copy of it.
u new --image "$LAYOUT:empty"
u config --image "$LAYOUT:empty" --no-history --config.env "PATH=$PATH_DEFAULT"
u unpack --image "$LAYOUT:empty" "$BUNDLES/debian"
tar -xf "$BASE" -C "$BUNDLES/debian/rootfs" --same-owner --preserve-permissions
ROOT="$BUNDLES/debian/rootfs" in_root useradd --uid 1000 --gid 100 --no-create-home \
  --home-dir "$HOME_DIR" --shell /bin/bash sagemaker-user
u repack --refresh-bundle --image "$LAYOUT:debian" "$BUNDLES/debian"
mkdir -p "$WORK/sbom"
cp -a "$BUNDLES/debian/rootfs/var/lib/dpkg" "$WORK/sbom/dpkg"  # what dpkg-query reads for the base layer

# Cases whose steps change nothing that another case's layer holds, in a root of their own.
misc() {
  group misc; ROOT="$WORK/root-misc"
  step misc-root
  new_root "$ROOT"

  # Debian's own python3-ipykernel: /usr/share/jupyter/kernels/python3 starts /usr/bin/python3.
  tag debian distro-kernel

  # Code under /opt/ml/code, as SageMaker training containers put it (reserved), beside /opt/mlflow
  # (not reserved); a file owned by UID 70000 (beyond what a FileSystemConfig takes) beside one owned
  # by 65535, the largest it takes.
  step reserved
  install -d "$ROOT/opt/ml/code" "$ROOT/opt/mlflow" "$ROOT/srv/data"
  cp "$ROOT/usr/lib/python3/dist-packages/ipykernel_launcher.py" "$ROOT/opt/ml/code/"
  cp "$ROOT/usr/lib/python3/dist-packages/ipykernel_launcher.py" "$ROOT/opt/mlflow/"
  cp "$ROOT/etc/debian_version" "$ROOT/srv/data/uid-70000" && chown 70000:70000 "$ROOT/srv/data/uid-70000"
  cp "$ROOT/etc/debian_version" "$ROOT/srv/data/uid-65535" && chown 65535:65535 "$ROOT/srv/data/uid-65535"
  insert debian reserved /opt/ml /opt/mlflow /srv/data

  # NVIDIA's driver library from Debian's non-free archive (libcuda1) beside the CUDA runtime
  # (libcudart11.0), which belongs in an image: their files as dpkg-deb unpacks them.
  step nvidia
  echo "deb $MIRROR bookworm non-free" >"$ROOT/etc/apt/sources.list.d/non-free.list"
  in_root apt-get -qq update
  in_root sh -c 'cd /tmp && apt-get -qq download libcuda1 libcudart11.0'
  mkdir -p "$WORK/nvidia"
  for deb in "$ROOT"/tmp/libcuda1_*.deb "$ROOT"/tmp/libcudart11.0_*.deb; do dpkg-deb -x "$deb" "$WORK/nvidia"; done
  FROM="$WORK/nvidia" insert debian nvidia /usr/lib

  # A layer GNU tar wrote with --absolute-names: a member that climbs out of the root ("../") beside
  # one whose name only starts with dots; umoci adds it verbatim.
  step layer-anomaly
  mkdir -p "$WORK/anomaly/in/etc"
  echo escaped >"$WORK/anomaly/escape" && echo kept >"$WORK/anomaly/in/etc/..hidden"
  (cd "$WORK/anomaly/in" && tar --absolute-names -cf "$WORK/anomaly.tar" ../escape etc/..hidden)
  u config --image "$LAYOUT:debian" --tag layer-anomaly --no-history
  u raw add-layer --image "$LAYOUT:layer-anomaly" --no-history "$WORK/anomaly.tar"

  # Config only: a User that /etc/passwd does not know.
  tag debian user-unknown --config.user jupyter
  drop_root
  step ""
}
job misc misc

# The RStudio case's Python, by pip into /opt/python as Posit's images have it: only that directory
# goes into its layer, so it is installed in a root of its own while the packages below install.
rstudio_python() {
  group python; ROOT="$WORK/root-python"
  step python-root
  new_root "$ROOT"
  # the specification's pip line: all it asks but RStudio Workbench (Posit's download, unreachable here)
  step rstudio-pip
  in_root python3 -m venv /opt/python/3.11
  pip_quiet in_root /opt/python/3.11/bin/pip install 'boto3>1.0,<2.0' 'awscli>1.0,<2.0' 'sagemaker[local]<3'
  step ""
}
job python rstudio_python

# The main group: its steps leave files behind (the user's home and ~/.ipython, /usr/local/share)
# that later cases' layers hold, so the groups below start from copies of its root.
step main-root
new_root "$ROOT"

# A venv with ipykernel from PyPI: the wheel's kernelspec starts a bare "python".
step venv-wheel
in_root python3 -m venv /opt/venv
pip_quiet in_root /opt/venv/bin/pip install ipykernel
later insert debian venv-wheel /opt/venv
cp -a "$ROOT/opt/venv" "$WORK/sbom/venv"  # what `pip list --path` reads for the venv's layer
later tag venv-wheel venv-wheel --config.env "PATH=/opt/venv/bin:$PATH_DEFAULT"
# ... then `python -m ipykernel install --sys-prefix`, as AWS's samples do: an absolute argv[0].
step venv-kernels
in_root /opt/venv/bin/python -m ipykernel install --sys-prefix
KEEP=1 later insert venv-wheel venv-sys-prefix /opt/venv/share/jupyter
# ... and `--prefix` elsewhere, found through JUPYTER_PATH (and not without it).
in_root /opt/venv/bin/python -m ipykernel install --prefix /opt/kernels --name venv-prefix
later insert venv-sys-prefix venv-prefix-unlisted /opt/kernels
later tag venv-prefix-unlisted venv-prefix --config.env JUPYTER_PATH=/opt/kernels/share/jupyter

# `--user` as the Studio user: into the home, which Studio's volume hides.
install -d -o 1000 -g 100 "$ROOT$HOME_DIR"
as_user /opt/venv/bin/python -m ipykernel install --user --name user-kernel
later insert venv-sys-prefix kernel-user "$HOME_DIR"
later tag kernel-user kernel-user --config.user sagemaker-user
rm -rf "${ROOT:?}$HOME_DIR/.local"

# `--user` as root, whose home (/root) no volume hides: Jupyter reads ~/.local/share/jupyter after
# the venv it prefers (one its user owns) and before the system directories.
in_root python3 -m ipykernel install --user
later insert debian kernel-user-root /root/.local
later insert venv-sys-prefix venv-kernel-user-root /root/.local
rm -rf "$ROOT/root/.local"

# Five kernels from `ipykernel install --prefix /usr/local` beside Debian's: six, more than an
# AppImageConfig takes.
for n in 1 2 3 4 5; do in_root python3 -m ipykernel install --prefix /usr/local --name "extra-$n"; done
later insert debian kernels-six /usr/local/share/jupyter
rm -rf "$ROOT/usr/local/share/jupyter"

# A kernel whose interpreter is a venv in the home.
step home-venv
as_user python3 -m venv "$HOME_DIR/venv"
pip_quiet as_user "$HOME_DIR/venv/bin/pip" install ipykernel
in_root "$HOME_DIR/venv/bin/python" -m ipykernel install --prefix /usr/local --name home-venv
later insert debian kernel-home-venv "$HOME_DIR" /usr/local/share/jupyter
rm -rf "${ROOT:?}$HOME_DIR/venv" "$ROOT/usr/local/share/jupyter"
job layers kernel_layers

step fork
umount "$ROOT/proc"
cp -a "$ROOT" "$WORK/root-rstudio"
mount -t proc proc "$ROOT/proc"
mount -t proc proc "$WORK/root-rstudio/proc"

code_editor() {
  group lab
  # Laid out as sagemaker-distribution's Dockerfile lays it out: a Python environment with JupyterLab
  # under /opt/conda on the PATH, the user sagemaker-user 1000:100, /var/log/studio made for the app,
  # and the files it writes into the home.
  step distribution-like
  in_root python3 -m venv /opt/conda
  pip_quiet in_root /opt/conda/bin/pip install jupyterlab
  install -d -o 1000 -g 100 "$ROOT/var/log/studio" "$ROOT$HOME_DIR/.conda"
  install -d -m 0777 "$ROOT/var/log/sagemaker"
  printf 'channels:\n  - conda-forge\n' >"$ROOT$HOME_DIR/.condarc"
  cp "$ROOT/etc/skel/.bashrc" "$ROOT$HOME_DIR/.bashrc"
  chown -R 1000:100 "$ROOT$HOME_DIR"
  KEEP=1 insert debian distribution-like /opt/conda /var/log/studio /var/log/sagemaker "$HOME_DIR"
  local config=(--config.user sagemaker-user --config.env "PATH=/opt/conda/bin:$PATH_DEFAULT"
    --config.env SHELL=/bin/bash --config.workingdir "$HOME_DIR")
  KEEP=1 tag distribution-like distribution-like "${config[@]}"

  # ... and Code Editor's open-source base, code-server, installed by npm from the registry into the
  # same prefix (sagemaker-code-editor is on conda-forge only). 4.89.1 is the last release for Node 18,
  # bookworm's; its postinstall builds native modules (node-gyp), hence the compilers and headers.
  step node-toolchain
  node_toolchain
  step code-server
  in_root env npm_config_cafile=/etc/ssl/host-ca.pem npm_config_cache=/var/cache/npm npm install --global \
    --unsafe-perm --no-fund --no-audit --loglevel=error --prefix /opt/conda code-server@4.89.1 >/dev/null
  in_root /opt/conda/bin/code-server --version >/dev/null  # it runs
  # ... and its parser takes the options registration starts it with (appconfig.SERVER_COMMANDS)
  in_root /opt/conda/bin/code-server --bind-addr 0.0.0.0:8888 --auth none --version >/dev/null
  step code-editor
  insert distribution-like code-editor /opt/conda /usr /etc
  tag code-editor code-editor "${config[@]}"  # the kept bundle predates distribution-like's config
  rm -rf "$BUNDLES/distribution-like"
  drop_root
  step ""
}
job lab code_editor

# The RStudio packages' layer holds /usr and /etc as they are after code-editor's toolchain and the
# provisioners' pip install (in one root, in that order), so this group installs both again first.
# It also writes the lab-user case, whose steps change only the home (and leave nothing there), to
# share the time between the groups.
RSTUDIO_CONFIG=(--config.user sagemaker-user --config.env RSTUDIO_CONNECT_URL=https://connect.example.com
  --config.env RSTUDIO_PACKAGE_MANAGER_URL=https://packages.example.com)
rstudio() {
  group rstudio; ROOT="$WORK/root-rstudio"
  # JupyterLab with `pip install --user`: ~/.local/bin/jupyter-lab, on the PATH but under the mount.
  step lab-user
  pip_quiet as_user pip install --user --break-system-packages jupyterlab
  insert debian lab-user "$HOME_DIR"
  tag lab-user lab-user --config.user sagemaker-user --config.env "PATH=$HOME_DIR/.local/bin:$PATH_DEFAULT"
  rm -rf "${ROOT:?}$HOME_DIR/.local"

  step node-toolchain
  node_toolchain

  # A Gateway Provisioners kernel image, as its documentation builds one: the docker-stacks user
  # jovyan (1000:100), pip install gateway_provisioners, then `jupyter image-bootstrap install`, the
  # files owned by jovyan, CMD the bootstrap.
  step provisioners
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
  step rstudio-apt
  mkdir -p "$ROOT/usr/share/man/man1"  # openjdk's postinst links its man page there; minbase left no man pages
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
    sudo openjdk-17-jre-headless libpng16-16 r-base-core r-cran-reticulate python3-boto3 awscli >/dev/null
  step rstudio-packages
  KEEP=1 insert debian rstudio-packages /usr /etc
  KEEP=1 tag rstudio-packages rstudio-packages "${RSTUDIO_CONFIG[@]}"
  drop_root
  step ""
}
job rstudio rstudio

step wait
wait_jobs rstudio python

# ... then the specification's pip line (rstudio_python above).
step rstudio
FROM="$WORK/root-python" insert rstudio-packages rstudio /opt/python
rm -rf "$BUNDLES/rstudio-packages"
ROOT="$WORK/root-python" drop_root
# (the kept bundle predates rstudio-packages' config, so rstudio is given it too)
tag rstudio rstudio "${RSTUDIO_CONFIG[@]}" --config.env "PATH=/opt/python/3.11/bin:$PATH_DEFAULT"
# The same image declaring in its Env the Workbench version a session image would carry (RSW_VERSION,
# the name Posit's Dockerfiles take it by as a build argument): the current minimum, and the
# specification's old one; and without the URLs.
tag rstudio rstudio-declared --config.env RSW_VERSION=2025.05.1+513.pro3
tag rstudio rstudio-old --config.env RSW_VERSION=2022.02.2+485.pro2
tag rstudio rstudio-no-env --clear=config.env --config.env "PATH=/opt/python/3.11/bin:$PATH_DEFAULT"

step wait
wait_jobs

step gc
umount_roots
u rm --image "$LAYOUT:empty"
u gc --layout "$LAYOUT"
step finish
rm -rf "$OUT" && mkdir -p "$OUT"
mv "$LAYOUT" "$OUT/layout"
mv "$WORK/sbom" "$OUT/sbom"
touch "$OUT/complete"
step ""
echo "test images in $OUT" >&2
