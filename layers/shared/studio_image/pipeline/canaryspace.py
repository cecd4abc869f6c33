"""Where a canary app can start. The new Studio runs JupyterLab and Code Editor apps in spaces, one
app per space, of the space's own SpaceSettings.AppType, and the app is named `default` (SageMaker
Developer Guide, the JupyterLab and Code Editor custom-image pages: CreateApp with --space-name and
--app-name default). So such a canary needs a space of its app type to itself, and must wait while
that space's app runs.

A canary also runs only where its image is attached. Custom images reach a user profile's apps
through its UserSettings and the domain's DefaultUserSettings; a private space through its owner's
(botocore's UserSettings.JupyterLabAppSettings and CodeEditorAppSettings: "SageMaker applies these
settings only to private spaces that the user creates in the domain. SageMaker doesn't apply these
settings to shared spaces."); a shared space through the domain's DefaultSpaceSettings ("SageMaker
applies these settings only to shared spaces. It doesn't apply them to private spaces."), which has
no CodeEditorAppSettings; and a space's KernelGateway apps through its own SpaceSettings too. A space
that names no SharingType counts as shared, as Studio Classic's collaborative spaces were."""

from __future__ import annotations

from ..aws.common import NotFound
from ..aws.sagemaker import MemberState, SageMaker
from ..errors import CanarySpaceBusy, ConfigurationInvalid
from .config import AttachTargets, Binding, PipelineConfig
from .models import CanaryPlan
from .studio import CANARY_PREFIX

SPACE_APP_NAME = "default"
SPACE_APP_TYPES = frozenset({"JupyterLab", "CodeEditor"})
RUNNING = frozenset({"Pending", "InService"})


def canary_spaces(config: PipelineConfig) -> set[str]:
    """The spaces the configuration's canaries start in."""
    return {b.canary.space for b in config.repositories if b.canary.active(b.profile) and b.canary.space}


def app_name(plan: CanaryPlan, version: int, run: str) -> str:
    """The canary app's name: `default` in a space, a name of its own under a user profile."""
    if plan.owner_kind == "Space" and plan.app_type in SPACE_APP_TYPES:
        return SPACE_APP_NAME
    return f"{CANARY_PREFIX}v{version}-{run}"


def check_space(sagemaker: SageMaker, domain_id: str, plan: CanaryPlan | None, binding: Binding) -> None:
    """Refuse a binding whose canary space is missing or of another app type, or whose canary
    (in a space or under a user profile) cannot see the image the binding attaches."""
    if plan is None:
        return
    where = f"binding {binding.match!r}: canary "
    space = None
    if plan.owner_kind == "Space":
        try:
            space = sagemaker.describe_member("Space", domain_id, plan.owner)
        except NotFound as err:
            raise ConfigurationInvalid(
                f"{where}space {plan.owner} does not exist in domain {domain_id}; "
                f"create it with SpaceSettings.AppType {plan.app_type}, for the canary alone"
            ) from err
        found = space.settings.get("AppType")
        if found != plan.app_type:
            raise ConfigurationInvalid(
                f"{where}space {plan.owner} in {domain_id} runs {found or 'no app type'} apps; "
                f"a {plan.app_type} canary needs a space of app type {plan.app_type}"
            )
    problem = unseen_image(plan, binding.attach, space)
    if problem:
        raise ConfigurationInvalid(where + problem)


def unseen_image(plan: CanaryPlan, attach: AttachTargets, space: MemberState | None) -> str | None:
    """Why the canary's user profile or space cannot see an image attached to `attach`, and what to
    change; None when it can (see the module's docstring for where images reach)."""
    own = "" if plan.owner_kind == "Space" else plan.owner  # the user whose settings reach the canary
    if space is not None and space.sharing_type == "Private":
        if not space.owner:
            return f"space {plan.owner} is private but names no owner (OwnershipSettings); use another space"
        own = space.owner
    if space is not None and plan.owner in attach.spaces:
        return None  # a KernelGateway space's own SpaceSettings (only those have CustomImages)
    if own:
        if attach.default_user_settings or own in attach.user_profiles:
            return None
        whose = f"space {plan.owner}, private to {own}," if space is not None else f"user profile {own}"
        return (
            f"{whose} sees the images of {own}'s user settings and the domain's DefaultUserSettings; "
            f"add {own!r} to attach.user_profiles, or set attach.default_user_settings"
        )
    if attach.default_space_settings:
        return None
    seen = f"space {plan.owner} is shared: it sees the images of the domain's DefaultSpaceSettings only"
    if plan.app_type == "CodeEditor":
        return f"{seen}, which has no Code Editor images; use a private space whose owner the image reaches"
    if plan.app_type == "KernelGateway":
        return f"{seen} and its own; add {plan.owner!r} to attach.spaces, or set default_space_settings"
    return f"{seen}; set attach.default_space_settings, or use a private space whose owner the image reaches"


def check_space_free(sagemaker: SageMaker, domain_id: str, plan: CanaryPlan, name: str) -> None:
    """Refuse to start while the canary's space runs its app (someone's, or another run's canary)."""
    if plan.owner_kind != "Space":
        return
    try:
        app = sagemaker.describe_app(domain_id, "Space", plan.owner, plan.app_type, name)
    except NotFound:
        return
    if app.status in RUNNING:
        raise CanarySpaceBusy(
            f"space {plan.owner} in {domain_id} is running its {plan.app_type} app ({app.status}); "
            "the canary starts when it is stopped"
        )
    if app.status == "Deleting":  # DeleteApp is asynchronous: the app holds the space until Deleted
        raise CanarySpaceBusy(
            f"space {plan.owner} in {domain_id} is still deleting its {plan.app_type} app (Deleting); "
            "the canary starts when it is Deleted"
        )
