"""The canary's logic on in-memory fakes: where an attached image reaches a canary (Resolve's check),
a CreateApp that already went through counts as started, and a failed start still stops its app."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from studio_image.aws.common import NotFound
from studio_image.aws.sagemaker import AlreadyExists, AppState, MemberState
from studio_image.errors import AwsRequestFailed, CanarySpaceBusy, ConfigurationInvalid
from studio_image.findings import Profile
from studio_image.pipeline import canaryspace
from studio_image.pipeline.config import AttachTargets, Binding, CanarySettings
from studio_image.pipeline.models import CanaryPlan, Job, Outcome, Registration
from studio_image.pipeline.stages.canary import CanaryInput, StopInput, start_canary, stop_canary

VERSION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:image-version/studio-lab/3"
OTHER_VERSION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:image-version/someone-else/1"


def plan(owner_kind: str = "Space", owner: str = "canary", app_type: str = "JupyterLab") -> CanaryPlan:
    return CanaryPlan(
        owner_kind=owner_kind,
        owner=owner,
        app_type=app_type,
        instance_type="ml.t3.medium",
        budget_seconds=60,
        rollback=False,
    )


def attach(**targets: Any) -> AttachTargets:
    return AttachTargets(**{"default_user_settings": False, **targets})


PRIVATE_TO_ALICE = MemberState(status="InService", settings={}, sharing_type="Private", owner="alice")
SHARED = MemberState(status="InService", settings={}, sharing_type="Shared")
NO_SHARING_TYPE = MemberState(status="InService", settings={})  # as a Studio Classic space was made
PRIVATE_NO_OWNER = MemberState(status="InService", settings={}, sharing_type="Private")


@pytest.mark.parametrize(
    ("canary", "space", "targets", "refusal"),
    [
        # A private space sees its owner's user settings and the domain's DefaultUserSettings.
        (plan(), PRIVATE_TO_ALICE, attach(user_profiles=["alice"]), None),
        (plan(), PRIVATE_TO_ALICE, attach(default_user_settings=True), None),
        (plan(app_type="CodeEditor"), PRIVATE_TO_ALICE, attach(user_profiles=["alice"]), None),
        (
            plan(),
            PRIVATE_TO_ALICE,
            attach(user_profiles=["bob"], default_space_settings=True),
            "space canary, private to alice, sees the images of alice's user settings and the domain's "
            "DefaultUserSettings; add 'alice' to attach.user_profiles, or set attach.default_user_settings",
        ),
        (
            plan(),
            PRIVATE_NO_OWNER,
            attach(default_user_settings=True),
            "space canary is private but names no owner (OwnershipSettings); use another space",
        ),
        # A shared space sees the domain's DefaultSpaceSettings only, which has no Code Editor images.
        (plan(), SHARED, attach(default_space_settings=True), None),
        (plan(), NO_SHARING_TYPE, attach(default_space_settings=True), None),
        (
            plan(),
            SHARED,
            attach(default_user_settings=True, user_profiles=["alice"]),
            "space canary is shared: it sees the images of the domain's DefaultSpaceSettings only; "
            "set attach.default_space_settings, or use a private space whose owner the image reaches",
        ),
        (
            plan(app_type="CodeEditor"),
            SHARED,
            attach(default_user_settings=True),
            "which has no Code Editor images; use a private space whose owner the image reaches",
        ),
        # A KernelGateway space also sees its own SpaceSettings.
        (plan(app_type="KernelGateway"), SHARED, attach(spaces=["canary"]), None),
        (plan(app_type="KernelGateway"), SHARED, attach(default_space_settings=True), None),
        (
            plan(app_type="KernelGateway"),
            SHARED,
            attach(spaces=["other"], default_user_settings=True),
            "add 'canary' to attach.spaces, or set default_space_settings",
        ),
        # A user profile's apps see its user settings and the domain's DefaultUserSettings.
        (plan("UserProfile", "alice", "KernelGateway"), None, attach(default_user_settings=True), None),
        (plan("UserProfile", "alice", "RSessionGateway"), None, attach(user_profiles=["alice"]), None),
        (
            plan("UserProfile", "alice", "KernelGateway"),
            None,
            attach(spaces=["shared"], default_space_settings=True),
            "user profile alice sees the images of alice's user settings and the domain's "
            "DefaultUserSettings; add 'alice' to attach.user_profiles",
        ),
    ],
)
def test_a_canary_runs_only_where_the_binding_attaches_its_image(canary, space, targets, refusal):
    # Given a canary under a user profile or in a space of a sharing type and owner, and the
    # binding's attach targets
    # When Resolve asks whether the canary sees the image
    problem = canaryspace.unseen_image(canary, targets, space)
    # Then it is allowed, or refused with what to change
    if refusal is None:
        assert problem is None
    else:
        assert problem is not None and refusal in problem


class FakeSageMaker:
    """The canary's SageMaker calls, on a dict of apps by name."""

    def __init__(self, space: MemberState | None = None, apps: dict[str, AppState] | None = None) -> None:
        self.space = space
        self.apps = dict(apps or {})
        self.created: list[str] = []
        self.deleted: list[str] = []

    def describe_member(self, kind: str, domain_id: str, name: str) -> MemberState:
        if self.space is None:
            raise NotFound(f"Space {name} in {domain_id}: ResourceNotFound")
        return self.space

    def describe_app(self, domain_id: str, kind: str, owner: str, app_type: str, name: str) -> AppState:
        if name not in self.apps:
            raise NotFound(f"{app_type} app {name} of {owner}: ResourceNotFound")
        return self.apps[name]

    def create_app(self, domain_id: str, kind: str, owner: str, app_type: str, name: str, spec: Any) -> None:
        if name in self.apps and self.apps[name].status not in ("Deleted", "Failed"):
            raise AlreadyExists(f"create {app_type} app {name} for {owner}: ResourceInUse")
        self.created.append(name)
        self.apps[name] = AppState(status="Pending", image_version_arn=spec["SageMakerImageVersionArn"])

    def delete_app(self, domain_id: str, kind: str, owner: str, app_type: str, name: str) -> bool:
        self.deleted.append(name)
        self.apps[name] = AppState(status="Deleted", image_version_arn=self.apps[name].image_version_arn)
        return True


def binding(**canary: Any) -> Binding:
    return Binding(match="studio/*", profile=Profile.JUPYTERLAB, canary=CanarySettings(**canary))


def job(canary: CanaryPlan) -> Job:
    return Job(
        binding=binding(space="canary"),
        registers=True,
        image_name="studio-lab",
        domain_id="d-1",
        display_name="lab",
        poll_seconds=1,
        canary=canary,
    )


REGISTRATION = Registration(
    image_name="studio-lab", image_version_arn=VERSION_ARN, version=3, status="CREATED"
)


def start_input(canary: CanaryPlan) -> CanaryInput:
    return CanaryInput(
        execution_arn="arn:aws:states:us-east-1:1:execution:p:run-1",
        job=job(canary),
        plan=canary,
        registration=REGISTRATION,
    )


@pytest.mark.parametrize("kind", ["Space", "UserProfile"])
def test_an_app_already_running_this_version_under_the_canarys_name_counts_as_started(kind):
    # Given the run's own canary app, already created by an earlier try whose answer was lost
    canary = plan(kind, "canary" if kind == "Space" else "alice")
    given = start_input(canary)
    name = start_canary(given, SimpleNamespace(sagemaker=FakeSageMaker())).app_name
    sagemaker = FakeSageMaker(apps={name: AppState(status="Pending", image_version_arn=VERSION_ARN)})
    # When StartCanary runs again
    started = start_canary(given, SimpleNamespace(sagemaker=sagemaker))
    # Then it counts the app as started, without creating another
    assert started.app_name == name and sagemaker.created == []


@pytest.mark.parametrize(
    "app",
    [
        AppState(status="InService", image_version_arn=OTHER_VERSION_ARN),
        AppState(status="Pending", image_version_arn=None),
    ],
)
def test_a_space_running_another_image_is_busy_not_started(app):
    # Given the canary space running someone's app (another image, or SageMaker's own)
    sagemaker = FakeSageMaker(apps={"default": app})
    # When StartCanary runs, then the space is busy (retried), not taken for the canary
    with pytest.raises(CanarySpaceBusy):
        start_canary(start_input(plan()), SimpleNamespace(sagemaker=sagemaker))
    assert sagemaker.created == []


def test_an_app_of_the_canarys_name_running_another_version_is_not_taken_for_it():
    # Given a user profile's app of the canary's name that runs another image
    canary = plan("UserProfile", "alice", "KernelGateway")
    given = start_input(canary)
    name = start_canary(given, SimpleNamespace(sagemaker=FakeSageMaker())).app_name
    sagemaker = FakeSageMaker(apps={name: AppState(status="InService", image_version_arn=OTHER_VERSION_ARN)})
    # When StartCanary runs, then CreateApp's AlreadyExists stands
    with pytest.raises(AlreadyExists):
        start_canary(given, SimpleNamespace(sagemaker=sagemaker))
    assert issubclass(AlreadyExists, AwsRequestFailed)


def stop_input(canary: CanaryPlan, started: dict[str, Any]) -> StopInput:
    return StopInput(
        execution_arn="arn:aws:states:us-east-1:1:execution:p:run-1",
        job=job(canary),
        plan=canary,
        canary=started,
        registration=REGISTRATION,
        attached=[],
    )


@pytest.mark.parametrize(
    ("app", "deleted"),
    [
        (AppState(status="InService", image_version_arn=VERSION_ARN), ["default"]),  # CreateApp went through
        (AppState(status="InService", image_version_arn=OTHER_VERSION_ARN), []),  # a user's app
        (None, []),  # CreateApp never went through
    ],
)
def test_a_failed_start_deletes_the_app_it_may_have_created_and_only_that(app, deleted):
    # Given StartCanary failed (its Catch leaves {"status": "StartFailed"} as the canary), and the
    # canary space with this version's app, someone else's, or none
    sagemaker = FakeSageMaker(apps={"default": app} if app else {})
    # When StopCanary runs
    stopped = stop_canary(
        stop_input(plan(), {"status": "StartFailed"}),
        SimpleNamespace(sagemaker=sagemaker),
    )
    # Then only an app of this version is deleted, and the canary counts as failed
    assert sagemaker.deleted == deleted
    assert (stopped.app_name, stopped.status, stopped.deleted) == ("default", "StartFailed", True)
    assert stopped.failed and stopped.outcome == Outcome.CANARY_FAILED


def test_a_kernel_gateway_canary_is_off_unless_enabled():
    # Given KernelGateway bindings naming a canary user profile, with and without `enabled`
    named = Binding(match="x", profile=Profile.KERNEL_GATEWAY, canary=CanarySettings(user_profile="alice"))
    enabled = Binding(
        match="x", profile=Profile.KERNEL_GATEWAY, canary=CanarySettings(user_profile="alice", enabled=True)
    )
    # Then only the explicit one starts a canary (Studio Classic creates no new apps), while a
    # JupyterLab canary is on once its space is named
    assert not named.canary.active(named.profile)
    assert enabled.canary.active(enabled.profile)
    assert binding(space="canary").canary.active(Profile.JUPYTERLAB)


def test_resolve_refuses_a_canary_space_that_cannot_see_the_image_naming_the_binding():
    # Given a JupyterLab binding attached to alice only, whose canary space is shared
    lab = Binding(
        match="studio/lab*",
        profile=Profile.JUPYTERLAB,
        attach=AttachTargets(default_user_settings=False, user_profiles=["alice"]),
        canary=CanarySettings(space="canary"),
    )
    # When Resolve checks the space, then the binding is refused with the fix
    with pytest.raises(ConfigurationInvalid, match=r"binding 'studio/lab\*': canary space canary is shared"):
        shared = MemberState(status="InService", settings={"AppType": "JupyterLab"}, sharing_type="Shared")
        canaryspace.check_space(FakeSageMaker(space=shared), "d-1", plan(), lab)
    # And a space of another app type is refused before that
    lab_space = MemberState(
        status="InService", settings={"AppType": "CodeEditor"}, sharing_type="Private", owner="alice"
    )
    with pytest.raises(ConfigurationInvalid, match="runs CodeEditor apps"):
        canaryspace.check_space(FakeSageMaker(space=lab_space), "d-1", plan(), lab)
