"""Sample images that show what the checks catch. Built from generated files: no network.

Each looks like a real Studio image: a Debian-like base with /etc/passwd and /etc/group, a Python
environment under /opt/conda with a kernel.json written as ipykernel writes it, and a few hundred
library files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from moto_studio.sagemaker.models import START_FAILURE_LABEL
from moto_studio.scanning import SCAN_RESULT_LABEL

from .ocibuild import ImageSpec, Layer, build_image

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONDA_PATH = f"/opt/conda/bin:{DEFAULT_PATH}"

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash
"""
GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
users:x:100:sagemaker-user
nogroup:x:65534:
"""
OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
)
PYTHON = "/opt/conda/bin/python3.11"


def ipykernel_json(python: str = PYTHON, display_name: str = "Python 3 (ipykernel)") -> str:
    """kernel.json as `python -m ipykernel install` writes it (json.dump with indent=1)."""
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "metadata": {"debugger": True},
    }
    return json.dumps(spec, indent=1)


def base_layer(passwd: str = PASSWD, group: str = GROUP) -> Layer:
    layer = Layer()
    for directory in ("bin", "etc", "home", "opt", "root", "tmp", "usr", "usr/bin", "usr/lib", "var"):
        layer.dir(directory)
    layer.file("etc/passwd", passwd).file("etc/group", group).file("etc/os-release", OS_RELEASE)
    for tool in ("bash", "sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "chmod", "chown"):
        layer.file(f"usr/bin/{tool}", b"\x7fELF" + tool.encode() * 200, mode=0o755)
    for index in range(60):
        layer.file(f"usr/lib/x86_64-linux-gnu/lib{index:02d}.so.1", b"\x7fELF" + bytes(2000))
    layer.dir("home/sagemaker-user", uid=1000, gid=100)
    return layer


def executable(layer: Layer, path: str) -> Layer:
    return layer.file(path, b"\x7fELF" + path.encode() * 100, mode=0o755)


def python_layer(kernel_python: str = PYTHON, packages: tuple[str, ...] = ()) -> Layer:
    layer = Layer()
    layer.dir("opt/conda").dir("opt/conda/bin")
    layer.file(PYTHON, b"\x7fELF" + b"python" * 3000, mode=0o755)
    layer.symlink("opt/conda/bin/python", "python3.11").symlink("opt/conda/bin/python3", "python3.11")
    site = "opt/conda/lib/python3.11/site-packages"
    basics = ("ipykernel", "jupyter_client", "traitlets", "tornado", "pandas", "numpy", "boto3")
    for package in basics + packages:
        for module in range(25):
            layer.file(f"{site}/{package}/mod{module:02d}.py", f"# {package} module {module}\n" * 40)
        layer.file(f"{site}/{package}-1.0.dist-info/METADATA", f"Name: {package}\nVersion: 1.0\n")
    layer.file("opt/conda/share/jupyter/kernels/python3/kernel.json", ipykernel_json(kernel_python))
    return layer


JOVYAN_PASSWD = PASSWD.replace(
    "sagemaker-user:x:1000:100::/home/sagemaker-user", "jovyan:x:1000:100::/home/jovyan"
)
JOVYAN_GROUP = GROUP.replace("users:x:100:sagemaker-user", "users:x:100:jovyan")
RSTUDIO_ENV = [
    f"PATH={DEFAULT_PATH}",
    "RSTUDIO_CONNECT_URL=https://connect.example.com",
    "RSTUDIO_PACKAGE_MANAGER_URL=https://packagemanager.example.com",
]


def rstudio_layer(version: str = "2025.05.1+513.pro3") -> Layer:
    """What the RStudio spec asks for: the session components, sudo, Java 11, libpng, reticulate and
    boto3, awscli and sagemaker in the image's Python."""
    layer = Layer().file("usr/lib/rstudio-server/VERSION", version + "\n")
    executable(layer, "usr/lib/rstudio-server/bin/rsession")
    executable(layer, "usr/bin/sudo")
    jvm = "usr/lib/jvm/java-11-openjdk-amd64"
    layer.file(f"{jvm}/release", 'JAVA_VERSION="11.0.20"\nIMPLEMENTOR="Eclipse Adoptium"\n')
    executable(layer, f"{jvm}/bin/java")
    layer.symlink("usr/bin/java", f"/{jvm}/bin/java")
    layer.file("usr/lib/x86_64-linux-gnu/libpng16.so.16.37.0", b"\x7fELF" + bytes(500))
    layer.symlink("usr/lib/x86_64-linux-gnu/libpng16.so.16", "libpng16.so.16.37.0")
    layer.file("opt/R/4.2.0/lib/R/library/reticulate/DESCRIPTION", "Package: reticulate\nVersion: 1.28\n")
    executable(layer, "opt/R/4.2.0/bin/R")
    site = "opt/python/3.9.5/lib/python3.9/site-packages"
    for package in ("boto3", "awscli", "sagemaker"):
        layer.file(f"{site}/{package}/__init__.py", f"# {package}\n")
    return layer


def gateway_provisioners_layer() -> Layer:
    """What `jupyter image-bootstrap install --languages python` writes."""
    layer = Layer().dir("home/jovyan", uid=1000, gid=100)
    layer.file(
        "usr/local/bin/bootstrap-kernel.sh", "#!/bin/bash\nexec python ...\n", mode=0o755, uid=1000, gid=100
    )
    scripts = "usr/local/bin/kernel-launchers/python/scripts"
    for script in ("launch_ipykernel.py", "server_listener.py"):
        layer.file(f"{scripts}/{script}", "# launcher\n", uid=1000, gid=100)
    return layer


def compliant(profile: str) -> ImageSpec:
    """An image that passes every rule of `profile`; tests break one thing at a time."""
    if profile == "gateway-provisioners":
        return ImageSpec(
            layers=[base_layer(JOVYAN_PASSWD, JOVYAN_GROUP), python_layer(), gateway_provisioners_layer()],
            user="jovyan",
            cmd=["/usr/local/bin/bootstrap-kernel.sh"],
        )
    if profile == "rstudio":
        return ImageSpec(layers=[base_layer(), rstudio_layer()], user="sagemaker-user", env=RSTUDIO_ENV)
    extra = []
    if profile == "jupyterlab":
        extra = [executable(Layer(), "opt/conda/bin/jupyter-lab")]
    elif profile == "code-editor":
        extra = [executable(Layer(), "opt/conda/bin/sagemaker-code-editor")]
    packages = ("jupyterlab",) if profile == "jupyterlab" else ()
    return ImageSpec(
        layers=[base_layer(), python_layer(packages=packages), *extra],
        user="sagemaker-user",
        env=[f"PATH={CONDA_PATH}"],
    )


@dataclass(frozen=True)
class Sample:
    name: str
    profile: str
    expect: str  # "pass" or "fail"
    why: str
    build: Callable[[Path], str]  # writes the image under a directory, returns its reference
    starts: bool = True  # False: its apps fail to start in the sandbox (its label says how)


def _image(
    name: str, profile: str = "kernel-gateway", *extra: Layer, **changes: object
) -> Callable[[Path], str]:
    def build(root: Path) -> str:
        spec = compliant(profile)
        spec = replace(spec, layers=[*spec.layers, *extra], **changes)  # type: ignore[arg-type]
        return build_image(root / name, spec)

    return build


def _sample(name: str, profile: str, expect: str, why: str, *extra: Layer, **changes: object) -> Sample:
    labels = changes.get("labels")
    starts = not (isinstance(labels, dict) and START_FAILURE_LABEL in labels)
    return Sample(name, profile, expect, why, _image(name, profile, *extra, **changes), starts)


IMPORT_CRASH = [
    "[I KernelGatewayApp] Starting kernel python3",
    "Traceback (most recent call last):",
    '  File "/opt/conda/lib/python3.11/site-packages/ipykernel_launcher.py", line 15, in <module>',
    "    from ipykernel import kernelapp as app",
    "ImportError: libzmq.so.5: cannot open shared object file: No such file or directory",
    "[W KernelGatewayApp] Kernel python3 died, restarting",
]


XZ_BACKDOOR = {  # a finding in botocore's ecr ImageScanFinding shape, as basic scanning reports it
    "name": "CVE-2024-3094",
    "uri": "https://security-tracker.debian.org/tracker/CVE-2024-3094",
    "severity": "CRITICAL",
    "attributes": [
        {"key": "package_name", "value": "xz-utils"},
        {"key": "package_version", "value": "5.6.0-0.2"},
    ],
}


SAMPLES = [
    _sample("datascience", "kernel-gateway", "pass", "a compliant KernelGateway image"),
    _sample("arm64-only", "kernel-gateway", "fail", "built on an arm64 laptop", architecture="arm64"),
    _sample(
        "opt-ml",
        "kernel-gateway",
        "fail",
        "writes a model under the reserved /opt/ml",
        Layer().dir("opt/ml").dir("opt/ml/model").file("opt/ml/model/model.pkl", b"\x80\x04" * 500),
    ),
    _sample(
        "opt-ml-removed",
        "kernel-gateway",
        "pass",
        "/opt/ml written, then deleted by a later layer",
        Layer().dir("opt/ml").file("opt/ml/cache.bin", b"x" * 100),
        Layer().whiteout("opt/ml"),
    ),
    _sample(
        "uid-70000",
        "kernel-gateway",
        "fail",
        "unpacked an archive that kept its owner, UID 70000",
        Layer().file("opt/tools/data.csv", b"a,b\n", uid=70000, gid=70000),
    ),
    _sample(
        "kernel-gone",
        "kernel-gateway",
        "fail",
        "its kernel.json points at a Python that a later layer removed",
        Layer()
        .whiteout("opt/conda/bin/python3.11")
        .file("usr/local/share/jupyter/kernels/python3/kernel.json", ipykernel_json()),
    ),
    _sample(
        "crashes-at-start",
        "kernel-gateway",
        "pass",
        "passes every check, then its kernel dies on import: the canary start catches it",
        labels={START_FAILURE_LABEL: json.dumps(IMPORT_CRASH)},
    ),
    _sample(
        "cve-xz",
        "kernel-gateway",
        "fail",
        "passes every check, but ECR's scan finds a critical CVE in xz-utils",
        labels={SCAN_RESULT_LABEL: json.dumps({"findings": [XZ_BACKDOOR]})},
    ),
    _sample("jupyterlab", "jupyterlab", "pass", "a compliant JupyterLab image"),
    _sample("jupyterlab-root", "jupyterlab", "fail", "runs as root", user="root"),
    _sample("code-editor", "code-editor", "pass", "a compliant Code Editor image"),
    _sample("rstudio", "rstudio", "pass", "a compliant RStudio session image"),
    _sample(
        "rstudio-no-env", "rstudio", "fail", "lacks the RStudio URL defaults", env=[f"PATH={DEFAULT_PATH}"]
    ),
    _sample("gp-kernel", "gateway-provisioners", "pass", "a compliant Gateway Provisioners kernel image"),
]
