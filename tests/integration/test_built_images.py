"""Verdicts on images made the way users make them, from real packages by real tools: a Debian
bookworm root filesystem by mmdebstrap with Debian's python3-ipykernel, pip installs from PyPI in a
chroot of it, and layers written by umoci (scripts/build-test-images.sh, `make test-images`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from studio_image.engine import inspect_image
from studio_image.findings import Profile, Severity
from studio_image.inventory import Inventory
from studio_image.policy import Policy
from studio_image.rules.judging import Report, Verdict, build_report
from studio_image.sources import open_source

SCRIPT = Path(__file__).parents[2] / "scripts" / "build-test-images.sh"
KG, LAB, GP = Profile.KERNEL_GATEWAY, Profile.JUPYTERLAB, Profile.GATEWAY_PROVISIONERS
RSTUDIO = Profile.RSTUDIO
DISTRO_KERNEL = "/usr/share/jupyter/kernels/python3/kernel.json"
VENV_KERNEL = "/opt/venv/share/jupyter/kernels/python3/kernel.json"


@pytest.fixture(scope="module")
def layout() -> Path:
    """The OCI layout `make test-images` built; `make test` requires it, a bare pytest skips."""
    printed = subprocess.run([str(SCRIPT), "--print-dir"], capture_output=True, text=True, check=True)
    path = Path(printed.stdout.strip())
    if not (path / "complete").exists():
        if os.environ.get("STUDIO_IMAGE_TEST_IMAGES") == "required":
            pytest.fail(f"no test images in {path}: `make test-images` builds them", pytrace=False)
        pytest.skip(f"no test images in {path}: run `make test-images` first")
    return path


@pytest.fixture(scope="module")
def check(layout):
    """The report on a case of the layout for a profile; each image is read once."""
    inventories: dict[str, Inventory] = {}

    def run(tag: str, profile: Profile, policy: Policy | None = None) -> Report:
        if tag not in inventories:
            with open_source(f"oci:{layout}:{tag}") as source:
                inventories[tag] = inspect_image(source)
        return build_report(inventories[tag], profile, policy)

    return run


def errors(report: Report) -> list[tuple[str, str | None]]:
    return [(f.rule, f.path) for f in report.findings if f.severity == Severity.ERROR]


def warnings(report: Report) -> list[str]:
    return sorted({f.rule for f in report.findings if f.severity == Severity.WARNING})


def test_debians_own_ipykernel_passes_kernel_gateway(check):
    # Given Debian's python3-ipykernel, which also leaves a wheel-data copy in dist-packages
    report = check("distro-kernel", KG)
    # Then the kernel is the one in /usr/share/jupyter, starting /usr/bin/python3, and the image passes
    assert [(k.name, k.path, k.argv[0]) for k in report.kernels] == [
        ("python3", DISTRO_KERNEL, "/usr/bin/python3")
    ]
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    kernel_specs = report.app_image_config_fields()["KernelGatewayImageConfig"]["KernelSpecs"]
    assert kernel_specs == [{"Name": "python3", "DisplayName": "Python 3 (ipykernel)"}]


def test_the_ipykernel_wheels_own_kernelspec_is_refused_for_kernel_gateway(check, layout):
    # Given a venv with ipykernel from PyPI, on the PATH, its wheel's kernel.json left in place
    report = check("venv-wheel", KG)
    kernel = next(k for k in report.kernels if k.name == "python3")
    assert (kernel.path, kernel.argv[0]) == (VENV_KERNEL, "python")
    # Then it is refused: the gateway would start its own Python; Debian's python3 is shadowed
    assert errors(report) == [("kernelspec-invalid", VENV_KERNEL)]
    assert "--sys-prefix" in report.findings[0].remediation
    assert [(f.rule, f.path) for f in report.findings if f.severity == Severity.WARNING] == [
        ("kernelspec-shadowed", DISTRO_KERNEL)
    ]


def test_ipykernel_install_sys_prefix_after_the_wheel_passes(check):
    # Given the same venv after `python -m ipykernel install --sys-prefix` (a layer on top)
    report = check("venv-sys-prefix", KG)
    # Then the kernel starts the venv's interpreter by its absolute path, and the image passes
    kernel = report.kernels[0]
    assert (kernel.path, kernel.argv[0]) == (VENV_KERNEL, "/opt/venv/bin/python")
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    assert warnings(report) == ["kernelspec-shadowed"]


def test_ipykernel_install_prefix_is_a_kernel_only_through_jupyter_path(check):
    # Given `ipykernel install --prefix /opt/kernels`: with JUPYTER_PATH naming it, and without
    listed, unlisted = check("venv-prefix", KG), check("venv-prefix-unlisted", KG)
    # Then only JUPYTER_PATH makes it a kernel, and it comes first
    assert [k.name for k in listed.kernels] == ["venv-prefix", "python3"]
    assert listed.kernels[0].path == "/opt/kernels/share/jupyter/kernels/venv-prefix/kernel.json"
    assert [k.name for k in unlisted.kernels] == ["python3"]
    assert listed.verdict == Verdict.PASS
    wanted = Policy(kernels=["venv-prefix"])
    assert errors(check("venv-prefix-unlisted", KG, wanted)) == [("kernelspec-missing", None)]
    assert errors(check("venv-prefix", KG, wanted)) == []


def test_ipykernel_install_user_writes_into_the_home_which_the_volume_hides(check):
    # Given `ipykernel install --user` run as sagemaker-user
    report = check("kernel-user", KG, Policy(kernels=["user-kernel"]))
    # Then it is no kernel: the policy's kernel is missing, and the home's files are a warning
    assert [k.name for k in report.kernels] == ["python3"]
    assert errors(report) == [("kernelspec-missing", None)]
    assert "mount-path-shadowed" in warnings(report)


def test_a_kernel_running_a_venv_in_the_home_is_refused(check):
    # Given a kernel whose argv[0] is a venv under /home/sagemaker-user
    report = check("kernel-home-venv", KG)
    # Then the interpreter does not exist at start, and the finding says the mount hides it
    assert errors(report) == [
        ("kernelspec-invalid", "/usr/local/share/jupyter/kernels/home-venv/kernel.json")
    ]
    assert "which the home volume hides at start" in report.findings[0].message


def test_jupyterlab_installed_with_pip_user_is_hidden_by_the_mount(check):
    # Given `pip install --user jupyterlab`, with ~/.local/bin on the PATH
    report = check("lab-user", LAB)
    # Then there is no server at start
    assert errors(report) == [("jupyter-server-missing", "/home/sagemaker-user/.local/bin/jupyter-lab")]
    assert report.app_image_config_fields()["JupyterLabAppImageConfig"].get("ContainerConfig") is None


def test_a_sagemaker_distribution_layout_passes_jupyterlab_with_warnings_at_most(check):
    # Given JupyterLab in /opt/conda on the PATH, user sagemaker-user 1000:100, an empty
    # /var/log/studio and files in the home, as sagemaker-distribution's Dockerfile lays them out
    report = check("distribution-like", LAB)
    # Then it passes; /var/log/studio and the home's files are warnings, as the specification
    # only recommends against them
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    assert warnings(report) == ["mount-path-shadowed", "reserved-path"]
    container = report.app_image_config_fields()["JupyterLabAppImageConfig"]["ContainerConfig"]
    assert container["ContainerEntrypoint"] == ["/opt/conda/bin/jupyter-lab"]


def test_a_gateway_provisioners_image_from_its_own_installer_passes(check):
    # Given `pip install gateway_provisioners` and `jupyter image-bootstrap install`, CMD the bootstrap
    report = check("provisioners", GP)
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    # While the Debian image without them (and without jovyan) is refused by the profile's rules
    assert {rule for rule, _ in errors(check("debian", GP))} == {
        "bootstrap-missing",
        "launchers-missing",
        "jovyan-user",
    }


def test_the_rstudio_packages_from_debian_are_found_and_only_the_missing_one_is_named(check):
    # Given sudo, OpenJDK 17, libpng, r-cran-reticulate, python3-boto3 and awscli from Debian
    report = check("rstudio-packages", RSTUDIO)
    # Then the one package the specification asks for that the image lacks is the sagemaker SDK
    missing = [f.message for f in report.findings if f.rule == "rstudio-packages"]
    assert missing == ["the Python package sagemaker is missing; SageMaker's RStudio integration needs it"]
    # And without them, each is named
    bare = [
        f.message.split(" is missing")[0]
        for f in check("debian", RSTUDIO).findings
        if f.rule == "rstudio-packages"
    ]
    assert bare == [
        "sudo",
        "a Java 11+ runtime (found no Java)",
        "libpng",
        "the R package reticulate",
        "the Python package boto3",
        "the Python package awscli",
        "the Python package sagemaker",
    ]


def test_each_case_is_the_shared_base_plus_the_layers_umoci_wrote_for_its_steps(layout):
    # Given the layout: umoci repack of the Debian root filesystem, then one repack per step of a case
    index = json.loads((layout / "index.json").read_text())
    manifests = {
        d["annotations"]["org.opencontainers.image.ref.name"]: json.loads(
            (layout / "blobs" / "sha256" / d["digest"].split(":")[1]).read_text()
        )
        for d in index["manifests"]
    }
    layers = {tag: [layer["digest"] for layer in m["layers"]] for tag, m in manifests.items()}
    # Then every case shares the base layer, and has one more layer per step it is built by
    expected = {"debian": 1, "venv-wheel": 2, "venv-sys-prefix": 3, "venv-prefix": 4, "distribution-like": 2}
    assert {tag: len(layers[tag]) for tag in expected} == expected
    assert len({digests[0] for digests in layers.values()}) == 1
    media_types = {layer["mediaType"] for m in manifests.values() for layer in m["layers"]}
    assert media_types == {"application/vnd.oci.image.layer.v1.tar+gzip"}
