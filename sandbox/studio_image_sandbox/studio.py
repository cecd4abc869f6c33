"""A Studio domain for the pipeline to attach images to: the execution role SageMaker images
assume, a domain, user profiles, shared spaces, and one space per app type for the canary starts
(a space runs one app, of its own SpaceSettings.AppType, so a canary needs a space of its type).

The canary spaces are private, owned by the first user profile: a private space runs the custom
images of its owner's user settings and the domain's DefaultUserSettings, a shared space those of
the domain's DefaultSpaceSettings, which has no Code Editor images (botocore's UserSettings and
DefaultSpaceSettings). So a binding that attaches to that user, or to DefaultUserSettings, reaches
its canary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StudioDomain:
    domain_id: str
    role_arn: str  # the execution role, also the role the pipeline passes to CreateImage
    user_profiles: tuple[str, ...]
    spaces: tuple[str, ...]
    canary_spaces: dict[str, str]  # app type -> the space its canaries start in


# What the sandbox's configuration names as the JupyterLab and Code Editor canaries' spaces.
CANARY_SPACES = {"JupyterLab": "canary-jupyterlab", "CodeEditor": "canary-code-editor"}


def create_domain(
    iam: Any,
    sagemaker: Any,
    *,
    name: str = "studio",
    user_profiles: tuple[str, ...] = ("alice",),
    spaces: tuple[str, ...] = ("shared",),
) -> StudioDomain:
    role = iam.create_role(RoleName=f"{name}-execution", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    domain_arn = sagemaker.create_domain(
        DomainName=name,
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": role},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )["DomainArn"]
    domain_id = domain_arn.rsplit("/", 1)[1]
    for user in user_profiles:
        sagemaker.create_user_profile(
            DomainId=domain_id, UserProfileName=user, UserSettings={"ExecutionRole": role}
        )
    for space in spaces:
        sagemaker.create_space(
            DomainId=domain_id,
            SpaceName=space,
            SpaceSettings={"AppType": "JupyterLab"},
            SpaceSharingSettings={"SharingType": "Shared"},
        )
    for app_type, space in CANARY_SPACES.items():
        sagemaker.create_space(
            DomainId=domain_id,
            SpaceName=space,
            SpaceSettings={"AppType": app_type},
            SpaceSharingSettings={"SharingType": "Private"},
            OwnershipSettings={"OwnerUserProfileName": user_profiles[0]},
        )
    return StudioDomain(domain_id, role, user_profiles, spaces, dict(CANARY_SPACES))
