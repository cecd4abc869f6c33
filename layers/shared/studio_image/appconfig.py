"""The AppImageConfig an image needs, derived from the image itself.

The models mirror SageMaker's CreateAppImageConfig shapes (botocore's service model): dumped with
`by_alias=True, exclude_none=True` they are the request's keyword arguments.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from .facts import Facts, KernelSpec
from .findings import Profile
from .policy import Policy

MAX_KERNEL_SPECS = 5  # KernelGatewayImageConfig.KernelSpecs holds 1 to 5
MAX_ID = 65535  # Studio maps user and group IDs up to this

# How the JupyterLab and Code Editor apps are served: port 8888, under the app's base path, each
# server program with the options its own command line takes (code-server's parser refuses
# --without-connection-token and --base-path, and serves behind a path prefix without one).
SERVER_COMMANDS: dict[Profile, dict[str, list[str]]] = {
    Profile.JUPYTERLAB: {
        "jupyter-lab": [
            "--ServerApp.ip=0.0.0.0",
            "--ServerApp.port=8888",
            "--ServerApp.base_url=/jupyterlab/default",
            "--ServerApp.token=",
            "--ServerApp.allow_origin=*",
        ],
    },
    Profile.CODE_EDITOR: {
        "sagemaker-code-editor": [
            "--host",
            "0.0.0.0",
            "--port",
            "8888",
            "--without-connection-token",
            "--base-path",
            "/CodeEditor/default",
        ],
        "code-server": ["--bind-addr", "0.0.0.0:8888", "--auth", "none"],
    },
}


class _Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")


class KernelSpecConfig(_Shape):
    name: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=1024)


class FileSystemConfig(_Shape):
    mount_path: str | None = Field(default=None, pattern=r"^/")
    default_uid: int | None = Field(default=None, ge=0, le=MAX_ID)
    default_gid: int | None = Field(default=None, ge=0, le=MAX_ID)


class ContainerConfig(_Shape):
    container_arguments: list[str] | None = Field(default=None, max_length=50)
    container_entrypoint: list[str] | None = Field(default=None, max_length=1)
    container_environment_variables: dict[str, str] | None = Field(default=None, max_length=25)


class KernelGatewayImageConfig(_Shape):
    kernel_specs: list[KernelSpecConfig] = Field(min_length=1, max_length=MAX_KERNEL_SPECS)
    file_system_config: FileSystemConfig | None = None


class AppConfig(_Shape):
    """JupyterLabAppImageConfig and CodeEditorAppImageConfig share this shape. Both have a
    FileSystemConfig member in botocore's model, whose documentation says "The FileSystemConfig
    object is not supported": SageMaker refuses it, so it is not here."""

    container_config: ContainerConfig | None = None


class AppImageConfig(_Shape):
    """The body of CreateAppImageConfig, less the name the registration step chooses."""

    kernel_gateway_image_config: KernelGatewayImageConfig | None = None
    jupyter_lab_app_image_config: AppConfig | None = None
    code_editor_app_image_config: AppConfig | None = None

    def request(self, name: str) -> dict[str, object]:
        return {"AppImageConfigName": name, **self.model_dump(by_alias=True, exclude_none=True)}


def select_kernels(kernels: list[KernelSpec], policy: Policy) -> list[KernelSpec]:
    """The kernels to register: those the policy names, in its order, or else the first five."""
    if policy.kernels:
        by_name = {k.name: k for k in kernels}
        return [by_name[name] for name in policy.kernels if name in by_name]
    return kernels[:MAX_KERNEL_SPECS]


def server_command(profile: Profile, facts: Facts) -> ContainerConfig | None:
    """How to start the app's server where the image does not say so itself, or None."""
    config = facts.inventory.config.config
    if profile not in SERVER_COMMANDS or config.entrypoint or config.cmd:
        return None
    found = next(
        (
            (path, arguments)
            for program, arguments in SERVER_COMMANDS[profile].items()
            if (path := facts.which(program))
        ),
        None,
    )
    if found is None:
        return None
    return ContainerConfig(container_entrypoint=[found[0]], container_arguments=found[1])


def derive_app_image_config(profile: Profile, facts: Facts, policy: Policy) -> AppImageConfig | None:
    """What CreateAppImageConfig needs for this image; None for images Studio does not run."""
    if profile == Profile.KERNEL_GATEWAY:
        kernels = select_kernels(facts.kernels, policy)
        if not kernels:
            return None  # kernelspec-missing says why
        uid, gid = (n if n is not None and n <= MAX_ID else None for n in (facts.user.uid, facts.user.gid))
        return AppImageConfig(
            kernel_gateway_image_config=KernelGatewayImageConfig(
                kernel_specs=[KernelSpecConfig(name=k.name, display_name=k.display_name) for k in kernels],
                file_system_config=FileSystemConfig(
                    mount_path=policy.mount_path, default_uid=uid, default_gid=gid
                ),
            )
        )
    if profile in (Profile.JUPYTERLAB, Profile.CODE_EDITOR):
        app = AppConfig(container_config=server_command(profile, facts))
        if profile == Profile.JUPYTERLAB:
            return AppImageConfig(jupyter_lab_app_image_config=app)
        return AppImageConfig(code_editor_app_image_config=app)
    if profile == Profile.RSTUDIO:
        return AppImageConfig()  # RStudio images are registered with a name-only config
    return None
