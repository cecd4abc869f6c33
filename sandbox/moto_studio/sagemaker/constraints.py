"""What SageMaker refuses beyond the service model's types, lengths and patterns, each with the
document it comes from. `validation.py` already holds every request to the model's own limits
(ImageBaseImage: at most 255 characters, for one)."""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

# botocore's JupyterLabAppImageConfig and CodeEditorAppImageConfig shapes have a FileSystemConfig
# member, and both shapes' documentation says: "The FileSystemConfig object is not supported."
NO_FILE_SYSTEM_CONFIG = ("JupyterLabAppImageConfig", "CodeEditorAppImageConfig")

# botocore's KernelGatewayAppSettings.CustomImages documentation: "The maximum number of custom
# images are as follows. On a domain level: 200. On a space level: 5. On a user profile level: 5."
# Every app's CustomImages list is held to the same numbers.
MAX_DOMAIN_CUSTOM_IMAGES = 200
MAX_MEMBER_CUSTOM_IMAGES = 5

# The new Studio's apps run one per space, of the space's SpaceSettings.AppType (botocore: "The type
# of app created within the space"), and a JupyterLab or Code Editor app in a space is named
# "default" (SageMaker Developer Guide, "Custom images" for Code Editor and for JupyterLab: the
# CreateApp examples pass --app-name default with --space-name).
SPACE_APP_NAME = "default"
SPACE_APP_TYPES_NAMED_DEFAULT = ("JupyterLab", "CodeEditor")


def check_app_image_config(configs: dict[str, Any]) -> None:
    for key in NO_FILE_SYSTEM_CONFIG:
        if "FileSystemConfig" in (configs.get(key) or {}):
            raise ValidationError(f"FileSystemConfig is not supported for {key}")


def check_custom_images(settings: dict[str, Any] | None, limit: int, where: str) -> None:
    """`settings` is a UserSettings, SpaceSettings or a domain's default settings."""
    for app_key, app in (settings or {}).items():
        images = (app or {}).get("CustomImages") if isinstance(app, dict) else None
        if images is not None and len(images) > limit:
            raise ValidationError(
                f"{where} {app_key}.CustomImages has {len(images)} custom images; at most {limit} are allowed"
            )


def check_space_app(space_settings: dict[str, Any], space: str, app_type: str, name: str) -> None:
    expected = space_settings.get("AppType")
    if expected and expected != app_type:
        raise ValidationError(f"Space {space} is of app type {expected}; it cannot run a {app_type} app")
    if app_type in SPACE_APP_TYPES_NAMED_DEFAULT and name != SPACE_APP_NAME:
        raise ValidationError(f"A {app_type} app in a space must be named {SPACE_APP_NAME}, not {name}")


def check_space_app_type_kept(held: dict[str, Any], given: dict[str, Any] | None, space: str) -> None:
    """UpdateSpace cannot change the app type (botocore's SpaceSettings.AppType documentation)."""
    before, after = held.get("AppType"), (given or {}).get("AppType")
    if before and after and before != after:
        raise ValidationError(f"The app type of space {space} is {before}; it cannot be changed to {after}")


def check_space_is_free(running: list[str], space: str) -> None:
    """A space runs one app at a time."""
    if running:
        raise ResourceInUseException(f"Space {space} already has a running app: {running[0]}")
