"""SageMaker Studio resources moto lacks: images, image versions, app image configs, user profiles,
spaces and apps, and UpdateDomain. Methods are grafted onto moto's SageMakerModelBackend.

Statuses move on with time, as AWS's do, without threads: a resource records when it was asked
for and reports the status it would have by now (`settings` holds the delays).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.core.utils import utcnow
from moto.ecr.models import ecr_backends
from moto.logs.models import logs_backends
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.utils import arn_formatter
from moto.utilities.paginator import paginate

from ..ecr import layer_blobs
from ..faults import CREATE_FAILED_REASON, IMAGE_CREATE_FAILED_REASON, UPDATE_FAILED_REASON, faults
from ..settings import settings
from . import constraints
from .script import AppScript

LOG_GROUP = "/aws/sagemaker/studio"
# An ECR image URI, in any partition's DNS suffix (botocore's partitions data: amazonaws.com,
# amazonaws.com.cn in China).
ECR_IMAGE = re.compile(
    r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)(?::([^@]+)|@(sha256:[0-9a-f]{64}))"
)


def _elapsed(since: datetime, seconds: float) -> bool:
    """Whether `seconds` of SageMaker's time (on the sandbox's clock) have passed since `since`."""
    return utcnow() >= since + timedelta(seconds=settings.real_seconds(seconds))


@dataclass
class Change:
    """A change SageMaker carries out after answering: under way until its delay has passed, then
    done for good (a longer delay set afterwards does not undo it)."""

    started: datetime = field(default_factory=utcnow)
    done: bool = False

    def under_way(self, seconds: float) -> bool:
        self.done = self.done or _elapsed(self.started, seconds)
        return not self.done


# Paging declared once, as moto declares it: SageMaker's List calls take MaxResults (1 to 100,
# botocore's MaxResults shape; 100 when not given) and a NextToken, here the next item's ARN.
PAGINATION_MODEL = {
    name: {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "arn",
    }
    for name in ("list_images", "list_image_versions", "list_app_image_configs", "list_members", "list_apps")
}


@dataclass
class Image:
    name: str
    arn: str
    role_arn: str
    description: str | None
    display_name: str | None
    tags: list[dict[str, str]]
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)
    versions: dict[int, ImageVersion] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)  # ClientToken -> version it created
    last_version: int = 0  # numbers are never reused, even after a version is deleted
    creation: Change = field(default_factory=Change)
    injected_failure: str | None = None  # moto_studio.faults' create_failed

    @property
    def status(self) -> str:
        """CreateImage is asynchronous: the image is CREATING, then CREATED or CREATE_FAILED
        (botocore's ImageStatus, and the ImageCreated waiter in sagemaker's waiters-2.json)."""
        if self.creation.under_way(settings.image_seconds):
            return "CREATING"
        return "CREATE_FAILED" if self.injected_failure else "CREATED"

    def summary(self) -> dict[str, Any]:
        status = self.status
        return {
            "CreationTime": self.created,
            "Description": self.description,
            "DisplayName": self.display_name,
            # botocore's Image.FailureReason: "When a create, update, or delete operation fails"
            "FailureReason": self.injected_failure if status == "CREATE_FAILED" else None,
            "ImageArn": self.arn,
            "ImageName": self.name,
            "ImageStatus": status,
            "LastModifiedTime": self.modified,
        }

    def describe(self) -> dict[str, Any]:
        return {**self.summary(), "RoleArn": self.role_arn}


@dataclass
class ImageVersion:
    image: Image
    version: int
    base_image: str
    account_id: str
    region: str
    aliases: set[str]
    details: dict[str, Any]  # VendorGuidance, JobType, ... as given
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)
    failure_reason: str | None = None
    container_image: str | None = None
    settled: bool = False
    injected_failure: str | None = None  # moto_studio.faults' create_failed

    @property
    def arn(self) -> str:
        return arn_formatter(
            "image-version", f"{self.image.name}/{self.version}", self.account_id, self.region
        )

    @property
    def status(self) -> str:
        if not self.settled and _elapsed(self.created, settings.image_version_seconds):
            self.settled = True
            self.container_image, self.failure_reason = _resolve_base_image(self.base_image)
            self.failure_reason = self.injected_failure or self.failure_reason
        if not self.settled:
            return "CREATING"
        return "CREATE_FAILED" if self.failure_reason else "CREATED"

    def summary(self) -> dict[str, Any]:
        status = self.status
        return {
            "CreationTime": self.created,
            "FailureReason": self.failure_reason,
            "ImageArn": self.image.arn,
            "ImageVersionArn": self.arn,
            "ImageVersionStatus": status,
            "LastModifiedTime": self.modified,
            "Version": self.version,
        }

    def describe(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "BaseImage": self.base_image,
            "ContainerImage": self.container_image,
            **self.details,
        }


def _resolve_base_image(uri: str) -> tuple[str | None, str | None]:
    """(the image's digest-pinned URI, None), or (None, why) when ECR does not hold it."""
    match = ECR_IMAGE.fullmatch(uri)
    if match is None:
        return None, f"Unable to pull image {uri}: BaseImage must be an Amazon ECR image URI"
    account, region, repository_name, tag, digest = match.groups()
    repository = ecr_backends[account][region].repositories.get(repository_name)
    for image in repository.images if repository else []:
        if (tag and tag in image.image_tags) or (digest and image.get_image_digest() == digest):
            return (
                f"{account}.dkr.ecr.{region}.amazonaws.com/{repository_name}@{image.get_image_digest()}",
                None,
            )
    return None, f"Unable to pull image {uri}: the image does not exist in Amazon ECR"


# A label an image can carry to script its own app starts in the sandbox (AWS ignores it): a JSON
# list of start-up log lines, after which the app fails.
START_FAILURE_LABEL = "moto-studio.app-start-failure"


def _label_script(uri: str | None) -> AppScript | None:
    """The app script the image at `uri` asks for through START_FAILURE_LABEL, if any."""
    match = ECR_IMAGE.fullmatch(uri or "")
    if match is None:
        return None
    account, region, repository_name, tag, digest = match.groups()
    repository = ecr_backends[account][region].repositories.get(repository_name)
    if repository is None:
        return None
    for image in repository.images:
        if (tag and tag in image.image_tags) or (digest and image.get_image_digest() == digest):
            config_digest = json.loads(image.image_manifest).get("config", {}).get("digest")
            blob = layer_blobs(repository).get(config_digest)
            labels = (json.loads(blob).get("config") or {}).get("Labels") or {} if blob else {}
            if START_FAILURE_LABEL in labels:
                lines = [str(line) for line in json.loads(labels[START_FAILURE_LABEL])]
                return AppScript(fails=True, reason="The app failed to start.", log_lines=lines)
    return None


@dataclass
class AppImageConfig:
    name: str
    arn: str
    configs: dict[str, Any]  # KernelGatewayImageConfig / JupyterLabAppImageConfig / CodeEditorAppImageConfig
    tags: list[dict[str, str]]
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        return {
            "AppImageConfigArn": self.arn,
            "AppImageConfigName": self.name,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            **self.configs,
        }


@dataclass
class Member:
    """A user profile or a space: what an app runs under."""

    kind: str  # "UserProfile" or "Space"
    domain_id: str
    name: str
    arn: str
    settings: dict[str, Any]  # UserSettings, or SpaceSettings and the space's other settings
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)
    update: Change | None = None
    update_failure: str | None = None  # moto_studio.faults' update_failed

    @property
    def status(self) -> str:
        """An update is applied asynchronously: Updating, then InService or Update_Failed
        (botocore's UserProfileStatus and SpaceStatus; the SageMaker Developer Guide's "Amazon
        SageMaker AI domain entities and statuses"). It takes as long as a domain's update here."""
        if self.update is not None and self.update.under_way(settings.domain_update_seconds):
            return "Updating"
        return "Update_Failed" if self.update_failure else "InService"

    def summary(self) -> dict[str, Any]:
        return {
            "DomainId": self.domain_id,
            f"{self.kind}Name": self.name,
            "Status": self.status,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
        }

    def describe(self) -> dict[str, Any]:
        summary = self.summary()
        return {
            **summary,
            f"{self.kind}Arn": self.arn,
            "HomeEfsFileSystemUid": "200001",
            "FailureReason": self.update_failure if summary["Status"] == "Update_Failed" else None,
            **self.settings,
        }


DEFAULT_LOG_LINES = {
    "KernelGateway": [
        "[I KernelGatewayApp] Jupyter Kernel Gateway is available at http://0.0.0.0:8888",
        "[I KernelGatewayApp] Kernel started",
    ],
    "JupyterLab": ["[I ServerApp] Jupyter Server is running at: http://0.0.0.0:8888/jupyterlab/default"],
    "CodeEditor": ["Extension host agent listening on 8888"],
    "RSessionGateway": ["rsession started"],
}


@dataclass
class App:
    domain_id: str
    owner_kind: str  # "UserProfile" or "Space"
    owner: str
    app_type: str
    name: str
    arn: str
    resource_spec: dict[str, Any]
    script: AppScript
    created: datetime = field(default_factory=utcnow)
    deletion: Change | None = None

    @property
    def log_stream(self) -> str:
        kind = "RSession" if self.app_type == "RSessionGateway" else self.app_type  # as Studio names it
        return f"{self.domain_id}/{self.owner}/{kind}/{self.name}"

    @property
    def status(self) -> str:
        if self.deletion is not None:  # DeleteApp is asynchronous: Deleting, then Deleted (AppStatus)
            return "Deleting" if self.deletion.under_way(settings.app_delete_seconds) else "Deleted"
        if self.script.never_starts or not _elapsed(self.created, settings.app_start_seconds):
            return "Pending"
        return "Failed" if self.script.fails else "InService"

    def summary(self) -> dict[str, Any]:
        return {
            "DomainId": self.domain_id,
            f"{self.owner_kind}Name": self.owner,
            "AppType": self.app_type,
            "AppName": self.name,
            "Status": self.status,
            "CreationTime": self.created,
            "ResourceSpec": self.resource_spec,
        }

    def describe(self) -> dict[str, Any]:
        summary = self.summary()
        failure = self.script.reason if summary["Status"] == "Failed" else None
        return {**summary, "AppArn": self.arn, "FailureReason": failure}


@dataclass
class StudioState:
    images: dict[str, Image] = field(default_factory=dict)
    app_image_configs: dict[str, AppImageConfig] = field(default_factory=dict)
    members: dict[tuple[str, str, str], Member] = field(default_factory=dict)  # (kind, domain, name)
    apps: dict[tuple[str, str, str, str], App] = field(default_factory=dict)  # (domain, owner, type, name)
    domain_updated: dict[str, datetime] = field(default_factory=dict)
    domain_update_failed: dict[str, str] = field(default_factory=dict)  # domain -> FailureReason


class StudioBackend:
    """Grafted onto moto's SageMakerModelBackend (see moto_studio.install)."""

    account_id: str
    region_name: str
    domains: dict[str, Any]

    @property
    def studio(self) -> StudioState:
        # Created on first use, so backends made before install() and after a reset both get one.
        return self.__dict__.setdefault("_studio_state", StudioState())  # type: ignore[no-any-return]

    def _arn(self, kind: str, name: str) -> str:
        return arn_formatter(kind, name, self.account_id, self.region_name)

    # Images -------------------------------------------------------------------------------------

    def create_image(
        self, name: str, role_arn: str, description: str | None, display_name: str | None, tags: list[Any]
    ) -> Image:
        if name in self.studio.images:
            raise ResourceInUseException(f"Image {name} already exists")
        image = Image(name, self._arn("image", name.lower()), role_arn, description, display_name, tags or [])
        if faults.take("sagemaker", "CreateImage", ["create_failed"]):
            image.injected_failure = IMAGE_CREATE_FAILED_REASON
        self.studio.images[name] = image
        return image

    def get_image(self, name: str) -> Image:
        if name not in self.studio.images:
            raise ResourceNotFound(f"Image {self._arn('image', name.lower())} does not exist")
        return self.studio.images[name]

    def update_image(
        self,
        name: str,
        delete_properties: list[str],
        description: str | None,
        display_name: str | None,
        role_arn: str | None,
    ) -> Image:
        image = self.get_image(name)
        for prop in delete_properties or []:
            setattr(image, {"Description": "description", "DisplayName": "display_name"}[prop], None)
        image.description = description if description is not None else image.description
        image.display_name = display_name if display_name is not None else image.display_name
        image.role_arn = role_arn or image.role_arn
        image.modified = utcnow()
        return image

    def delete_image(self, name: str) -> None:
        self.get_image(name)
        del self.studio.images[name]

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_images(self, name_contains: str | None) -> list[Image]:
        images = sorted(self.studio.images.values(), key=lambda i: i.created)
        return [i for i in images if not name_contains or name_contains in i.name]

    # Image versions -----------------------------------------------------------------------------

    def create_image_version(
        self, image_name: str, base_image: str, client_token: str, aliases: list[str], details: dict[str, Any]
    ) -> ImageVersion:
        image = self.get_image(image_name)
        if client_token in image.tokens:  # a retry of a call that already created this version
            return image.versions[image.tokens[client_token]]
        if image.status != "CREATED":
            # SageMaker's answer while the image is not CREATED, as the AWS CLI quotes it in
            # github.com/aws-samples/sagemaker-studio-custom-image-samples/issues/17
            raise ValidationError(f"Image {image_name} is in an invalid state.")
        creating = [v.version for v in image.versions.values() if v.status == "CREATING"]
        if creating:  # CreateImageVersion's ResourceInUse: the image is being changed
            raise ResourceInUseException(
                f"Image {image.arn} is being modified: version {creating[0]} is CREATING"
            )
        taken = {a for v in image.versions.values() for a in v.aliases}.intersection(aliases or [])
        if taken:
            raise ValidationError(f"Alias {sorted(taken)[0]} already exists for image {image_name}")
        number = image.last_version = image.last_version + 1
        version = ImageVersion(
            image, number, base_image, self.account_id, self.region_name, set(aliases or []), details
        )
        if faults.take("sagemaker", "CreateImageVersion", ["create_failed"]):
            version.injected_failure = CREATE_FAILED_REASON
        image.versions[number] = version
        image.tokens[client_token] = number
        return version

    def get_image_version(self, image_name: str, version: int | None, alias: str | None) -> ImageVersion:
        image = self.get_image(image_name)
        if version is not None and alias is not None:
            raise ValidationError("Specify either Version or Alias, not both")
        if alias is not None:
            found = next((v for v in image.versions.values() if alias in v.aliases), None)
        elif version is not None:
            found = image.versions.get(version)
        else:
            found = image.versions[max(image.versions)] if image.versions else None
        if found is None:
            which = f"alias {alias}" if alias else f"version {version}" if version else "any version"
            raise ResourceNotFound(f"Image {image.arn} has no {which}")
        return found

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_image_versions(self, image_name: str) -> list[ImageVersion]:
        return sorted(self.get_image(image_name).versions.values(), key=lambda v: v.version)

    def update_image_version(
        self,
        image_name: str,
        version: int | None,
        alias: str | None,
        add: list[str],
        delete: list[str],
        details: dict[str, Any],
    ) -> ImageVersion:
        found = self.get_image_version(image_name, version, alias)
        others = {a for v in found.image.versions.values() if v is not found for a in v.aliases}
        if others.intersection(add or []):
            raise ValidationError(
                f"Alias {sorted(others.intersection(add))[0]} already exists for image {image_name}"
            )
        found.aliases = (found.aliases | set(add or [])) - set(delete or [])
        found.details.update({k: v for k, v in details.items() if v is not None})
        found.modified = utcnow()
        return found

    def delete_image_version(self, image_name: str, version: int | None, alias: str | None) -> None:
        found = self.get_image_version(image_name, version, alias)
        del found.image.versions[found.version]

    # App image configs --------------------------------------------------------------------------

    def create_app_image_config(self, name: str, configs: dict[str, Any], tags: list[Any]) -> AppImageConfig:
        if name in self.studio.app_image_configs:
            raise ResourceInUseException(f"AppImageConfig {name} already exists")
        constraints.check_app_image_config(configs)
        config = AppImageConfig(name, self._arn("app-image-config", name.lower()), configs, tags or [])
        self.studio.app_image_configs[name] = config
        return config

    def get_app_image_config(self, name: str) -> AppImageConfig:
        if name not in self.studio.app_image_configs:
            raise ResourceNotFound(
                f"AppImageConfig {self._arn('app-image-config', name.lower())} does not exist"
            )
        return self.studio.app_image_configs[name]

    def update_app_image_config(self, name: str, configs: dict[str, Any]) -> AppImageConfig:
        config = self.get_app_image_config(name)
        constraints.check_app_image_config(configs)
        config.configs = configs
        config.modified = utcnow()
        return config

    def delete_app_image_config(self, name: str) -> None:
        self.get_app_image_config(name)
        del self.studio.app_image_configs[name]

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_app_image_configs(self, name_contains: str | None) -> list[AppImageConfig]:
        configs = sorted(self.studio.app_image_configs.values(), key=lambda c: c.created)
        return [c for c in configs if not name_contains or name_contains in c.name]

    # Domains ------------------------------------------------------------------------------------

    def get_domain(self, domain_id: str) -> Any:
        if domain_id not in self.domains:
            raise ResourceNotFound(f"Domain {self._arn('domain', domain_id)} does not exist")
        domain = self.domains[domain_id]
        updated = self.studio.domain_updated.get(domain_id)
        if updated is not None and _elapsed(updated, settings.domain_update_seconds):
            del self.studio.domain_updated[domain_id]
        failure = self.studio.domain_update_failed.get(domain_id)
        if domain_id in self.studio.domain_updated:
            domain.status = "Updating"
        else:  # DomainStatus: Update_Failed when the update could not be applied
            domain.status = "Update_Failed" if failure else "InService"
        domain.failure_reason = failure if domain.status == "Update_Failed" else None  # else absent
        return domain

    def update_domain(self, domain_id: str, changes: dict[str, Any]) -> Any:
        domain = self.get_domain(domain_id)
        if domain.status == "Updating":
            raise ResourceInUseException(
                f"Domain {domain.arn} is being updated; try again when it is InService"
            )
        for key in ("DefaultUserSettings", "DefaultSpaceSettings"):
            where = f"Domain {domain_id} {key}"
            constraints.check_custom_images(changes.get(key), constraints.MAX_DOMAIN_CUSTOM_IMAGES, where)
        for key, attribute in (
            ("DefaultUserSettings", "default_user_settings"),
            ("DefaultSpaceSettings", "default_space_settings"),
        ):
            if changes.get(key) is not None:  # each top-level setting given replaces the one held
                setattr(domain, attribute, {**(getattr(domain, attribute) or {}), **changes[key]})
        domain.last_modified_time = utcnow()
        self.studio.domain_updated[domain_id] = utcnow()
        self.studio.domain_update_failed.pop(domain_id, None)
        if faults.take("sagemaker", "UpdateDomain", ["update_failed"]):
            self.studio.domain_update_failed[domain_id] = UPDATE_FAILED_REASON
        domain.status = "Updating"
        return domain

    # User profiles and spaces ------------------------------------------------------------------

    def create_member(self, kind: str, domain_id: str, name: str, member_settings: dict[str, Any]) -> Member:
        self.get_domain(domain_id)
        key = (kind, domain_id, name)
        if key in self.studio.members:
            raise ResourceInUseException(f"{kind} {name} already exists in domain {domain_id}")
        self._check_member_images(kind, name, member_settings)
        arn_kind = {"UserProfile": "user-profile", "Space": "space"}[kind]
        member = Member(kind, domain_id, name, self._arn(arn_kind, f"{domain_id}/{name}"), member_settings)
        self.studio.members[key] = member
        return member

    def get_member(self, kind: str, domain_id: str, name: str) -> Member:
        member = self.studio.members.get((kind, domain_id, name))
        if member is None:
            raise ResourceNotFound(f"{kind} {name} does not exist in domain {domain_id}")
        return member

    def update_member(self, kind: str, domain_id: str, name: str, member_settings: dict[str, Any]) -> Member:
        member = self.get_member(kind, domain_id, name)
        self._check_member_images(kind, name, member_settings)
        if kind == "Space":
            held = member.settings.get("SpaceSettings") or {}
            constraints.check_space_app_type_kept(held, member_settings.get("SpaceSettings"), name)
        # While an update is under way another is refused, as UpdateDomain's is (ResourceInUse is
        # one of UpdateUserProfile's and UpdateSpace's errors in botocore's service model)
        if member.status == "Updating" or settings.take_busy(f"Update{kind}"):
            raise ResourceInUseException(f"{kind} {member.arn} is being updated; try again later")
        member.settings.update({k: v for k, v in member_settings.items() if v is not None})
        member.modified = utcnow()
        member.update = Change()
        failed = faults.take("sagemaker", f"Update{kind}", ["update_failed"])
        member.update_failure = UPDATE_FAILED_REASON if failed else None
        return member

    @staticmethod
    def _check_member_images(kind: str, name: str, member_settings: dict[str, Any]) -> None:
        settings_key = "UserSettings" if kind == "UserProfile" else "SpaceSettings"
        constraints.check_custom_images(
            member_settings.get(settings_key),
            constraints.MAX_MEMBER_CUSTOM_IMAGES,
            f"{kind} {name}",
            constraints.MEMBER_LIMITED_APPS,
        )

    def delete_member(self, kind: str, domain_id: str, name: str) -> None:
        self.get_member(kind, domain_id, name)
        del self.studio.members[(kind, domain_id, name)]

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_members(self, kind: str, domain_id: str | None, name_contains: str | None) -> list[Member]:
        return [
            m
            for (k, d, n), m in sorted(self.studio.members.items(), key=lambda item: item[1].created)
            if k == kind and (not domain_id or d == domain_id) and (not name_contains or name_contains in n)
        ]

    # Apps ---------------------------------------------------------------------------------------

    def _owner(self, user_profile: str | None, space: str | None) -> tuple[str, str]:
        if bool(user_profile) == bool(space):
            raise ValidationError("Exactly one of UserProfileName and SpaceName must be given")
        return ("UserProfile", user_profile) if user_profile else ("Space", space)  # type: ignore[return-value]

    def create_app(
        self,
        domain_id: str,
        user_profile: str | None,
        space: str | None,
        app_type: str,
        name: str,
        resource_spec: dict[str, Any],
    ) -> App:
        kind, owner = self._owner(user_profile, space)
        self.get_domain(domain_id)
        member = self.get_member(kind, domain_id, owner)
        key = (domain_id, owner, app_type, name)
        existing = self.studio.apps.get(key)
        if existing and existing.status not in ("Deleted", "Failed"):
            raise ResourceInUseException(f"App {existing.arn} already exists")
        if kind == "Space":
            constraints.check_space_app(member.settings.get("SpaceSettings") or {}, owner, app_type, name)
            running = [
                a.arn
                for (d, o, _, _), a in self.studio.apps.items()
                if d == domain_id
                and o == owner
                and a.owner_kind == "Space"
                and a.status not in ("Deleted", "Failed")
            ]
            constraints.check_space_is_free(running, owner)
        image_arn = (resource_spec or {}).get("SageMakerImageArn")
        image_name = image_arn.rsplit("/", 1)[-1] if image_arn else None
        if image_arn and not any(i.arn == image_arn for i in self.studio.images.values()):
            raise ResourceNotFound(f"Image {image_arn} does not exist")
        constraints.check_image_reaches_app(
            image_name, app_type, member, self.get_domain(domain_id), self.studio.members
        )
        script = settings.app_script_for(name, image_name)
        version_arn = (resource_spec or {}).get("SageMakerImageVersionArn")
        if script == AppScript() and image_name and version_arn:
            version = self.studio.images[image_name].versions.get(int(version_arn.rsplit("/", 1)[1]))
            script = _label_script(version.base_image if version else None) or script
        arn = self._arn("app", f"{domain_id}/{owner}/{app_type.lower()}/{name}")
        app = App(domain_id, kind, owner, app_type, name, arn, resource_spec or {}, script)
        self.studio.apps[key] = app
        self._write_start_logs(app)
        return app

    def _write_start_logs(self, app: App) -> None:
        logs = logs_backends[self.account_id][self.region_name]
        logs.ensure_log_group(LOG_GROUP)
        if app.log_stream not in logs.groups[LOG_GROUP].streams:
            logs.create_log_stream(LOG_GROUP, app.log_stream)
        lines = (
            app.script.log_lines
            if app.script.log_lines is not None
            else DEFAULT_LOG_LINES.get(app.app_type, [])
        )
        millis = int(utcnow().timestamp() * 1000)
        events = [{"timestamp": millis + i, "message": line} for i, line in enumerate(lines)]
        if events:
            logs.put_log_events(LOG_GROUP, app.log_stream, events)

    def get_app(
        self, domain_id: str, user_profile: str | None, space: str | None, app_type: str, name: str
    ) -> App:
        _, owner = self._owner(user_profile, space)
        app = self.studio.apps.get((domain_id, owner, app_type, name))
        if app is None:
            raise ResourceNotFound(
                f"App {name} of type {app_type} does not exist for {owner} in domain {domain_id}"
            )
        return app

    def delete_app(
        self, domain_id: str, user_profile: str | None, space: str | None, app_type: str, name: str
    ) -> None:
        app = self.get_app(domain_id, user_profile, space, app_type, name)
        if app.deletion is not None:
            # DeleteApp of a deleted app is a ValidationException saying so: terraform-provider-aws's
            # aws_sagemaker_app delete (internal/service/sagemaker/app.go) takes ValidationException
            # "has already been deleted" for done. An app still Deleting is answered the same here.
            raise ValidationError(f"App {app.arn} has already been deleted")
        if settings.take_busy("DeleteApp"):
            raise ResourceInUseException(f"App {app.arn} is in use; try again later")
        app.deletion = Change()

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_apps(self, domain_id: str | None, user_profile: str | None, space: str | None) -> list[App]:
        return [
            a
            for a in sorted(self.studio.apps.values(), key=lambda a: a.created)
            if (not domain_id or a.domain_id == domain_id)
            and (not user_profile or (a.owner_kind == "UserProfile" and a.owner == user_profile))
            and (not space or (a.owner_kind == "Space" and a.owner == space))
        ]
