"""Configure: create or update the image's AppImageConfig, derived from the image itself."""

from __future__ import annotations

from ..models import Evaluation, Registration, StateModel
from ..services import Services


class ConfigureInput(StateModel):
    execution_arn: str
    registration: Registration
    evaluation: Evaluation


def configure(given: ConfigureInput, svc: Services) -> str:
    """The AppImageConfig's name (the ASL places it on the registration)."""
    name = given.registration.image_name.replace(".", "-")  # AppImageConfig names allow no dots
    svc.sagemaker.put_app_image_config(
        {"AppImageConfigName": name, **(given.evaluation.app_image_config or {})}
    )
    return name
