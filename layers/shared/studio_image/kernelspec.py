"""Kernel specifications for Gateway Provisioners kernel images, written as `jupyter k8s-spec install`
and `jupyter docker-spec install` write them, so a host can list an image without those tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from .errors import KernelSpecInvalid, ReferenceInvalid
from .sources.reference import parse_registry_reference

KERNELS_DIR = "/usr/local/share/jupyter/kernels"  # Jupyter's system kernels directory
PROVISIONERS = {  # provisioner -> (its entry-point name, the launcher script in the spec's scripts/)
    "kubernetes": ("kubernetes-provisioner", "launch_kubernetes.py"),
    "docker": ("docker-provisioner", "launch_docker.py"),
}
IPYKERNEL_CLASS = "ipykernel.ipkernel.IPythonKernel"


class ProvisionerKernelSpec(BaseModel):
    provisioner: Literal["kubernetes", "docker"]
    image_name: str = Field(min_length=1)
    kernel_name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(min_length=1)
    language: Literal["python"] = "python"
    launch_timeout: int = Field(default=30, gt=0)

    @field_validator("image_name")
    @classmethod
    def _image_reference(cls, value: str) -> str:
        try:
            parse_registry_reference(
                value, what=f"{value!r} is not an image reference HOST[:PORT]/NAME[:TAG][@DIGEST]"
            )
        except ReferenceInvalid as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("kernel_name", mode="before")
    @classmethod
    def _underscores(cls, value: str) -> str:
        return value.replace(" ", "_")  # as the Gateway Provisioners installers do

    def install_dir(self, kernels_dir: str = KERNELS_DIR) -> str:
        return f"{kernels_dir.rstrip('/')}/{self.kernel_name}"

    def kernel_json(self, install_dir: str) -> dict[str, object]:
        provisioner, launcher = PROVISIONERS[self.provisioner]
        # the key order of jupyter_client's KernelSpec.to_dict(), which the installers write
        return {
            "argv": [
                "python",
                f"{install_dir}/scripts/{launcher}",
                "--kernel-id",
                "{kernel_id}",
                "--port-range",
                "{port_range}",
                "--response-address",
                "{response_address}",
                "--public-key",
                "{public_key}",
                "--kernel-class-name",
                IPYKERNEL_CLASS,
            ],
            "env": {},
            "display_name": self.display_name,
            "language": self.language,
            "interrupt_mode": "signal",
            "metadata": {
                "debugger": True,
                "kernel_provisioner": {
                    "provisioner_name": provisioner,
                    "config": {"image_name": self.image_name, "launch_timeout": self.launch_timeout},
                },
            },
        }


def write_kernelspec(
    spec: ProvisionerKernelSpec, output: Path, kernels_dir: str = KERNELS_DIR, replace: bool = False
) -> Path:
    """Write `output`/kernel.json for a host that will hold it under `kernels_dir`/<kernel name>."""
    path = output / "kernel.json"
    if path.exists() and not replace:
        raise KernelSpecInvalid(f"{path} exists; pass --replace to overwrite it")
    output.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.kernel_json(spec.install_dir(kernels_dir)), indent=2) + "\n")
    return path
