"""Response methods for the Studio actions, grafted onto moto's SageMakerResponse."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import AWSValidationException

from ..validation import omit_nulls, validation_message
from .models import StudioBackend

APP_CONFIG_KEYS = ("KernelGatewayImageConfig", "JupyterLabAppImageConfig", "CodeEditorAppImageConfig")
VERSION_DETAILS = (
    "VendorGuidance",
    "JobType",
    "MLFramework",
    "ProgrammingLang",
    "Processor",
    "Horovod",
    "ReleaseNotes",
)
SPACE_SETTINGS = ("SpaceSettings", "OwnershipSettings", "SpaceSharingSettings", "SpaceDisplayName")


def _answer(body: dict[str, Any]) -> ActionResult:
    return ActionResult(omit_nulls(body))


def _page(found: tuple[list[Any], str | None], key: str, render: str = "summary") -> ActionResult:
    """One page, as the backend's `@paginate` cut it."""
    items, token = found
    result: dict[str, Any] = {key: [getattr(item, render)() for item in items]}
    if token:
        result["NextToken"] = token
    return _answer(result)


def _paging(params: dict[str, Any]) -> dict[str, Any]:
    return {"next_token": params.get("NextToken"), "max_results": params.get("MaxResults")}


def _identity_center(domain: Any) -> dict[str, Any]:
    """DescribeDomain's IAM Identity Center members (None: omitted). An SSO domain's application
    ARN takes the form of botocore's DescribeDomainResponse.SingleSignOnApplicationArn pattern,
    `arn:aws:sso::ACCOUNT:application/ssoins-.../apl-...` (moto writes a sagemaker ARN). Only a
    domain onboarded with IAM Identity Center has such an application
    (https://docs.aws.amazon.com/sagemaker/latest/dg/onboard-sso-users.html); one with AuthMode
    IAM signs its members in through IAM, so neither member is sent."""
    if domain.auth_mode != "SSO":
        return {"SingleSignOnManagedApplicationInstanceId": None, "SingleSignOnApplicationArn": None}
    account, suffix = domain.arn.split(":")[4], re.sub("[^a-zA-Z0-9]", "", domain.id)
    return {"SingleSignOnApplicationArn": f"arn:aws:sso::{account}:application/ssoins-{suffix}/apl-{suffix}"}


class StudioResponse:
    """Grafted onto moto's SageMakerResponse (see moto_studio.install)."""

    params: dict[str, Any]
    sagemaker_backend: StudioBackend
    _get_action: Callable[[], str]  # moto's BaseResponse

    def _request(self) -> dict[str, Any]:
        """The request's parameters, once they satisfy the service model's limits."""
        params = self.params or {}
        problem = validation_message("sagemaker", self._get_action(), params)
        if problem:
            raise AWSValidationException(problem)
        return params

    # Images

    def create_image(self) -> ActionResult:
        p = self._request()
        image = self.sagemaker_backend.create_image(
            p["ImageName"], p["RoleArn"], p.get("Description"), p.get("DisplayName"), p.get("Tags", [])
        )
        return _answer({"ImageArn": image.arn})

    def describe_image(self) -> ActionResult:
        return _answer(self.sagemaker_backend.get_image(self._request()["ImageName"]).describe())

    def update_image(self) -> ActionResult:
        p = self._request()
        image = self.sagemaker_backend.update_image(
            p["ImageName"],
            p.get("DeleteProperties", []),
            p.get("Description"),
            p.get("DisplayName"),
            p.get("RoleArn"),
        )
        return _answer({"ImageArn": image.arn})

    def delete_image(self) -> EmptyResult:
        self.sagemaker_backend.delete_image(self._request()["ImageName"])
        return EmptyResult()

    def list_images(self) -> ActionResult:
        p = self._request()
        return _page(self.sagemaker_backend.list_images(p.get("NameContains"), **_paging(p)), "Images")

    # Image versions

    def create_image_version(self) -> ActionResult:
        p = self._request()
        version = self.sagemaker_backend.create_image_version(
            p["ImageName"],
            p["BaseImage"],
            p["ClientToken"],
            p.get("Aliases", []),
            {k: p[k] for k in VERSION_DETAILS if k in p},
        )
        return _answer({"ImageVersionArn": version.arn})

    def describe_image_version(self) -> ActionResult:
        p = self._request()
        return _answer(
            self.sagemaker_backend.get_image_version(
                p["ImageName"], p.get("Version"), p.get("Alias")
            ).describe()
        )

    def list_image_versions(self) -> ActionResult:
        p = self._request()
        return _page(
            self.sagemaker_backend.list_image_versions(p["ImageName"], **_paging(p)), "ImageVersions"
        )

    def update_image_version(self) -> ActionResult:
        p = self._request()
        version = self.sagemaker_backend.update_image_version(
            p["ImageName"],
            p.get("Version"),
            p.get("Alias"),
            p.get("AliasesToAdd", []),
            p.get("AliasesToDelete", []),
            {k: p.get(k) for k in VERSION_DETAILS},
        )
        return _answer({"ImageVersionArn": version.arn})

    def delete_image_version(self) -> EmptyResult:
        p = self._request()
        self.sagemaker_backend.delete_image_version(p["ImageName"], p.get("Version"), p.get("Alias"))
        return EmptyResult()

    # App image configs

    def create_app_image_config(self) -> ActionResult:
        p = self._request()
        configs = {k: p[k] for k in APP_CONFIG_KEYS if k in p}
        config = self.sagemaker_backend.create_app_image_config(
            p["AppImageConfigName"], configs, p.get("Tags", [])
        )
        return _answer({"AppImageConfigArn": config.arn})

    def describe_app_image_config(self) -> ActionResult:
        return _answer(
            self.sagemaker_backend.get_app_image_config(self._request()["AppImageConfigName"]).describe()
        )

    def update_app_image_config(self) -> ActionResult:
        p = self._request()
        configs = {k: p[k] for k in APP_CONFIG_KEYS if k in p}
        return _answer(
            {
                "AppImageConfigArn": self.sagemaker_backend.update_app_image_config(
                    p["AppImageConfigName"], configs
                ).arn
            }
        )

    def delete_app_image_config(self) -> EmptyResult:
        self.sagemaker_backend.delete_app_image_config(self._request()["AppImageConfigName"])
        return EmptyResult()

    def list_app_image_configs(self) -> ActionResult:
        p = self._request()
        return _page(
            self.sagemaker_backend.list_app_image_configs(p.get("NameContains"), **_paging(p)),
            "AppImageConfigs",
            render="describe",
        )

    # Domains: DescribeDomain answers with the status an update leaves, and a missing domain is
    # ResourceNotFound, as in AWS

    def describe_domain(self) -> ActionResult:
        domain = self.sagemaker_backend.get_domain(self._request()["DomainId"])
        return _answer({**domain.describe(), **_identity_center(domain)})

    def update_domain(self) -> ActionResult:
        p = self._request()
        return _answer({"DomainArn": self.sagemaker_backend.update_domain(p["DomainId"], p).arn})

    # User profiles and spaces

    def create_user_profile(self) -> ActionResult:
        p = self._request()
        settings = {"UserSettings": p.get("UserSettings", {})}
        member = self.sagemaker_backend.create_member(
            "UserProfile", p["DomainId"], p["UserProfileName"], settings
        )
        return _answer({"UserProfileArn": member.arn})

    def describe_user_profile(self) -> ActionResult:
        p = self._request()
        return _answer(
            self.sagemaker_backend.get_member("UserProfile", p["DomainId"], p["UserProfileName"]).describe()
        )

    def update_user_profile(self) -> ActionResult:
        p = self._request()
        settings = {"UserSettings": p.get("UserSettings")}
        member = self.sagemaker_backend.update_member(
            "UserProfile", p["DomainId"], p["UserProfileName"], settings
        )
        return _answer({"UserProfileArn": member.arn})

    def delete_user_profile(self) -> EmptyResult:
        p = self._request()
        self.sagemaker_backend.delete_member("UserProfile", p["DomainId"], p["UserProfileName"])
        return EmptyResult()

    def list_user_profiles(self) -> ActionResult:
        p = self._request()
        members = self.sagemaker_backend.list_members(
            "UserProfile", p.get("DomainIdEquals"), p.get("UserProfileNameContains"), **_paging(p)
        )
        return _page(members, "UserProfiles")

    def create_space(self) -> ActionResult:
        p = self._request()
        settings = {k: p[k] for k in SPACE_SETTINGS if k in p}
        return _answer(
            {
                "SpaceArn": self.sagemaker_backend.create_member(
                    "Space", p["DomainId"], p["SpaceName"], settings
                ).arn
            }
        )

    def describe_space(self) -> ActionResult:
        p = self._request()
        return _answer(self.sagemaker_backend.get_member("Space", p["DomainId"], p["SpaceName"]).describe())

    def update_space(self) -> ActionResult:
        p = self._request()
        settings = {k: p.get(k) for k in SPACE_SETTINGS}
        return _answer(
            {
                "SpaceArn": self.sagemaker_backend.update_member(
                    "Space", p["DomainId"], p["SpaceName"], settings
                ).arn
            }
        )

    def delete_space(self) -> EmptyResult:
        p = self._request()
        self.sagemaker_backend.delete_member("Space", p["DomainId"], p["SpaceName"])
        return EmptyResult()

    def list_spaces(self) -> ActionResult:
        p = self._request()
        return _page(
            self.sagemaker_backend.list_members(
                "Space", p.get("DomainIdEquals"), p.get("SpaceNameContains"), **_paging(p)
            ),
            "Spaces",
        )

    # Apps

    def create_app(self) -> ActionResult:
        p = self._request()
        app = self.sagemaker_backend.create_app(
            p["DomainId"],
            p.get("UserProfileName"),
            p.get("SpaceName"),
            p["AppType"],
            p["AppName"],
            p.get("ResourceSpec", {}),
        )
        return _answer({"AppArn": app.arn})

    def _app_key(self) -> tuple[str, str | None, str | None, str, str]:
        p = self._request()
        return p["DomainId"], p.get("UserProfileName"), p.get("SpaceName"), p["AppType"], p["AppName"]

    def describe_app(self) -> ActionResult:
        return _answer(self.sagemaker_backend.get_app(*self._app_key()).describe())

    def delete_app(self) -> EmptyResult:
        self.sagemaker_backend.delete_app(*self._app_key())
        return EmptyResult()

    def list_apps(self) -> ActionResult:
        p = self._request()
        apps = self.sagemaker_backend.list_apps(
            p.get("DomainIdEquals"), p.get("UserProfileNameEquals"), p.get("SpaceNameEquals"), **_paging(p)
        )
        return _page(apps, "Apps")
