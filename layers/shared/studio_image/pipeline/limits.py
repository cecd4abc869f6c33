"""SageMaker's limits the pipeline checks before it writes anything, so a run that would break
one ends with a message saying what to change instead of an API error halfway through."""

from __future__ import annotations

from typing import Any

from ..aws.sagemaker import SageMaker
from ..errors import ConfigurationInvalid, CustomImageLimitReached, ImageUriTooLong, LayerCountExceeded
from .customimages import DOMAIN_SETTINGS, target_settings, with_image
from .models import AttachedTo

MAX_BASE_IMAGE = 255  # CreateImageVersion's BaseImage (botocore's ImageBaseImage: max 255)
# botocore's KernelGatewayAppSettings.CustomImages (SageMaker API reference, KernelGatewayAppSettings):
# "The maximum number of custom images are as follows. On a domain level: 200. On a space level: 5.
# On a user profile level: 5." JupyterLabAppSettings, CodeEditorAppSettings and RSessionAppSettings
# document no such levels: their CustomImages lists hold up to 200 (botocore's CustomImages, max 200).
MAX_CUSTOM_IMAGES = 200
MAX_MEMBER_KERNEL_GATEWAY_IMAGES = 5


# Each layer travels in the run state (a reference to scan, and the scan's outcome): the count is
# capped so the state stays well under Step Functions' 256 KiB. Docker stops at 127 layers.
MAX_LAYERS = 200


def check_layer_count(count: int) -> None:
    if count > MAX_LAYERS:
        raise LayerCountExceeded(
            f"the image has {count} layers; the pipeline reads at most {MAX_LAYERS}. "
            "Squash or merge layers (Docker itself stops at 127)."
        )


def check_image_name(name: str, prefix: str, binding: str) -> None:
    """The template grants SageMaker calls only on images (and configs) named with ImageNamePrefix."""
    if not name.startswith(prefix):
        raise ConfigurationInvalid(
            f"binding {binding!r}: image_name {name!r} does not start with the deployment's "
            f"ImageNamePrefix {prefix!r}, so the pipeline is not allowed to create or change it"
        )


def check_base_image(uri: str) -> None:
    if len(uri) > MAX_BASE_IMAGE:
        raise ImageUriTooLong(
            f"the image's URI is {len(uri)} characters and SageMaker takes at most {MAX_BASE_IMAGE} "
            f"as an image version's BaseImage: {uri}. Push it to a repository with a shorter name."
        )


def custom_image_limit(setting: str, app_key: str) -> int:
    """The most custom images an app's settings may hold on a target (see above)."""
    member = setting not in DOMAIN_SETTINGS
    return (
        MAX_MEMBER_KERNEL_GATEWAY_IMAGES
        if member and app_key == "KernelGatewayAppSettings"
        else MAX_CUSTOM_IMAGES
    )


def check_custom_image_room(
    sagemaker: SageMaker, domain_id: str, targets: list[AttachedTo], app_key: str, entry: dict[str, Any]
) -> None:
    """Refuse, before any write, an attach that would put too many custom images on a target."""
    for target, settings in target_settings(sagemaker, domain_id, targets):
        limit = custom_image_limit(target.setting, app_key)
        app, _ = with_image(settings, app_key, entry)
        images = (app or {}).get("CustomImages") or []
        if len(images) > limit:
            others = ", ".join(i["ImageName"] for i in images if i["ImageName"] != entry["ImageName"])
            raise CustomImageLimitReached(
                f"{target.target} already has {len(images) - 1} custom images in {app_key}, the most "
                f"SageMaker allows there is {limit}: detach one of {others} before attaching "
                f"{entry['ImageName']}"
            )
