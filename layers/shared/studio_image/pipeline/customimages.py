"""Attach an image version to a domain's default settings, spaces and user profiles, and take it
back off (a canary rollback, a retired version): one mechanism, `_rewrite`, for all three.

Each target is a read-modify-write of one app's `CustomImages` list: the entry for this image is
replaced in place (or appended) and every other entry is sent back as it was read. A per-domain lock
keeps concurrent pipelines from writing over each other between the read and the write. SageMaker
applies an update asynchronously (the domain, space or profile is Updating meanwhile, and refuses
another with `ResourceInUse`): every target to change is checked before the first write, and one
still Updating raises `DomainBusy`, which the state machine retries; one whose last update failed
raises `TargetUnusable` at once. Every attach is read back before it counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..aws.sagemaker import SageMaker
from ..errors import AttachLockHeld, AttachVerificationFailed, DomainBusy, TargetUnusable
from .config import APP_SETTINGS, Binding
from .models import AttachedTo, Retired
from .records import DomainLock
from .versionconfig import config_name

CustomImage = dict[str, Any]  # ImageName, ImageVersionNumber, AppImageConfigName
DOMAIN_SETTINGS = ("DefaultUserSettings", "DefaultSpaceSettings")  # the rest are spaces and profiles
# Statuses (botocore's DomainStatus, UserProfileStatus and SpaceStatus) in which SageMaker is still
# carrying out a change: an update waits for it. Every status but these and InService is a failure.
CHANGING = frozenset({"Pending", "Updating"})


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


def config_of(settings: dict[str, Any], app_key: str, image_name: str) -> str | None:
    """The AppImageConfig this image is attached with in these settings, if it is."""
    images: list[CustomImage] = list((settings.get(app_key) or {}).get("CustomImages") or [])
    return next((i.get("AppImageConfigName") for i in images if i["ImageName"] == image_name), None)


def restored(
    settings: dict[str, Any],
    app_key: str,
    image_name: str,
    attached_version: int,
    previous_version: int | None,
    previous_config: str | None = None,
) -> dict[str, Any] | None:
    """The app settings with this image as it was before an attach of `attached_version`: its
    earlier version back, or no entry if it was new. None if nothing needs to change, or if the
    image is no longer at `attached_version` (a later run attached another version since: a late
    rollback must not take it off, nor put an older one back)."""
    app = dict(settings.get(app_key) or {})
    images: list[CustomImage] = list(app.get("CustomImages") or [])
    index = next((i for i, image in enumerate(images) if image["ImageName"] == image_name), None)
    if index is None or images[index].get("ImageVersionNumber") != attached_version:
        return None
    if previous_version is None:
        del images[index]
    else:
        config = {"AppImageConfigName": previous_config} if previous_config else {}
        images[index] = {**images[index], "ImageVersionNumber": previous_version, **config}
    app["CustomImages"] = images
    return app


def has_image(settings: dict[str, Any], app_key: str, entry: CustomImage) -> bool:
    return entry in ((settings.get(app_key) or {}).get("CustomImages") or [])


def attach_image(
    sagemaker: SageMaker,
    lock: DomainLock,
    binding: Binding,
    domain_id: str,
    entry: CustomImage,
    check: Callable[[], None] | None = None,
) -> list[AttachedTo]:
    """Put `entry` on every target of the binding; each target records the version it replaced.
    `check` runs once the domain lock is held, before any write."""
    app_key = APP_SETTINGS[binding.profile]
    targets = binding_targets(binding, domain_id)

    def change(settings: dict[str, Any], target: AttachedTo) -> dict[str, Any] | None:
        target.previous_config = config_of(settings, app_key, entry["ImageName"])
        app, target.previous_version = with_image(settings, app_key, entry)
        return app

    _rewrite(
        sagemaker,
        lock,
        domain_id,
        targets,
        app_key,
        change,
        lambda settings: has_image(settings, app_key, entry),
        check,
    )
    return targets


def binding_targets(binding: Binding, domain_id: str) -> list[AttachedTo]:
    """Everywhere the binding attaches its images."""
    attach = binding.attach
    targets = [
        AttachedTo(target=_label(setting, domain_id, domain_id), setting=setting, name=domain_id)
        for setting, on in zip(
            DOMAIN_SETTINGS, (attach.default_user_settings, attach.default_space_settings), strict=True
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


def check_writable(label: str, status: str | None, failure_reason: str | None = None) -> None:
    """Refuse to update a domain, space or user profile SageMaker cannot update now."""
    if status in (None, "InService"):
        return
    if status in CHANGING:
        raise DomainBusy(f"{label} is {status}")
    raise TargetUnusable(
        f"{label} is {status}: {failure_reason or 'SageMaker gave no reason'}; "
        "SageMaker applies no change to it until it is InService again"
    )


def _rewrite(
    sagemaker: SageMaker,
    lock: DomainLock,
    domain_id: str,
    targets: list[AttachedTo],
    app_key: str,
    change: Change,
    holds: Callable[[dict[str, Any]], bool] | None = None,
    check: Callable[[], None] | None = None,
) -> list[str]:
    """Apply `change` to each target's settings under the domain lock: the domain's default
    settings first, in one UpdateDomain, then spaces and user profiles. `check` runs first, under
    the lock; then every target to change is read and its status checked, so that a busy or failed
    one stops the run before anything has changed. With `holds`, every changed target is read back
    and must satisfy it. Returns the targets changed."""
    if not lock.acquire():
        raise AttachLockHeld(f"another pipeline is changing custom images in domain {domain_id}")
    try:
        if check is not None:
            check()
        on_domain = [target for target in targets if target.setting in DOMAIN_SETTINGS]
        domain_updates: dict[str, Any] = {}
        changed: list[AttachedTo] = []
        if on_domain:
            domain = sagemaker.describe_domain(domain_id)
            for target in on_domain:
                app = change(domain.get(target.setting) or {}, target)
                if app is not None:
                    domain_updates[target.setting] = {app_key: app}
                    changed.append(target)
            if domain_updates:
                check_writable(f"domain {domain_id}", domain.get("Status"), domain.get("FailureReason"))
        member_updates: list[tuple[AttachedTo, dict[str, Any]]] = []
        for target in targets:
            if target.setting not in DOMAIN_SETTINGS:
                member = sagemaker.describe_member(target.setting, domain_id, target.name)
                app = change(member.settings, target)
                if app is not None:
                    check_writable(target.target, member.status, member.failure_reason)
                    member_updates.append((target, app))
        if domain_updates:
            sagemaker.update_domain(domain_id, **domain_updates)
        for target, app in member_updates:
            sagemaker.update_member(target.setting, domain_id, target.name, {app_key: app})
            changed.append(target)
        if holds is not None:
            _read_back(sagemaker, domain_id, changed, holds)
        return [target.target for target in changed]
    finally:
        lock.release()


def target_settings(
    sagemaker: SageMaker, domain_id: str, targets: list[AttachedTo]
) -> Iterator[tuple[AttachedTo, dict[str, Any]]]:
    """Each target with its settings as SageMaker holds them now (the domain described once)."""
    domain: dict[str, Any] | None = None
    for target in targets:
        if target.setting in DOMAIN_SETTINGS:
            domain = domain or sagemaker.describe_domain(domain_id)
            yield target, domain.get(target.setting) or {}
        else:
            yield target, sagemaker.member_settings(target.setting, domain_id, target.name)


def _read_back(
    sagemaker: SageMaker, domain_id: str, changed: list[AttachedTo], holds: Callable[[dict[str, Any]], bool]
) -> None:
    for target, settings in target_settings(sagemaker, domain_id, changed):
        if not holds(settings):
            raise AttachVerificationFailed(f"{target.target} does not show the change after the update")


def restore_image(
    sagemaker: SageMaker,
    lock: DomainLock,
    binding: Binding,
    domain_id: str,
    image_name: str,
    version: int,
    attached: list[AttachedTo],
) -> list[str]:
    """Undo the attach of `version`: each target still at it gets back the version it had (or
    loses the image if it was new). Returns the targets changed."""
    app_key = APP_SETTINGS[binding.profile]
    return _rewrite(
        sagemaker,
        lock,
        domain_id,
        attached,
        app_key,
        lambda settings, target: restored(
            settings, app_key, image_name, version, target.previous_version, target.previous_config
        ),
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


def retire_versions(
    sagemaker: SageMaker, lock: DomainLock, binding: Binding, domain_id: str, retired: Retired
) -> Retired:
    """Take `retired`'s versions out of use: detach them wherever the binding attaches the image,
    then delete them. Returns `retired` with what was detached and deleted."""
    if not retired.versions:
        return retired
    detached = detach_versions(sagemaker, lock, binding, domain_id, retired.image_name, set(retired.versions))
    deleted = [v for v in retired.versions if sagemaker.delete_image_version(retired.image_name, v)]
    for version in deleted:  # each version's own AppImageConfig goes with it
        sagemaker.delete_app_image_config(config_name(retired.image_name, version))
    return retired.model_copy(update={"detached_from": detached, "deleted": deleted})
