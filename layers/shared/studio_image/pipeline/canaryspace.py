"""Where a canary app can start. The new Studio runs JupyterLab and Code Editor apps in spaces, one
app per space, of the space's own SpaceSettings.AppType, and the app is named `default` (SageMaker
Developer Guide, the JupyterLab and Code Editor custom-image pages: CreateApp with --space-name and
--app-name default). So such a canary needs a space of its app type to itself, and must wait while
that space's app runs."""

from __future__ import annotations

from ..aws.common import NotFound
from ..aws.sagemaker import SageMaker
from ..errors import CanarySpaceBusy, ConfigurationInvalid
from .config import PipelineConfig
from .models import CanaryPlan
from .studio import CANARY_PREFIX

SPACE_APP_NAME = "default"
SPACE_APP_TYPES = frozenset({"JupyterLab", "CodeEditor"})
RUNNING = frozenset({"Pending", "InService"})


def canary_spaces(config: PipelineConfig) -> set[str]:
    """The spaces the configuration's canaries start in."""
    return {b.canary.space for b in config.repositories if b.canary.active and b.canary.space}


def app_name(plan: CanaryPlan, version: int, run: str) -> str:
    """The canary app's name: `default` in a space, a name of its own under a user profile."""
    if plan.owner_kind == "Space" and plan.app_type in SPACE_APP_TYPES:
        return SPACE_APP_NAME
    return f"{CANARY_PREFIX}v{version}-{run}"


def check_space(sagemaker: SageMaker, domain_id: str, plan: CanaryPlan | None, binding: str) -> None:
    """Refuse a binding whose canary space is missing or of another app type."""
    if plan is None or plan.owner_kind != "Space":
        return
    try:
        settings = sagemaker.member_settings("Space", domain_id, plan.owner)
    except NotFound as err:
        raise ConfigurationInvalid(
            f"binding {binding!r}: canary space {plan.owner} does not exist in domain {domain_id}; "
            f"create it with SpaceSettings.AppType {plan.app_type}, for the canary alone"
        ) from err
    found = settings.get("AppType")
    if found != plan.app_type:
        raise ConfigurationInvalid(
            f"binding {binding!r}: canary space {plan.owner} in {domain_id} runs {found or 'no app type'} "
            f"apps; a {plan.app_type} canary needs a space of app type {plan.app_type}"
        )


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
