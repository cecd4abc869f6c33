"""Kernels found as Jupyter finds them, and programs looked up as they are when Studio starts the app:
the gateway's own Python replaces a bare `python`, and the home volume hides what the image put there.

Images start from the sandbox's compliant image for the profile (Python in /opt/conda, on PATH) and
change one thing."""

import pytest

from studio_image.facts import Facts
from studio_image.findings import Profile, Severity
from studio_image.policy import Policy
from studio_image.rules import evaluate
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import CONDA_PATH, DEFAULT_PATH, ipykernel_json
from tests.conftest import inspect_reference

KG = Profile.KERNEL_GATEWAY
CONDA_KERNEL = "/opt/conda/share/jupyter/kernels/python3/kernel.json"  # the compliant image's
LOCAL_KERNELS = "usr/local/share/jupyter/kernels"
HOME = "home/sagemaker-user"


@pytest.fixture
def image(make_compliant):
    """The inventory of the profile's compliant image plus `layers` and `changes`."""

    def make(*layers, profile=KG, **changes):
        return inspect_reference(make_compliant(*layers, profile=profile, **changes))

    return make


def findings(inventory, rule, profile=KG, policy=None):
    return [f for f in evaluate(inventory, profile, policy) if f.rule == rule]


def kernels(inventory, mount="/home/sagemaker-user"):
    return [(k.name, k.path) for k in Facts(inventory, mount).kernels]


def python_file(layer: Layer, path: str) -> Layer:
    return layer.file(path, b"\x7fELF", mode=0o755)


def test_jupyter_order_jupyter_path_then_the_prefix_of_the_python_on_path_then_the_system(image):
    # Given python3 kernels in a JUPYTER_PATH entry, in /opt/conda (the prefix of the python on
    # PATH) and in /usr/local/share/jupyter, and a kernel only /usr/share/jupyter has
    layer = (
        Layer()
        .file("opt/kernels/kernels/python3/kernel.json", ipykernel_json())
        .file(f"{LOCAL_KERNELS}/python3/kernel.json", ipykernel_json())
        .file("usr/share/jupyter/kernels/Other/kernel.json", ipykernel_json())
    )
    inventory = image(layer, env=[f"PATH={CONDA_PATH}", "JUPYTER_PATH=/nowhere:/opt/kernels/"])
    # When kernels are discovered, the JUPYTER_PATH one is python3, and names are lower-cased
    assert kernels(inventory) == [
        ("python3", "/opt/kernels/kernels/python3/kernel.json"),
        ("other", "/usr/share/jupyter/kernels/Other/kernel.json"),
    ]
    # Then each kernel.json it hides is a warning naming both files
    shadowed = findings(inventory, "kernelspec-shadowed")
    assert [(f.severity, f.path) for f in shadowed] == [
        (Severity.WARNING, CONDA_KERNEL),
        (Severity.WARNING, f"/{LOCAL_KERNELS}/python3/kernel.json"),
    ]
    assert "/opt/kernels/kernels/python3/kernel.json comes first" in shadowed[0].message


def test_without_a_python_on_path_its_prefix_is_not_searched(image):
    # Given the compliant image with /opt/conda/bin off the PATH
    inventory = image(env=[f"PATH={DEFAULT_PATH}"])
    # Then the kernel under /opt/conda is no kernel, and KernelGateway has none
    assert kernels(inventory) == []
    assert [f.severity for f in findings(inventory, "kernelspec-missing")] == [Severity.ERROR]


def test_a_venv_prefix_is_where_pyvenv_cfg_is(image):
    # Given a venv whose python links to /opt/conda's, with a kernel in the venv's share/jupyter
    venv = (
        Layer()
        .symlink("opt/venv/bin/python3", "/opt/conda/bin/python3.11")
        .file("opt/venv/share/jupyter/kernels/venv/kernel.json", ipykernel_json("/opt/venv/bin/python3"))
    )
    path = [f"PATH=/opt/venv/bin:{CONDA_PATH}"]
    # When the venv has its pyvenv.cfg, its prefix is the venv: its kernel counts, not /opt/conda's
    with_cfg = image(Layer().file("opt/venv/pyvenv.cfg", "home = /opt/conda/bin\n"), venv, env=path)
    assert [name for name, _ in kernels(with_cfg)] == ["venv"]
    # Without one, Python follows the link to /opt/conda: the venv's data directory is not searched
    assert [name for name, _ in kernels(image(venv, env=path))] == ["python3"]


def test_a_debian_layout_finds_the_kernel_in_usr_share_not_the_one_in_dist_packages(image):
    # Given Debian's python3-ipykernel layout: /usr/bin/python3 -> python3.11, the stdlib landmark,
    # a kernel in /usr/share/jupyter and a wheel-data copy with a bare "python" in dist-packages
    debian = python_file(Layer(), "usr/bin/python3.11").symlink("usr/bin/python3", "python3.11")
    debian.file("usr/lib/python3.11/os.py", "")
    debian.file("usr/share/jupyter/kernels/python3/kernel.json", ipykernel_json("/usr/bin/python3"))
    debian.file(
        "usr/lib/python3/dist-packages/share/jupyter/kernels/python3/kernel.json", ipykernel_json("python")
    )
    debian.whiteout("opt/conda")
    inventory = image(debian, env=[f"PATH={DEFAULT_PATH}"])
    # Then the one kernel is /usr/share's, and KernelGateway finds nothing wrong with it
    assert kernels(inventory) == [("python3", "/usr/share/jupyter/kernels/python3/kernel.json")]
    assert findings(inventory, "kernelspec-invalid") == []


@pytest.mark.parametrize("program", ["python", "python3", "python3.12"])
def test_a_bare_python_is_the_gateways_own_interpreter(image, program):
    # Given a kernel that starts a bare python, which /opt/conda/bin on the PATH has
    layer = Layer().file(f"{LOCAL_KERNELS}/bare/kernel.json", ipykernel_json(program))
    layer.symlink("opt/conda/bin/python3.12", "python3.11")
    # Then KernelGateway refuses it, naming the file and the fix, with or without python on the PATH
    for path in (CONDA_PATH, DEFAULT_PATH):
        (finding,) = findings(image(layer, env=[f"PATH={path}"]), "kernelspec-invalid")
        assert (finding.severity, finding.path) == (Severity.ERROR, f"/{LOCAL_KERNELS}/bare/kernel.json")
        assert "SageMaker's own Python" in finding.message
        assert "--sys-prefix" in finding.remediation
    # And a Gateway Provisioners host runs it with the Python on the PATH, as it should
    provisioners = image(layer, profile=Profile.GATEWAY_PROVISIONERS, env=[f"PATH={CONDA_PATH}"])
    assert findings(provisioners, "kernelspec-invalid", Profile.GATEWAY_PROVISIONERS) == []


def test_an_earlier_valid_kernel_hides_a_bare_one(image):
    # Given the bare python3 kernel in /usr/local/share/jupyter, after /opt/conda's valid python3
    layer = Layer().file(f"{LOCAL_KERNELS}/python3/kernel.json", ipykernel_json("python"))
    inventory = image(layer)
    # Then it is never started: a warning, not an error
    assert findings(inventory, "kernelspec-invalid") == []
    assert [f.path for f in findings(inventory, "kernelspec-shadowed")] == [
        f"/{LOCAL_KERNELS}/python3/kernel.json"
    ]


@pytest.mark.parametrize("mount", ["/home/sagemaker-user", "/home/jovyan"])
def test_a_kernel_interpreter_under_the_mount_does_not_exist_at_start(image, mount):
    # Given a kernel whose interpreter is a venv in the home (KernelGateway's mount path from the policy)
    venv_python = f"{mount}/venv/bin/python"
    layer = python_file(Layer(), venv_python.lstrip("/"))
    layer.file(f"{LOCAL_KERNELS}/home/kernel.json", ipykernel_json(venv_python))
    # Then the kernel is invalid: its interpreter is hidden by the mount
    (finding,) = findings(image(layer), "kernelspec-invalid", policy=Policy(mount_path=mount))
    assert finding.path == f"/{LOCAL_KERNELS}/home/kernel.json"
    assert f"under {mount}, which the home volume hides" in finding.message
    assert f"outside {mount}" in finding.remediation
    # And outside the mount path the same file is fine
    assert findings(image(layer), "kernelspec-invalid", policy=Policy(mount_path="/mnt/home")) == []


@pytest.mark.parametrize(
    "profile, rule, program",
    [
        (Profile.JUPYTERLAB, "jupyter-server-missing", "jupyter-lab"),
        (Profile.CODE_EDITOR, "code-editor-missing", "sagemaker-code-editor"),
    ],
)
def test_a_server_installed_with_pip_user_is_hidden_by_the_mount(image, profile, rule, program):
    # Given the server only in ~/.local/bin, which is on the PATH, and nowhere else
    removed = Layer().whiteout(f"opt/conda/bin/{program}")
    user = python_file(Layer(), f"{HOME}/.local/bin/{program}")
    path = [f"PATH=/{HOME}/.local/bin:{CONDA_PATH}"]
    # Then the app has no server at start, and the finding says the mount hides it
    (finding,) = findings(image(removed, user, profile=profile, env=path), rule, profile)
    assert (finding.severity, finding.path) == (Severity.ERROR, f"/{HOME}/.local/bin/{program}")
    assert "the home volume hides" in finding.message and "not with pip --user" in finding.remediation
    # While a symlink on the PATH into the home is no better
    linked = Layer().symlink(f"usr/local/bin/{program}", f"/{HOME}/.local/bin/{program}")
    assert [f.severity for f in findings(image(removed, user, linked, profile=profile), rule, profile)] == [
        Severity.ERROR
    ]


def test_a_bootstrap_script_linked_into_the_home_is_missing_at_start(image):
    # Given the Gateway Provisioners bootstrap replaced by a link into the home
    bootstrap = "usr/local/bin/bootstrap-kernel.sh"
    layer = Layer().whiteout(bootstrap).symlink(bootstrap, f"/{HOME}/bootstrap-kernel.sh")
    layer.file(f"{HOME}/bootstrap-kernel.sh", "#!/bin/bash\n", mode=0o755)
    found = findings(
        image(layer, profile=Profile.GATEWAY_PROVISIONERS), "bootstrap-missing", Profile.GATEWAY_PROVISIONERS
    )
    assert [f.severity for f in found] == [Severity.ERROR]
    assert "hides at start" in found[0].message


ROOT_KERNEL = "root/.local/share/jupyter/kernels/python3/kernel.json"  # `ipykernel install --user` as root


def test_the_users_data_dir_comes_before_the_python_prefix_when_the_home_is_not_mounted(image):
    # Given root's `ipykernel install --user` kernel and /opt/conda's python3 (a prefix, not a venv)
    layer = Layer().file(ROOT_KERNEL, ipykernel_json("/usr/bin/python3"))
    as_root = image(layer, user="")
    # Then root's data directory is searched right after JUPYTER_PATH: its python3 is the kernel
    assert kernels(as_root) == [("python3", f"/{ROOT_KERNEL}")]
    assert [f.path for f in findings(as_root, "kernelspec-shadowed")] == [CONDA_KERNEL]
    # Unless the image prefers the environment (JUPYTER_PREFER_ENV_PATH), or XDG_DATA_HOME moves it
    prefer_env = image(layer, user="", env=[f"PATH={CONDA_PATH}", "JUPYTER_PREFER_ENV_PATH=1"])
    assert [f.path for f in findings(prefer_env, "kernelspec-shadowed")] == [f"/{ROOT_KERNEL}"]
    moved = image(layer, user="", env=[f"PATH={CONDA_PATH}", "XDG_DATA_HOME=/srv/data"])
    assert kernels(moved) == [("python3", CONDA_KERNEL)]
    # And IPython's kernel directory (~/.ipython/kernels) is searched last
    legacy = Layer().file("root/.ipython/kernels/legacy/kernel.json", ipykernel_json("/usr/bin/python3"))
    assert kernels(image(layer, legacy, user=""))[-1] == (
        "legacy",
        "/root/.ipython/kernels/legacy/kernel.json",
    )
    # And sagemaker-user's data directory is in the home, which the volume hides
    home = image(Layer().file(f"{HOME}/.local/share/jupyter/kernels/mine/kernel.json", ipykernel_json()))
    assert kernels(home) == [("python3", CONDA_KERNEL)]


def test_a_venv_its_user_owns_comes_before_the_users_data_dir(image):
    # Given root running a venv it owns (pyvenv.cfg) that has a python3 kernel, and root's own python3
    venv = (
        Layer()
        .symlink("opt/venv/bin/python3", "/opt/conda/bin/python3.11")
        .file("opt/venv/pyvenv.cfg", "home = /opt/conda/bin\n")
        .file("opt/venv/share/jupyter/kernels/python3/kernel.json", ipykernel_json("/opt/venv/bin/python3"))
        .file(ROOT_KERNEL, ipykernel_json("/usr/bin/python3"))
    )
    inventory = image(venv, user="", env=[f"PATH=/opt/venv/bin:{CONDA_PATH}"])
    # Then Jupyter prefers the environment: the venv's python3 hides root's
    assert kernels(inventory) == [("python3", "/opt/venv/share/jupyter/kernels/python3/kernel.json")]
    assert [f.path for f in findings(inventory, "kernelspec-shadowed")] == [f"/{ROOT_KERNEL}"]
