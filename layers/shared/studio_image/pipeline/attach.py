"""Attach an image version to a domain's default settings, spaces and user profiles.

Each target is a read-modify-write of one app's `CustomImages` list: the entry for this image is
replaced in place (or appended) and every other entry is sent back as it was read. A per-domain lock
keeps concurrent pipelines from writing over each other between the read and the write; an update
SageMaker refuses because the domain is still applying another (`ResourceInUse`) raises
`DomainBusy`, which the state machine retries. Every change is read back before it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..aws.sagemaker import SageMaker
from ..errors import AttachLockHeld, AttachVerificationFailed, DomainBusy
from .config import APP_SETTINGS, Binding
from .models import AttachedTo
from .records import DomainLock

CustomImage = dict[str, Any]  # ImageName, ImageVersionNumber, AppImageConfigName


def with_image(
    settings: dict[str, Any], app_key: str, entry: CustomImage
) -> tuple[dict[str, Any] | None, int | None]:
    """The app settings with `entry` in place of this image's entry (None if already there), and
    the version the image had before (None if it was not attached)."""
    app = dict(settings.get(app_key) or {})
    images: list[CustomImage] = list(app.get("CustomImages") or [])
    index = next((i for i, image in enumerate(images) if image["ImageName"] == entry["ImageName"]), None)
    previous = images[index].get("ImageVersionNumber") if index is not None else None
    if index is not None and images[index] == entry:
        return None, previous
    if index is None:
        images.append(entry)
    else:
        images[index] = entry
    app["CustomImages"] = images
    return app, previous


def restored(
    settings: dict[str, Any], app_key: str, image_name: str, previous_version: int | None
) -> dict[str, Any] | None:
    """The app settings with this image as it was before an attach: its earlier version back, or
    no entry if it was new. None if nothing needs to change."""
    app = dict(settings.get(app_key) or {})
    images: list[CustomImage] = list(app.get("CustomImages") or [])
    index = next((i for i, image in enumerate(images) if image["ImageName"] == image_name), None)
    if index is None:  # someone removed it since: nothing to take back
        return None
    if previous_version is None:
        del images[index]
    else:
        images[index] = {**images[index], "ImageVersionNumber": previous_version}
    app["CustomImages"] = images
    return app


def has_image(settings: dict[str, Any], app_key: str, entry: CustomImage) -> bool:
    return entry in ((settings.get(app_key) or {}).get("CustomImages") or [])


def attach_image(
    sagemaker: SageMaker, lock: DomainLock, binding: Binding, domain_id: str, entry: CustomImage
) -> list[AttachedTo]:
    app_key = APP_SETTINGS[binding.profile]
    if not lock.acquire():
        raise AttachLockHeld(f"another pipeline is changing custom images in domain {domain_id}")
    try:
        attached = _attach_to_domain(sagemaker, binding, domain_id, app_key, entry)
        for kind, names in (("Space", binding.attach.spaces), ("UserProfile", binding.attach.user_profiles)):
            for name in names:
                attached.append(_attach_to_member(sagemaker, kind, domain_id, name, app_key, entry))
        return attached
    finally:
        lock.release()


def _attach_to_domain(
    sagemaker: SageMaker, binding: Binding, domain_id: str, app_key: str, entry: CustomImage
) -> list[AttachedTo]:
    wanted = [
        key
        for key, on in (
            ("DefaultUserSettings", binding.attach.default_user_settings),
            ("DefaultSpaceSettings", binding.attach.default_space_settings),
        )
        if on
    ]
    if not wanted:
        return []
    domain = sagemaker.describe_domain(domain_id)
    changes: dict[str, Any] = {}
    attached = []
    for key in wanted:
        app, previous = with_image(domain.get(key) or {}, app_key, entry)
        if app is not None:
            changes[key] = {app_key: app}
        attached.append(
            AttachedTo(
                target=_label(key, domain_id, domain_id),
                previous_version=previous,
                setting=key,
                name=domain_id,
            )
        )
    if changes:
        if domain.get("Status") not in (None, "InService"):
            raise DomainBusy(f"domain {domain_id} is {domain['Status']}")
        sagemaker.update_domain(domain_id, **changes)
        after = sagemaker.describe_domain(domain_id)
        for key in wanted:
            if not has_image(after.get(key) or {}, app_key, entry):
                raise AttachVerificationFailed(
                    f"domain {domain_id} {key} does not list {entry} after the update"
                )
    return attached


def _attach_to_member(
    sagemaker: SageMaker, kind: str, domain_id: str, name: str, app_key: str, entry: CustomImage
) -> AttachedTo:
    settings = sagemaker.member_settings(kind, domain_id, name)
    app, previous = with_image(settings, app_key, entry)
    if app is not None:
        sagemaker.update_member(kind, domain_id, name, {app_key: app})
        if not has_image(sagemaker.member_settings(kind, domain_id, name), app_key, entry):
            raise AttachVerificationFailed(
                f"{kind} {name} in {domain_id} does not list {entry} after the update"
            )
    return AttachedTo(
        target=_label(kind, name, domain_id), previous_version=previous, setting=kind, name=name
    )


def binding_targets(binding: Binding, domain_id: str) -> list[AttachedTo]:
    """Everywhere the binding attaches its images."""
    attach = binding.attach
    targets = [
        AttachedTo(target=_label(setting, domain_id, domain_id), setting=setting, name=domain_id)
        for setting, on in (
            ("DefaultUserSettings", attach.default_user_settings),
            ("DefaultSpaceSettings", attach.default_space_settings),
        )
        if on
    ]
    for kind, names in (("Space", attach.spaces), ("UserProfile", attach.user_profiles)):
        targets += [
            AttachedTo(target=_label(kind, name, domain_id), setting=kind, name=name) for name in names
        ]
    return targets


def _label(setting: str, name: str, domain_id: str) -> str:
    if setting == "DefaultUserSettings":
        return f"domain {domain_id} default user settings"
    if setting == "DefaultSpaceSettings":
        return f"domain {domain_id} default space settings"
    return f"{'space' if setting == 'Space' else 'user profile'} {name} in {domain_id}"


def without_versions(
    settings: dict[str, Any], app_key: str, image_name: str, versions: set[int]
) -> dict[str, Any] | None:
    """The app settings without this image's entry if it is at one of `versions` (None: no change)."""
    app = dict(settings.get(app_key) or {})
    images: list[CustomImage] = list(app.get("CustomImages") or [])
    kept = [
        i for i in images if not (i["ImageName"] == image_name and i.get("ImageVersionNumber") in versions)
    ]
    if len(kept) == len(images):
        return None
    app["CustomImages"] = kept
    return app


Change = Callable[[dict[str, Any], AttachedTo], "dict[str, Any] | None"]


def _rewrite(
    sagemaker: SageMaker,
    lock: DomainLock,
    domain_id: str,
    targets: list[AttachedTo],
    app_key: str,
    change: Change,
) -> list[str]:
    """Apply `change` to each target's app settings under the domain lock; the targets changed."""
    if not lock.acquire():
        raise AttachLockHeld(f"another pipeline is changing custom images in domain {domain_id}")
    try:
        changed = []
        domain_changes: dict[str, Any] = {}
        domain: dict[str, Any] | None = None
        for target in targets:
            if target.setting in ("DefaultUserSettings", "DefaultSpaceSettings"):
                domain = domain or sagemaker.describe_domain(domain_id)
                app = change(domain.get(target.setting) or {}, target)
                if app is not None:
                    domain_changes[target.setting] = {app_key: app}
                    changed.append(target.target)
            else:
                app = change(sagemaker.member_settings(target.setting, domain_id, target.name), target)
                if app is not None:
                    sagemaker.update_member(target.setting, domain_id, target.name, {app_key: app})
                    changed.append(target.target)
        if domain_changes:
            if domain and domain.get("Status") not in (None, "InService"):
                raise DomainBusy(f"domain {domain_id} is {domain['Status']}")
            sagemaker.update_domain(domain_id, **domain_changes)
        return changed
    finally:
        lock.release()


def restore_image(
    sagemaker: SageMaker,
    lock: DomainLock,
    binding: Binding,
    domain_id: str,
    image_name: str,
    attached: list[AttachedTo],
) -> list[str]:
    """Undo an attach: each target gets back the version it had (or loses the image if it was
    new). Returns the targets changed."""
    app_key = APP_SETTINGS[binding.profile]
    return _rewrite(
        sagemaker,
        lock,
        domain_id,
        attached,
        app_key,
        lambda settings, target: restored(settings, app_key, image_name, target.previous_version),
    )


def detach_versions(
    sagemaker: SageMaker,
    lock: DomainLock,
    binding: Binding,
    domain_id: str,
    image_name: str,
    versions: set[int],
) -> list[str]:
    """Take the image off every target of the binding where it is at one of `versions`."""
    app_key = APP_SETTINGS[binding.profile]
    return _rewrite(
        sagemaker,
        lock,
        domain_id,
        binding_targets(binding, domain_id),
        app_key,
        lambda settings, _: without_versions(settings, app_key, image_name, versions),
    )
