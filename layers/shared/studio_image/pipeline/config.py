"""The pipeline's configuration document: which repositories it manages, and how.

It lives in SSM Parameter Store (the template writes it) and is read on every run, so a change
takes effect without a deployment. Bindings are tried in order; the first whose `match` (a name or
a glob) fits the repository wins.
"""

from __future__ import annotations

import hashlib
import json
import re
from fnmatch import fnmatchcase
from functools import cache
from typing import Literal

from botocore.loaders import Loader
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigurationInvalid, PolicyInvalid, validation_problems
from ..findings import Profile
from ..policy import Policy
from ..rules import RULES
from .history import check_loops
from .settings import Settings

IMAGE_NAME = re.compile(r"[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}")  # SageMaker's ImageName pattern
MAX_IMAGE_NAME = 63
# botocore's ImageDisplayName (CreateImage's DisplayName): 1 to 128 characters, pattern \S(.*\S)?,
# whose `.` matches no line break: no leading or trailing whitespace, no newline.
MAX_DISPLAY_NAME = 128

# Image labels that refine a binding for one image.
LABEL_DISPLAY_NAME = "studio-image-pipeline.display-name"
LABEL_KERNELS = "studio-image-pipeline.kernels"  # comma-separated kernel names, as `kernels` in a policy

# The app settings a profile's custom images are attached under, and where those settings exist.
APP_SETTINGS = {
    Profile.KERNEL_GATEWAY: "KernelGatewayAppSettings",
    Profile.JUPYTERLAB: "JupyterLabAppSettings",
    Profile.CODE_EDITOR: "CodeEditorAppSettings",
    Profile.RSTUDIO: "RSessionAppSettings",
}
# A space's JupyterLab and Code Editor settings have no CustomImages (botocore's
# SpaceJupyterLabAppSettings, SpaceCodeEditorAppSettings): those spaces use the owner's images.
IN_SPACE_SETTINGS = {Profile.KERNEL_GATEWAY}
IN_DEFAULT_SPACE_SETTINGS = {Profile.KERNEL_GATEWAY, Profile.JUPYTERLAB}
# The app a canary start creates, by profile (CreateApp's AppType), and what it may run under.
CANARY_APP_TYPES = {
    Profile.KERNEL_GATEWAY: "KernelGateway",
    Profile.JUPYTERLAB: "JupyterLab",
    Profile.CODE_EDITOR: "CodeEditor",
    Profile.RSTUDIO: "RSessionGateway",
}
SPACE_APPS = {Profile.JUPYTERLAB, Profile.CODE_EDITOR}  # the new Studio's apps run in spaces only


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttachTargets(_Strict):
    default_user_settings: bool = True
    default_space_settings: bool = False
    spaces: list[str] = Field(default_factory=list)
    user_profiles: list[str] = Field(default_factory=list)


class CanarySettings(_Strict):
    enabled: bool | None = None  # None: on when a user profile or space is named (see `active`)
    user_profile: str | None = None
    space: str | None = None
    instance_type: str = "ml.t3.medium"
    budget_seconds: int = Field(default=900, ge=1, le=3600)  # from CreateApp until it must be InService
    on_failure: Literal["report", "rollback"] = "report"

    def active(self, profile: Profile) -> bool:
        """Whether the binding's runs start a canary. A KernelGateway canary is off unless `enabled`
        is true: KernelGateway apps are Studio Classic's, which "is no longer available for
        onboarding. You can only stop or delete existing Studio Classic applications and cannot
        create new ones" (SageMaker Developer Guide, "Set Default Lifecycle Configurations for
        Amazon SageMaker Studio Classic"), so a CreateApp for one may fail where Classic is gone."""
        if self.enabled is not None:
            return self.enabled
        return profile != Profile.KERNEL_GATEWAY and bool(self.user_profile or self.space)


class Binding(_Strict):
    match: str = Field(min_length=1)
    profile: Profile
    domain_id: str | None = None  # None: the deployment's domain
    image_name: str | None = None  # None: derived from the repository name
    display_name: str | None = None
    attach: AttachTargets = Field(default_factory=AttachTargets)
    policy: Policy = Field(default_factory=Policy)
    canary: CanarySettings = Field(default_factory=CanarySettings)
    keep_versions: int | None = Field(default=None, ge=1)  # None: keep every version
    # Untagged pushes (each platform manifest of a multi-platform image) are skipped unless true.
    check_untagged: bool = False

    @field_validator("image_name")
    @classmethod
    def _image_name(cls, value: str | None) -> str | None:
        if value is not None and not IMAGE_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a SageMaker image name ({IMAGE_NAME.pattern}, at most 63)")
        if value is not None and value != value.lower():
            # SageMaker's ARNs hold the image name in lower case (arn:aws:sagemaker:...:image/name),
            # and the runs read image names back from those ARNs.
            raise ValueError(f"{value!r}: write it in lower case ({value.lower()!r}), as SageMaker's ARNs do")
        return value

    @model_validator(mode="after")
    def _targets_exist_for_profile(self) -> Binding:
        targets = self.attach
        if self.profile not in IN_DEFAULT_SPACE_SETTINGS and targets.default_space_settings:
            raise ValueError(f"default space settings have no custom images for the {self.profile} profile")
        if self.profile not in IN_SPACE_SETTINGS and targets.spaces:
            raise ValueError(f"spaces have no custom images for the {self.profile} profile")
        canary = self.canary
        if canary.active(self.profile):
            if self.profile not in CANARY_APP_TYPES:
                raise ValueError(f"a {self.profile} image runs outside SageMaker: it has no canary")
            if bool(canary.user_profile) == bool(canary.space):
                raise ValueError("a canary starts in exactly one of user_profile and space")
            if self.profile in SPACE_APPS and not canary.space:
                raise ValueError(f"{self.profile} apps run in spaces: name the canary's space")
            if self.profile == Profile.RSTUDIO and not canary.user_profile:
                raise ValueError("RSession apps run under user profiles: name the canary's user_profile")
        return self

    @property
    def registers(self) -> bool:
        """Gateway Provisioners images run outside SageMaker: they are checked, not registered."""
        return self.profile in APP_SETTINGS

    def matches(self, repository: str) -> bool:
        return fnmatchcase(repository, self.match)


class PipelineConfig(_Strict):
    repositories: list[Binding] = Field(min_length=1)

    def binding_for(self, repository: str) -> Binding | None:
        return next((b for b in self.repositories if b.matches(repository)), None)


def load_config(text: str, source: str, settings: Settings | None = None) -> PipelineConfig:
    """The document, checked; with the deployment's `settings`, also against the deployment: its
    domain, and its loops against the run's history (pipeline.history). The document alone (no
    settings) is checked for what only reads it."""
    try:
        config = PipelineConfig.model_validate(json.loads(text))
    except json.JSONDecodeError as err:
        raise ConfigurationInvalid(f"{source}: not JSON: {err}") from err
    except ValidationError as err:
        raise ConfigurationInvalid(f"{source}: {validation_problems(err)}") from err
    for binding in config.repositories:
        try:
            binding.policy.check_rule_ids(set(RULES))
        except PolicyInvalid as err:
            raise ConfigurationInvalid(f"{source}: binding {binding.match!r}: {err}") from err
        if (
            binding.canary.active(binding.profile)
            and binding.canary.instance_type not in app_instance_types()
        ):
            raise ConfigurationInvalid(
                f"{source}: binding {binding.match!r}: canary.instance_type "
                f"{binding.canary.instance_type!r} is not an instance type SageMaker runs apps on "
                "(CreateApp's ResourceSpec.InstanceType), such as ml.t3.medium"
            )
        if binding.display_name is not None and not display_name(binding.display_name):
            raise ConfigurationInvalid(f"{source}: binding {binding.match!r}: display_name is blank")
        if binding.policy.limits:  # layer scans are cached by digest for every repository alike
            raise ConfigurationInvalid(
                f"{source}: binding {binding.match!r}: scan limits are set for the CLI only; "
                "the pipeline scans with the defaults"
            )
    names = [b.image_name for b in config.repositories if b.image_name]
    if len(names) != len(set(names)):
        raise ConfigurationInvalid(f"{source}: two bindings name the same image: {sorted(names)}")
    if settings is not None:
        _check_domain(config, settings, source)
        check_loops(config, settings, source)
    return config


def _check_domain(config: PipelineConfig, settings: Settings, source: str) -> None:
    """The template grants SageMaker calls on its DomainId's resources only: a binding naming another
    domain would fail at Attach (AccessDenied), after the version is registered."""
    for binding in config.repositories:
        if binding.domain_id not in (None, settings.domain_id):
            raise ConfigurationInvalid(
                f"{source}: binding {binding.match!r}: domain_id {binding.domain_id!r} is not this "
                f"deployment's domain ({settings.domain_id}), the only one its IAM roles may change; "
                "deploy another stack with that DomainId for it"
            )


@cache
def app_instance_types() -> frozenset[str]:
    """botocore's AppInstanceType, CreateApp's ResourceSpec.InstanceType, less `system` (a
    JupyterServer's, no kernel's or app's)."""
    shapes = Loader().load_service_model("sagemaker", "service-2")["shapes"]
    return frozenset(shapes["AppInstanceType"]["enum"]) - {"system"}


def display_name(*candidates: str | None) -> str:
    """The first candidate that makes a DisplayName SageMaker takes: whitespace runs (line breaks
    included) made one space, trimmed, clipped to 128 characters; "" when none does."""
    for text in candidates:
        name = " ".join((text or "").split())[:MAX_DISPLAY_NAME].rstrip()
        if name:
            return name
    return ""


def derive_image_name(prefix: str, repository: str, repository_prefix: str = "") -> str:
    """A SageMaker image name for a repository: `prefix` plus the repository's name past
    `repository_prefix`, every run of other characters turned into one dash. A name past SageMaker's
    63 characters is cut and ends in a hash of the repository's name. Two repositories whose names
    differ only in those characters (team/a-b, team-a/b) derive the same name: Register refuses the
    second (`image_name` in its binding tells them apart)."""
    readable = repository.removeprefix(repository_prefix) if repository_prefix else repository
    base = "-".join(part for part in re.split(r"[^a-zA-Z0-9]+", readable) if part)
    name = f"{prefix}{base}"
    if len(name) > MAX_IMAGE_NAME:
        suffix = hashlib.sha256(repository.encode()).hexdigest()[:8]
        name = f"{name[: MAX_IMAGE_NAME - len(suffix) - 1].rstrip('-.')}-{suffix}"
    return name
