"""SageMaker adapter: the image, version, app-image-config and Studio settings calls we make."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ..errors import AppBusy, AwsRequestFailed, DomainBusy, ImageBusy
from .common import ErrorMap, NotFound, call

# ResourceInUse on an update means the domain, space or profile is still applying another change.
_UPDATE_ERRORS: ErrorMap = {"ResourceInUse": DomainBusy}


class AlreadyExists(AwsRequestFailed):
    """A create call named a resource that exists."""


_DESCRIBE_ERRORS: ErrorMap = {"ResourceNotFound": NotFound}
_CREATE_ERRORS: ErrorMap = {"ResourceInUse": AlreadyExists}
# CreateImageVersion answers ResourceInUse while the image is being created or changed, and
# DeleteApp while the app cannot be deleted yet: both pass, and are retried.
_VERSION_ERRORS: ErrorMap = {"ResourceInUse": ImageBusy}
_DELETE_APP_ERRORS: ErrorMap = {**_DESCRIBE_ERRORS, "ResourceInUse": AppBusy}
# CreateImageVersion of an image SageMaker has not finished creating answers ValidationException
# "Image <name> is in an invalid state." (as the AWS CLI quotes it in
# github.com/aws-samples/sagemaker-studio-custom-image-samples/issues/17): busy, and retried.
_IMAGE_NOT_READY = "is in an invalid state"
# DeleteApp of an app that is gone answers ValidationException "... has already been deleted", or
# "... previously failed and was automatically deleted": terraform-provider-aws's aws_sagemaker_app
# delete (internal/service/sagemaker/app.go) takes both for done.
_APP_GONE = ("has already been deleted", "previously failed and was automatically deleted")

# The member kinds a custom image can be attached to, by the names their API calls use.
MEMBER_CALLS = {
    "UserProfile": ("describe_user_profile", "update_user_profile", "UserProfileName", "UserSettings"),
    "Space": ("describe_space", "update_space", "SpaceName", "SpaceSettings"),
}


def _validation_says(err: AwsRequestFailed, words: str) -> bool:
    """Whether SageMaker answered a ValidationException whose message holds `words`."""
    cause = err.__cause__
    if not isinstance(cause, ClientError):
        return False
    error = cause.response.get("Error", {})
    return error.get("Code") == "ValidationException" and words in str(error.get("Message", ""))


class ImageState(BaseModel):
    """DescribeImage, as far as we read it: ImageStatus is CREATING, CREATED, CREATE_FAILED,
    UPDATING, UPDATE_FAILED, DELETING or DELETE_FAILED (botocore's ImageStatus)."""

    name: str
    description: str | None = None
    status: str
    failure_reason: str | None = None


class ImageVersionState(BaseModel):
    """DescribeImageVersion: CREATING, CREATED, CREATE_FAILED, ..."""

    status: str
    failure_reason: str | None = None


class MemberState(BaseModel):
    """DescribeUserProfile or DescribeSpace: its status (InService, Updating, Update_Failed, ...;
    botocore's UserProfileStatus and SpaceStatus), its UserSettings or SpaceSettings, and a space's
    sharing and owner."""

    status: str
    failure_reason: str | None = None
    settings: dict[str, Any]
    sharing_type: str | None = None  # a space's SpaceSharingSettings.SharingType: Private or Shared
    owner: str | None = None  # a space's OwnershipSettings.OwnerUserProfileName


class AppState(BaseModel):
    """DescribeApp: its status (Pending, InService, Failed, ...) and the image it runs."""

    status: str
    failure_reason: str | None = None
    image_arn: str | None = None  # None: a SageMaker-provided image
    image_version_arn: str | None = None


def split_version_arn(arn: str) -> tuple[str, str, int]:
    """(image ARN, image name, version number) of an image version's ARN."""
    head, _, version = arn.rpartition("/")
    image_arn = head.replace(":image-version/", ":image/")
    return image_arn, image_arn.rsplit("/", 1)[1], int(version)


class SageMaker:
    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client or boto3.client("sagemaker", region_name=region)

    def describe_image(self, name: str) -> ImageState | None:
        try:
            found = call(self._client, "describe_image", f"image {name}", _DESCRIBE_ERRORS, ImageName=name)
        except NotFound:
            return None
        return ImageState(
            name=found.get("ImageName") or name,
            description=found.get("Description"),
            status=str(found["ImageStatus"]),
            failure_reason=found.get("FailureReason") or None,
        )

    def create_image(self, name: str, role_arn: str, display_name: str, description: str) -> None:
        """Create the image; one created meanwhile by a concurrent pipeline is as good."""
        try:
            call(
                self._client,
                "create_image",
                f"create image {name}",
                _CREATE_ERRORS,
                ImageName=name,
                RoleArn=role_arn,
                DisplayName=display_name,
                Description=description,
            )
        except AlreadyExists:
            return

    def create_image_version(self, name: str, base_image: str, client_token: str) -> str:
        try:
            found = call(
                self._client,
                "create_image_version",
                f"create version of image {name}",
                _VERSION_ERRORS,
                ImageName=name,
                BaseImage=base_image,
                ClientToken=client_token,
            )
        except AwsRequestFailed as err:
            if _validation_says(err, _IMAGE_NOT_READY):
                raise ImageBusy(str(err)) from err
            raise
        return str(found["ImageVersionArn"])

    def describe_image_version(self, name: str, version: int) -> ImageVersionState:
        found = call(
            self._client,
            "describe_image_version",
            f"image {name} version {version}",
            _DESCRIBE_ERRORS,
            ImageName=name,
            Version=version,
        )
        return ImageVersionState(
            status=str(found["ImageVersionStatus"]), failure_reason=found.get("FailureReason") or None
        )

    def list_image_versions(self, name: str) -> list[int]:
        found: list[int] = []
        token: dict[str, Any] = {}
        while True:
            page = call(
                self._client, "list_image_versions", f"versions of image {name}", ImageName=name, **token
            )
            found += [int(v["Version"]) for v in page.get("ImageVersions", [])]
            if not page.get("NextToken"):
                return sorted(found)
            token = {"NextToken": page["NextToken"]}

    def delete_image_version(self, name: str, version: int) -> bool:
        """Delete the version; False if it was already gone."""
        try:
            call(
                self._client,
                "delete_image_version",
                f"delete image {name} version {version}",
                _DESCRIBE_ERRORS,
                ImageName=name,
                Version=version,
            )
        except NotFound:
            return False
        return True

    def put_app_image_config(self, request: dict[str, Any]) -> str:
        """Create the AppImageConfig, or update it in place if it exists."""
        name = request["AppImageConfigName"]
        try:
            found = call(
                self._client,
                "create_app_image_config",
                f"create app image config {name}",
                _CREATE_ERRORS,
                **request,
            )
        except AlreadyExists:
            found = call(
                self._client, "update_app_image_config", f"update app image config {name}", **request
            )
        return str(found["AppImageConfigArn"])

    def delete_app_image_config(self, name: str) -> bool:
        """Delete the AppImageConfig; False if there was none."""
        try:
            call(
                self._client,
                "delete_app_image_config",
                f"delete app image config {name}",
                _DESCRIBE_ERRORS,
                AppImageConfigName=name,
            )
        except NotFound:
            return False
        return True

    def describe_domain(self, domain_id: str) -> dict[str, Any]:
        return call(self._client, "describe_domain", f"domain {domain_id}", DomainId=domain_id)

    def update_domain(self, domain_id: str, **settings: Any) -> None:
        call(
            self._client,
            "update_domain",
            f"update domain {domain_id}",
            _UPDATE_ERRORS,
            DomainId=domain_id,
            **settings,
        )

    def describe_member(self, kind: str, domain_id: str, name: str) -> MemberState:
        describe, _, name_key, settings_key = MEMBER_CALLS[kind]
        kwargs: dict[str, Any] = {"DomainId": domain_id, name_key: name}
        found = call(self._client, describe, f"{kind} {name} in {domain_id}", _DESCRIBE_ERRORS, **kwargs)
        return MemberState(
            status=str(found["Status"]),
            failure_reason=found.get("FailureReason") or None,
            settings=dict(found.get(settings_key) or {}),
            sharing_type=(found.get("SpaceSharingSettings") or {}).get("SharingType"),
            owner=(found.get("OwnershipSettings") or {}).get("OwnerUserProfileName"),
        )

    def member_settings(self, kind: str, domain_id: str, name: str) -> dict[str, Any]:
        return self.describe_member(kind, domain_id, name).settings

    def update_member(self, kind: str, domain_id: str, name: str, settings: dict[str, Any]) -> None:
        _, update, name_key, settings_key = MEMBER_CALLS[kind]
        kwargs: dict[str, Any] = {"DomainId": domain_id, name_key: name, settings_key: settings}
        call(self._client, update, f"update {kind} {name} in {domain_id}", _UPDATE_ERRORS, **kwargs)

    # Apps: the canary start

    def _app(self, domain_id: str, owner_kind: str, owner: str, app_type: str, name: str) -> dict[str, Any]:
        return {
            "DomainId": domain_id,
            MEMBER_CALLS[owner_kind][2]: owner,
            "AppType": app_type,
            "AppName": name,
        }

    def create_app(
        self, domain_id: str, owner_kind: str, owner: str, app_type: str, name: str, spec: dict[str, Any]
    ) -> None:
        call(
            self._client,
            "create_app",
            f"create {app_type} app {name} for {owner}",
            _CREATE_ERRORS,
            ResourceSpec=spec,
            **self._app(domain_id, owner_kind, owner, app_type, name),
        )

    def describe_app(self, domain_id: str, owner_kind: str, owner: str, app_type: str, name: str) -> AppState:
        found = call(
            self._client,
            "describe_app",
            f"{app_type} app {name} of {owner}",
            _DESCRIBE_ERRORS,
            **self._app(domain_id, owner_kind, owner, app_type, name),
        )
        spec = found.get("ResourceSpec") or {}
        return AppState(
            status=str(found["Status"]),
            failure_reason=found.get("FailureReason") or None,
            image_arn=spec.get("SageMakerImageArn") or None,
            image_version_arn=spec.get("SageMakerImageVersionArn") or None,
        )

    def delete_app(self, domain_id: str, owner_kind: str, owner: str, app_type: str, name: str) -> bool:
        """Delete the app (SageMaker goes on deleting it: Deleting, then Deleted); False if it was
        already deleted or gone."""
        try:
            call(
                self._client,
                "delete_app",
                f"delete {app_type} app {name} of {owner}",
                _DELETE_APP_ERRORS,
                **self._app(domain_id, owner_kind, owner, app_type, name),
            )
        except NotFound:
            return False
        except AwsRequestFailed as err:
            if any(_validation_says(err, words) for words in _APP_GONE):
                return False
            raise
        return True
