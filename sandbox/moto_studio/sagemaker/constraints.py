"""What SageMaker refuses beyond the service model's types, lengths and patterns, each with the
document it comes from. `validation.py` already holds every request to the model's own limits
(ImageBaseImage: at most 255 characters, for one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

# botocore's JupyterLabAppImageConfig and CodeEditorAppImageConfig shapes have a FileSystemConfig
# member, and both shapes' documentation says: "The FileSystemConfig object is not supported."
NO_FILE_SYSTEM_CONFIG = ("JupyterLabAppImageConfig", "CodeEditorAppImageConfig")

# botocore's KernelGatewayAppSettings.CustomImages documentation: "The maximum number of custom
# images are as follows. On a domain level: 200. On a space level: 5. On a user profile level: 5."
# The other apps' CustomImages documentation states no such limit: their lists are held to the
# CustomImages shape's max of 200 alone.
MAX_DOMAIN_CUSTOM_IMAGES = 200
MAX_MEMBER_CUSTOM_IMAGES = 5
MEMBER_LIMITED_APPS = ("KernelGatewayAppSettings",)

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


def check_custom_images(
    settings: dict[str, Any] | None, limit: int, where: str, apps: tuple[str, ...] | None = None
) -> None:
    """`settings` is a UserSettings, SpaceSettings or a domain's default settings; `apps`, the app
    settings the limit applies to (None: all)."""
    for app_key, app in (settings or {}).items():
        if apps is not None and app_key not in apps:
            continue
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


# Where a custom image reaches an app: the app settings its CustomImages sit under, by app type.
APP_SETTINGS_BY_APP_TYPE = {
    "KernelGateway": "KernelGatewayAppSettings",
    "JupyterLab": "JupyterLabAppSettings",
    "CodeEditor": "CodeEditorAppSettings",
    "RSessionGateway": "RSessionAppSettings",
}


def image_sources(member: Any, domain: Any, members: Mapping[tuple[str, str, str], Any]) -> list[Any]:
    """The settings whose CustomImages an app of `member` (a user profile or a space) may run.
    - A user profile's apps: its UserSettings and the domain's DefaultUserSettings (botocore's
      UserSettings: "specified when the CreateUserProfile API is called, and as
      DefaultUserSettings when the CreateDomain API is called"; images on either reach the user).
    - A private space: its owner's (OwnershipSettings.OwnerUserProfileName) UserSettings and the
      domain's DefaultUserSettings. botocore's UserSettings.JupyterLabAppSettings and
      CodeEditorAppSettings: "SageMaker applies these settings only to private spaces that the user
      creates in the domain. SageMaker doesn't apply these settings to shared spaces."
    - A shared space (SpaceSharingSettings.SharingType Shared, or none given, as Studio Classic's
      collaborative spaces were made): the domain's DefaultSpaceSettings. botocore's
      DefaultSpaceSettings: "SageMaker applies these settings only to shared spaces. It doesn't
      apply them to private spaces." It has JupyterLabAppSettings and KernelGatewayAppSettings,
      no CodeEditorAppSettings: a shared space runs no custom Code Editor image.
    - Any space: its own SpaceSettings (of the app settings, only KernelGatewayAppSettings has
      CustomImages there: botocore's SpaceJupyterLabAppSettings and SpaceCodeEditorAppSettings
      have none)."""
    if member.kind == "UserProfile":
        return [member.settings.get("UserSettings"), domain.default_user_settings]
    sources = [member.settings.get("SpaceSettings")]
    if (member.settings.get("SpaceSharingSettings") or {}).get("SharingType") == "Private":
        owner_name = (member.settings.get("OwnershipSettings") or {}).get("OwnerUserProfileName")
        owner = members.get(("UserProfile", member.domain_id, str(owner_name)))
        sources += [owner.settings.get("UserSettings") if owner else None, domain.default_user_settings]
    else:
        sources.append(domain.default_space_settings)
    return sources


def check_image_reaches_app(
    image_name: str | None,
    app_type: str,
    member: Any,
    domain: Any,
    members: Mapping[tuple[str, str, str], Any],
) -> None:
    """CreateApp with a custom image (ResourceSpec.SageMakerImageArn) that is not attached where the
    app runs is refused. AWS documents neither the code nor the wording of this refusal (CreateApp's
    documented errors are ResourceInUse and ResourceLimitExceeded, neither of which fits); we answer
    ValidationException, the common error for "the input fails to satisfy the constraints specified
    by an AWS service" (SageMaker API Reference, Common Errors), naming the image and the member."""
    if image_name is None:
        return
    key = APP_SETTINGS_BY_APP_TYPE.get(app_type)
    attached = {
        image.get("ImageName")
        for settings in image_sources(member, domain, members)
        for image in ((settings or {}).get(key) or {}).get("CustomImages") or []
    }
    if image_name not in attached:
        raise ValidationError(
            f"Image {image_name} is not attached to {member.kind} {member.name}'s {app_type} apps "
            f"in domain {member.domain_id}"
        )
