"""Sample images that show what the checks catch. Built from generated files: no network.

Each looks like a real Studio image: a Debian-like base with /etc/passwd and /etc/group, a Python
environment under /opt/conda with a kernel.json written as ipykernel writes it, and a few hundred
library files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .ocibuild import ImageSpec, Layer, build_image

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


def base_layer() -> Layer:
    layer = Layer()
    for directory in ("bin", "etc", "home", "opt", "root", "tmp", "usr", "usr/bin", "usr/lib", "var"):
        layer.dir(directory)
    layer.file("etc/passwd", PASSWD).file("etc/group", GROUP).file("etc/os-release", OS_RELEASE)
    for tool in ("bash", "sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "chmod", "chown"):
        layer.file(f"usr/bin/{tool}", b"\x7fELF" + tool.encode() * 200, mode=0o755)
    for index in range(60):
        layer.file(f"usr/lib/x86_64-linux-gnu/lib{index:02d}.so.1", b"\x7fELF" + bytes(2000))
    layer.dir("home/sagemaker-user", uid=1000, gid=100)
    return layer


def python_layer(kernel_python: str = PYTHON) -> Layer:
    layer = Layer()
    layer.dir("opt/conda").dir("opt/conda/bin")
    layer.file(PYTHON, b"\x7fELF" + b"python" * 3000, mode=0o755)
    layer.symlink("opt/conda/bin/python", "python3.11").symlink("opt/conda/bin/python3", "python3.11")
    site = "opt/conda/lib/python3.11/site-packages"
    for package in ("ipykernel", "jupyter_client", "traitlets", "tornado", "pandas", "numpy", "boto3"):
        for module in range(25):
            layer.file(f"{site}/{package}/mod{module:02d}.py", f"# {package} module {module}\n" * 40)
        layer.file(f"{site}/{package}-1.0.dist-info/METADATA", f"Name: {package}\nVersion: 1.0\n")
    layer.file("opt/conda/share/jupyter/kernels/python3/kernel.json", ipykernel_json(kernel_python))
    return layer


@dataclass(frozen=True)
class Sample:
    name: str
    profile: str
    expect: str  # "pass" or "fail"
    why: str
    build: Callable[[Path], str]  # writes the image under a directory, returns its reference


def _image(
    name: str, extra: Callable[[], list[Layer]] | None = None, **spec: object
) -> Callable[[Path], str]:
    def build(root: Path) -> str:
        layers = [base_layer(), python_layer(), *(extra() if extra else [])]
        return build_image(root / name, ImageSpec(layers=layers, user="sagemaker-user", **spec))  # type: ignore[arg-type]

    return build


SAMPLES = [
    Sample("datascience", "kernel-gateway", "pass", "a compliant KernelGateway image", _image("datascience")),
    Sample(
        "arm64-only",
        "kernel-gateway",
        "fail",
        "built on an arm64 laptop",
        _image("arm64-only", architecture="arm64"),
    ),
    Sample(
        "opt-ml",
        "kernel-gateway",
        "fail",
        "writes a model under the reserved /opt/ml",
        _image(
            "opt-ml",
            lambda: [
                Layer().dir("opt/ml").dir("opt/ml/model").file("opt/ml/model/model.pkl", b"\x80\x04" * 500)
            ],
        ),
    ),
    Sample(
        "opt-ml-removed",
        "kernel-gateway",
        "pass",
        "/opt/ml written, then deleted by a later layer",
        _image(
            "opt-ml-removed",
            lambda: [Layer().dir("opt/ml").file("opt/ml/cache.bin", b"x" * 100), Layer().whiteout("opt/ml")],
        ),
    ),
]
