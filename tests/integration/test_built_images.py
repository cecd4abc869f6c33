"""Verdicts on images made the way users make them, from real packages by real tools: a Debian
bookworm root filesystem by mmdebstrap with Debian's python3-ipykernel, pip installs from PyPI in a
chroot of it, and layers written by umoci (scripts/build-test-images.sh, `make test-images`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio_image.engine import inspect_image
from studio_image.findings import Profile, Severity
from studio_image.inventory import Inventory
from studio_image.oci import Platform
from studio_image.policy import Policy
from studio_image.rules import RULES
from studio_image.rules.judging import Report, Verdict, build_report
from studio_image.sources import open_source

KG, LAB, GP = Profile.KERNEL_GATEWAY, Profile.JUPYTERLAB, Profile.GATEWAY_PROVISIONERS
RSTUDIO, CODE_EDITOR = Profile.RSTUDIO, Profile.CODE_EDITOR
DISTRO_KERNEL = "/usr/share/jupyter/kernels/python3/kernel.json"
VENV_KERNEL = "/opt/venv/share/jupyter/kernels/python3/kernel.json"
ROOT_KERNEL = "/root/.local/share/jupyter/kernels/python3/kernel.json"


@pytest.fixture(scope="module")
def layout(test_images: Path) -> Path:
    return test_images / "layout"


@pytest.fixture(scope="module")
def check(layout):
    """The report on a case of the layout for a profile; each image is read once."""
    inventories: dict[str, Inventory] = {}

    def run(
        tag: str, profile: Profile, policy: Policy | None = None, platform: Platform | None = None
    ) -> Report:
        key = f"{tag} {platform}"
        if key not in inventories:
            with open_source(f"oci:{layout}:{tag}") as source:
                inventories[key] = inspect_image(source, platform=platform)
        return build_report(inventories[key], profile, policy)

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
    assert len({digests[0] for tag, digests in layers.items() if tag != "arm64"}) == 1
    media_types = {layer["mediaType"] for m in manifests.values() for layer in m["layers"]}
    assert media_types == {"application/vnd.oci.image.layer.v1.tar+gzip"}


FIVE = Policy(kernels=["python3", "extra-1", "extra-2", "extra-3", "extra-4"])

# For every rule, a built image that trips it, and a near miss that does not: (tag, profile, policy).
TRIPS: dict[str, tuple[str, Profile, Policy | None]] = {
    "platform": ("arm64", KG, None),
    "image-size": ("debian", KG, Policy(max_image_bytes={KG: 100_000_000})),
    "reserved-path": ("reserved", KG, None),
    "layer-anomaly": ("layer-anomaly", KG, None),
    "owner-id-range": ("reserved", KG, None),
    "user-unknown": ("user-unknown", KG, None),
    "nvidia-driver": ("nvidia", KG, None),
    "required-path": ("debian", KG, Policy(required_paths=["/usr/bin/git"])),
    "mount-path-shadowed": ("kernel-user", KG, None),
    "user-ids": ("debian", LAB, None),
    "entrypoint-ignored": ("provisioners", KG, None),
    "kernelspec-missing": ("arm64", KG, None),
    "kernelspec-invalid": ("venv-wheel", KG, None),
    "kernelspec-shadowed": ("venv-sys-prefix", KG, None),
    "kernelspec-limit": ("kernels-six", KG, None),
    "rstudio-env": ("rstudio-no-env", RSTUDIO, None),
    "rstudio-version": ("rstudio-old", RSTUDIO, None),
    "rstudio-packages": ("rstudio-packages", RSTUDIO, None),
    "jupyter-server-missing": ("lab-user", LAB, None),
    "code-editor-missing": ("distribution-like", CODE_EDITOR, None),
    "bootstrap-missing": ("debian", GP, None),
    "launchers-missing": ("debian", GP, None),
    "jovyan-user": ("debian", GP, None),
}
NEAR_MISSES: dict[str, tuple[str, Profile, Policy | None]] = {
    "platform": ("debian", KG, None),
    "image-size": ("debian", KG, None),
    "reserved-path": ("distro-kernel", KG, None),
    "layer-anomaly": ("debian", KG, None),
    "owner-id-range": ("debian", KG, None),
    "user-unknown": ("distribution-like", KG, None),
    "nvidia-driver": ("debian", KG, None),
    "required-path": ("debian", KG, Policy(required_paths=["/bin/sh"])),  # through usr-merge's /bin
    "mount-path-shadowed": ("kernel-user-root", KG, None),
    "user-ids": ("distribution-like", LAB, None),
    "entrypoint-ignored": ("distro-kernel", KG, None),
    "kernelspec-missing": ("distro-kernel", KG, None),
    "kernelspec-invalid": ("venv-sys-prefix", KG, None),
    "kernelspec-shadowed": ("distro-kernel", KG, None),
    "kernelspec-limit": ("kernels-six", KG, FIVE),
    "rstudio-env": ("rstudio", RSTUDIO, None),
    "rstudio-version": ("rstudio-declared", RSTUDIO, None),
    "rstudio-packages": ("rstudio", RSTUDIO, None),
    "jupyter-server-missing": ("distribution-like", LAB, None),
    "code-editor-missing": ("code-editor", CODE_EDITOR, None),
    "bootstrap-missing": ("provisioners", GP, None),
    "launchers-missing": ("provisioners", GP, None),
    "jovyan-user": ("provisioners", GP, None),
}


def test_every_rule_has_a_built_image_that_trips_it_and_a_near_miss():
    assert set(TRIPS) == set(NEAR_MISSES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_trips_on_its_image_and_not_on_its_near_miss(check, rule):
    tag, profile, policy = TRIPS[rule]
    assert rule in {f.rule for f in check(tag, profile, policy).findings}, tag
    tag, profile, policy = NEAR_MISSES[rule]
    assert rule not in {f.rule for f in check(tag, profile, policy).findings}, tag


def test_code_server_from_npm_passes_code_editor(check):
    # Given code-server (npm, built against Debian's Node 18) in the sagemaker-distribution-like
    # /opt/conda, on the PATH, run as sagemaker-user
    report = check("code-editor", CODE_EDITOR)
    # Then it passes with the distribution's own warnings, and registration starts code-server with
    # the options its command line takes
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    assert warnings(report) == ["mount-path-shadowed", "reserved-path"]
    container = report.app_image_config_fields()["CodeEditorAppImageConfig"]["ContainerConfig"]
    assert container == {
        "ContainerEntrypoint": ["/opt/conda/bin/code-server"],
        "ContainerArguments": ["--bind-addr", "0.0.0.0:8888", "--auth", "none"],
    }
    # While JupyterLab alone is no Code Editor
    assert errors(check("distribution-like", CODE_EDITOR)) == [("code-editor-missing", None)]


def test_the_rstudio_specifications_packages_pass_without_workbench_with_a_version_warning(check):
    # Given all the RStudio specification installs (Debian's sudo, OpenJDK 17, libpng, reticulate;
    # pip's boto3, awscli and sagemaker in /opt/python) and its two URLs, but not Workbench itself
    report = check("rstudio", RSTUDIO)
    # Then it passes; that the version is unknown is a warning
    assert (report.verdict, errors(report)) == (Verdict.PASS, [])
    assert warnings(report) == ["rstudio-version"]
    # Declaring the current minimum passes clean; the specification's old minimum is refused
    assert [f.rule for f in check("rstudio-declared", RSTUDIO).findings] == []
    old = check("rstudio-old", RSTUDIO)
    assert [f.message for f in old.findings] == [
        "RStudio 2022.02.2+485.pro2 is older than the supported minimum 2025.05.1+513.pro3"
    ]
    # And without the URLs' defaults, each is named
    assert [f.message for f in check("rstudio-no-env", RSTUDIO).findings if f.rule == "rstudio-env"] == [
        "RSTUDIO_CONNECT_URL has no default value in the image's environment",
        "RSTUDIO_PACKAGE_MANAGER_URL has no default value in the image's environment",
    ]


def test_ipykernel_install_user_as_root_is_a_kernel_in_jupyters_order(check):
    # Given `python3 -m ipykernel install --user` run as root: /root is no volume's mount point
    debian = check("kernel-user-root", KG)
    # Then with Debian's python3 (no venv) root's data directory comes before the system's
    assert [(k.name, k.path) for k in debian.kernels] == [("python3", ROOT_KERNEL)]
    assert [(f.rule, f.path) for f in debian.findings] == [("kernelspec-shadowed", DISTRO_KERNEL)]
    # And with the venv root owns on the PATH, after the venv's, as ipykernel's own warning during the
    # build listed jupyter_path: /opt/venv/share/jupyter, /root/.local/share/jupyter, then the system
    venv = check("venv-kernel-user-root", KG)
    assert [(k.name, k.path) for k in venv.kernels] == [("python3", VENV_KERNEL)]
    assert sorted(f.path for f in venv.findings if f.rule == "kernelspec-shadowed") == [
        ROOT_KERNEL,
        DISTRO_KERNEL,
    ]


def test_six_kernels_register_five_and_say_which(check):
    # Given five `ipykernel install --prefix /usr/local` kernels beside Debian's python3
    report = check("kernels-six", KG)
    # Then the AppImageConfig takes the first five in Jupyter's order, and a warning names the sixth
    specs = report.app_image_config_fields()["KernelGatewayImageConfig"]["KernelSpecs"]
    assert [s["Name"] for s in specs] == ["extra-1", "extra-2", "extra-3", "extra-4", "extra-5"]
    (limit,) = [f for f in report.findings if f.rule == "kernelspec-limit"]
    assert limit.message.endswith("not python3")
    assert report.verdict == Verdict.PASS


def test_reserved_paths_and_owner_ids_name_exactly_what_trips(check):
    # Given /opt/ml/code and /opt/mlflow, and files owned by 70000 and by 65535
    report = check("reserved", KG)
    # Then /opt/ml is reserved and /opt/mlflow is not; 70000 is out of range and 65535 is not
    assert errors(report) == [
        ("owner-id-range", "/srv/data/uid-70000"),
        ("reserved-path", "/opt/ml/code/ipykernel_launcher.py"),
    ]


def test_nvidias_driver_library_is_refused_and_the_cuda_runtime_is_not(check):
    # Given Debian's libcuda1 and libcudart11.0, unpacked by dpkg-deb
    report = check("nvidia", KG)
    named = [f.path for f in report.findings if f.rule == "nvidia-driver"]
    # Then the driver's libcuda.so.* are named, and no file of the CUDA runtime
    assert named and all("libcuda.so." in path for path in named)
    assert not any("libcudart" in (f.path or "") for f in report.findings)


def test_a_tar_member_that_climbs_out_of_the_root_is_refused(check):
    # Given a GNU tar layer with ../escape beside etc/..hidden
    report = check("layer-anomaly", KG)
    # Then only the escape is an anomaly; the dotted name is an ordinary file
    assert [(f.rule, f.path) for f in report.findings if f.rule == "layer-anomaly"] == [
        ("layer-anomaly", "../escape")
    ]


def test_an_arm64_image_is_refused_and_a_platform_it_is_not_is_named(check):
    # Given Debian's arm64 busybox, and the amd64 Debian image asked for as linux/arm64
    arm64 = check("arm64", KG)
    assert ("platform", None) in errors(arm64)
    mismatch = check("debian", KG, platform=Platform(architecture="arm64"))
    # Then both are refused by the platform rule, the second naming what the image is
    (finding,) = [f for f in mismatch.findings if f.rule == "platform"]
    assert "linux/amd64" in finding.message
