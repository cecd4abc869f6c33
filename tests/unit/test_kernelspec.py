"""`studio-image kernelspec` writes what `jupyter k8s-spec install` / `docker-spec install` write."""

import json

import pytest

from studio_image.cli import main

# The kernel.json the Gateway Provisioners documentation shows for
# `jupyter k8s-spec install --image-name acme/data-sci-py:2.0 --kernel-name data_sci_py \
#   --display-name "Data Science 2.0"`
DOCUMENTED = """{
  "argv": [
    "python",
    "/usr/local/share/jupyter/kernels/data_sci_py/scripts/launch_kubernetes.py",
    "--kernel-id",
    "{kernel_id}",
    "--port-range",
    "{port_range}",
    "--response-address",
    "{response_address}",
    "--public-key",
    "{public_key}",
    "--kernel-class-name",
    "ipykernel.ipkernel.IPythonKernel"
  ],
  "env": {},
  "display_name": "Data Science 2.0",
  "language": "python",
  "interrupt_mode": "signal",
  "metadata": {
    "debugger": true,
    "kernel_provisioner": {
      "provisioner_name": "kubernetes-provisioner",
      "config": {
        "image_name": "acme/data-sci-py:2.0",
        "launch_timeout": 30
      }
    }
  }
}
"""

ARGS = [
    "--image-name",
    "acme/data-sci-py:2.0",
    "--kernel-name",
    "data_sci_py",
    "--display-name",
    "Data Science 2.0",
]


def test_kubernetes_kernelspec_is_the_documented_one(tmp_path, capsys):
    code = main(["kernelspec", "--provisioner", "kubernetes", *ARGS, "--output", str(tmp_path / "ks")])
    assert code == 0
    assert (tmp_path / "ks" / "kernel.json").read_text() == DOCUMENTED
    assert "install it as /usr/local/share/jupyter/kernels/data_sci_py" in capsys.readouterr().out


def test_docker_kernelspec_names_its_provisioner_launcher_and_timeout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        "kernelspec",
        "--provisioner",
        "docker",
        *ARGS[:2],
        "--kernel-name",
        "Data Sci",
        "--display-name",
        "D",
    ]
    assert main([*args, "--launch-timeout", "90", "--kernels-dir", "/srv/kernels"]) == 0
    spec = json.loads((tmp_path / "Data_Sci" / "kernel.json").read_text())  # spaces become underscores
    assert spec["argv"][1] == "/srv/kernels/Data_Sci/scripts/launch_docker.py"
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "docker-provisioner",
        "config": {"image_name": "acme/data-sci-py:2.0", "launch_timeout": 90},
    }


def test_an_existing_kernelspec_is_kept_unless_replaced(tmp_path, capsys):
    out = ["--output", str(tmp_path)]
    (tmp_path / "kernel.json").write_text("{}")
    assert main(["kernelspec", "--provisioner", "kubernetes", *ARGS, *out]) == 2
    assert "KernelSpecInvalid" in capsys.readouterr().err
    assert (tmp_path / "kernel.json").read_text() == "{}"
    assert main(["kernelspec", "--provisioner", "kubernetes", *ARGS, *out, "--replace"]) == 0
    assert (tmp_path / "kernel.json").read_text() == DOCUMENTED


@pytest.mark.parametrize(
    "change, problem",
    [
        (["--kernel-name", "../escape"], "kernel_name"),
        (["--launch-timeout", "0"], "launch_timeout"),
        (["--image-name", ""], "image_name"),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(tmp_path, capsys, change, problem):
    code = main(
        ["kernelspec", "--provisioner", "kubernetes", *ARGS, *change, "--output", str(tmp_path / "k")]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(f"studio-image: KernelSpecInvalid: {problem}:")
    assert not (tmp_path / "k").exists()
