"""Attach checks SageMaker's custom-image limit while it holds the domain lock: a run that finds
room before another run fills it cannot then write past the limit (on moto, whose SageMaker
refuses a sixth custom image on a user profile as SageMaker does)."""

from __future__ import annotations

import pytest

import moto_studio
from studio_image.errors import CustomImageLimitReached
from studio_image.pipeline.config import Binding
from studio_image.pipeline.models import Job, Registration
from studio_image.pipeline.records import DomainLock
from studio_image.pipeline.stages.attach import AttachInput, attach

REGION = "us-east-1"
APP = "KernelGatewayAppSettings"


def entry(name: str) -> dict:
    return {"ImageName": name, "ImageVersionNumber": 1, "AppImageConfigName": f"{name}-v1"}


def test_a_run_that_found_room_before_another_filled_it_writes_nothing(studio, monkeypatch):
    # Given user profile alice with four custom images, one short of SageMaker's five (updates
    # applied at once, so the other run's update is not refused as alice's is under way)
    sm, domain_id, svc = studio
    moto_studio.settings.domain_update_seconds = 0
    four = [entry(f"team-{i}") for i in range(4)]
    sm.update_user_profile(
        DomainId=domain_id, UserProfileName="alice", UserSettings={APP: {"CustomImages": four}}
    )
    # And another run that attaches a fifth just before this run takes the domain lock
    take = DomainLock.acquire

    def another_run_attaches_first(lock: DomainLock) -> bool:
        fifth = [*four, entry("team-4")]
        sm.update_user_profile(
            DomainId=domain_id, UserProfileName="alice", UserSettings={APP: {"CustomImages": fifth}}
        )
        monkeypatch.setattr(DomainLock, "acquire", take)
        return take(lock)

    monkeypatch.setattr(DomainLock, "acquire", another_run_attaches_first)
    # When this run attaches its image to the domain and to alice
    binding = Binding(
        match="studio/*",
        profile="kernel-gateway",
        attach={"default_user_settings": True, "user_profiles": ["alice"]},
    )
    job = Job(
        binding=binding,
        registers=True,
        image_name="studio-late",
        domain_id=domain_id,
        display_name="late",
        poll_seconds=1,
    )
    given = AttachInput(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:pipeline:late",
        job=job,
        registration=Registration(
            image_name="studio-late", image_version_arn="arn:v/1", version=1, status="CREATED"
        ),
        app_image_config_name="studio-late-v1",
    )
    # Then it is refused for the limit, naming alice, before writing anything anywhere
    with pytest.raises(CustomImageLimitReached, match="user profile alice"):
        attach(given, svc)
    domain = sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"]
    assert (domain.get(APP) or {}).get("CustomImages", []) == []
    alice = sm.describe_user_profile(DomainId=domain_id, UserProfileName="alice")["UserSettings"]
    assert [i["ImageName"] for i in alice[APP]["CustomImages"]] == [f"team-{i}" for i in range(5)]
    # And the lock is free again
    assert DomainLock(svc.state, domain_id, "someone else").acquire()
