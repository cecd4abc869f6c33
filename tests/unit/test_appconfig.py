"""The AppImageConfig derived from an image is a valid CreateAppImageConfig request."""

import botocore.session
import pytest
from botocore.validate import ParamValidator

from studio_image.appconfig import derive_app_image_config
from studio_image.facts import Facts
from studio_image.findings import Profile
from studio_image.policy import Policy
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import executable, ipykernel_json
from tests.conftest import inspect_reference

REQUEST_SHAPE = (
    botocore.session.get_session()
    .get_service_model("sagemaker")
    .operation_model("CreateAppImageConfig")
    .input_shape
)


@pytest.fixture
def derive(make_compliant):
    def run(profile, *layers, policy=None, **changes):
        inventory = inspect_reference(make_compliant(*layers, profile=profile, **changes))
        return derive_app_image_config(profile, Facts(inventory), policy or Policy())

    return run


def valid_request(config):
    request = config.request("my-image-config")
    report = ParamValidator().validate(request, REQUEST_SHAPE)
    assert not report.has_errors(), report.generate_report()
    return request


def test_kernel_gateway_config_has_the_kernels_and_the_image_user(derive):
    request = valid_request(derive(Profile.KERNEL_GATEWAY))
    assert request == {
        "AppImageConfigName": "my-image-config",
        "KernelGatewayImageConfig": {
            "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3 (ipykernel)"}],
            "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000, "DefaultGid": 100},
        },
    }


def test_kernel_gateway_config_follows_the_policy_kernels_and_mount_path(derive):
    env = executable(Layer(), "opt/conda/envs/r/bin/python").file(
        "opt/conda/envs/r/conda-meta/ipykernel-6.0-0.json", "{}"
    )
    ir = Layer().file(
        "usr/local/share/jupyter/kernels/ir/kernel.json", ipykernel_json("/opt/conda/bin/python", "R")
    )
    policy = Policy(kernels=["ir", "conda-env-r-py"], mount_path="/home/studio")
    request = valid_request(derive(Profile.KERNEL_GATEWAY, env, ir, policy=policy, user="root"))
    config = request["KernelGatewayImageConfig"]
    assert config["KernelSpecs"] == [
        {"Name": "ir", "DisplayName": "R"},
        {"Name": "conda-env-r-py", "DisplayName": "Python [conda env:r]"},
    ]
    assert config["FileSystemConfig"] == {"MountPath": "/home/studio", "DefaultUid": 0, "DefaultGid": 0}


def test_five_kernels_at_most_are_registered(derive):
    layer = Layer()
    for name in "abcdefg":
        layer.file(f"usr/local/share/jupyter/kernels/{name}/kernel.json", ipykernel_json())
    request = valid_request(derive(Profile.KERNEL_GATEWAY, layer))
    assert [k["Name"] for k in request["KernelGatewayImageConfig"]["KernelSpecs"]] == [
        "python3",
        "a",
        "b",
        "c",
        "d",
    ]


def test_ids_studio_cannot_map_are_left_out(derive):
    passwd = Layer().file("etc/passwd", "root:x:0:0::/root:/bin/sh\nbig:x:70000:70000::/home/big:/bin/sh\n")
    request = valid_request(derive(Profile.KERNEL_GATEWAY, passwd, user="big"))
    assert request["KernelGatewayImageConfig"]["FileSystemConfig"] == {"MountPath": "/home/sagemaker-user"}


def test_no_kernel_means_no_kernel_gateway_config(derive):
    assert derive(Profile.KERNEL_GATEWAY, Layer().whiteout("opt/conda/share/jupyter/kernels")) is None


def test_jupyterlab_config_starts_the_server_the_image_has(derive):
    request = valid_request(derive(Profile.JUPYTERLAB))
    app = request["JupyterLabAppImageConfig"]
    assert "FileSystemConfig" not in app  # SageMaker does not support it for JupyterLab (botocore's docs)
    assert app["ContainerConfig"]["ContainerEntrypoint"] == ["/opt/conda/bin/jupyter-lab"]
    assert "--ServerApp.base_url=/jupyterlab/default" in app["ContainerConfig"]["ContainerArguments"]
    # an image that starts itself keeps its own command
    own = valid_request(derive(Profile.JUPYTERLAB, entrypoint=["/usr/local/bin/start-jupyter.sh"]))
    assert "ContainerConfig" not in own["JupyterLabAppImageConfig"]


def test_code_editor_config_starts_code_editor(derive):
    request = valid_request(derive(Profile.CODE_EDITOR))
    assert "FileSystemConfig" not in request["CodeEditorAppImageConfig"]  # nor for Code Editor
    container = request["CodeEditorAppImageConfig"]["ContainerConfig"]
    assert container["ContainerEntrypoint"] == ["/opt/conda/bin/sagemaker-code-editor"]


def test_rstudio_config_is_name_only_and_gateway_provisioners_has_none(derive):
    assert valid_request(derive(Profile.RSTUDIO)) == {"AppImageConfigName": "my-image-config"}
    assert derive(Profile.GATEWAY_PROVISIONERS) is None
