"""The pipeline's pure logic: configuration, image names, the CustomImages merge, notifications."""

from __future__ import annotations

import json
import re

import pytest

from studio_image.aws.sagemaker import ImageState, MemberState
from studio_image.errors import (
    AttachVerificationFailed,
    ConfigurationInvalid,
    DomainBusy,
    EventInvalid,
    ImageBusy,
    ImageUnusable,
    TargetUnusable,
)
from studio_image.findings import Finding, Severity
from studio_image.pipeline.config import IMAGE_NAME, Binding, derive_image_name, load_config
from studio_image.pipeline.customimages import attach_image, check_writable, with_image
from studio_image.pipeline.models import StepError
from studio_image.pipeline.notification import MAX_MESSAGE_BYTES, MAX_SUBJECT
from studio_image.pipeline.runnotice import attributes, message, subject
from studio_image.pipeline.stages.register import check_created
from studio_image.pipeline.stages.resolve import resolve
from studio_image.pipeline.state import RunRecord, RunStart
from studio_image_sandbox.stack import ROOT

EVENT = json.loads((ROOT / "events" / "push-tag.json").read_text())


def config(*bindings: dict) -> str:
    return json.dumps({"repositories": list(bindings)})


def test_the_first_binding_whose_glob_matches_wins():
    loaded = load_config(
        config({"match": "studio/r-*", "profile": "rstudio"}, {"match": "studio/*", "profile": "jupyterlab"}),
        "p",
    )
    assert loaded.binding_for("studio/r-base").profile == "rstudio"
    assert loaded.binding_for("studio/lab").profile == "jupyterlab"
    assert loaded.binding_for("other/lab") is None


@pytest.mark.parametrize(
    ("bindings", "problem"),
    [
        ([{"match": "a/*", "profile": "kernel-gateway", "colour": "red"}], "colour"),
        ([{"match": "a/*", "profile": "notebook"}], "profile"),
        (
            [{"match": "a/*", "profile": "rstudio", "attach": {"spaces": ["s"]}}],
            "spaces have no custom images",
        ),
        (
            [{"match": "a/*", "profile": "jupyterlab", "attach": {"spaces": ["s"]}}],
            "spaces have no custom images",
        ),
        (
            [{"match": "a/*", "profile": "code-editor", "attach": {"default_space_settings": True}}],
            "default space",
        ),
        (
            [{"match": "a/*", "profile": "kernel-gateway", "image_name": "bad_name"}],
            "not a SageMaker image name",
        ),
        (
            [
                {
                    "match": "a/*",
                    "profile": "kernel-gateway",
                    "policy": {"severity": {"no-such-rule": "warning"}},
                }
            ],
            "unknown",
        ),
        (
            [{"match": "a/*", "profile": "kernel-gateway", "policy": {"limits": {"max_layers": 9}}}],
            "scan limits are set for the CLI only",
        ),
        (
            [
                {"match": "a/*", "profile": "kernel-gateway", "image_name": "same"},
                {"match": "b/*", "profile": "kernel-gateway", "image_name": "same"},
            ],
            "same image",
        ),
        ([], "repositories"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_with_the_reason(bindings, problem):
    with pytest.raises(ConfigurationInvalid, match=problem):
        load_config(config(*bindings), "/stack/configuration")


def test_a_configuration_that_is_not_json_is_refused():
    with pytest.raises(ConfigurationInvalid, match="not JSON"):
        load_config("{repositories: []", "p")


@pytest.mark.parametrize(
    "repository", ["studio/data-science", "studio/a__b/c.d", "x" * 200, "studio/UPPER/9"]
)
def test_derived_image_names_always_fit_sagemakers_pattern(repository):
    name = derive_image_name("studio-", repository, "studio/")
    assert IMAGE_NAME.fullmatch(name) and len(name) <= 63, name


@pytest.mark.parametrize(
    ("repository", "name"),
    [
        ("studio/datascience", "studio-datascience"),  # the managed prefix is said once
        ("studio/team/gpu-11.8", "studio-team-gpu-11-8"),
        ("elsewhere/app", "studio-elsewhere-app"),  # outside the prefix: the whole name
        ("studio/" + "x" * 70, "studio-" + "x" * 47 + "-" + "191cdeec"),  # cut, and a hash keeps it apart
    ],
)
def test_a_derived_image_name_reads_the_repository_once_under_the_name_prefix(repository, name):
    assert derive_image_name("studio-", repository, "studio/") == name


def test_repositories_whose_names_differ_only_in_separators_derive_one_name():
    # (Register refuses the second with a configuration error: see test_register_refuses_...)
    assert derive_image_name("p-", "team/a-b") == derive_image_name("p-", "team-a/b") == "p-team-a-b"


def test_a_binding_image_name_in_capitals_is_refused_naming_the_lower_case_form():
    # SageMaker's ARNs hold image names in lower case; runs read names back from them
    with pytest.raises(ConfigurationInvalid, match="write it in lower case \\('my-image'\\)"):
        load_config(config({"match": "studio/*", "profile": "jupyterlab", "image_name": "My-Image"}), "p")


OURS = {"ImageName": "ours", "ImageVersionNumber": 3, "AppImageConfigName": "ours"}
THEIRS = {"ImageName": "theirs", "ImageVersionNumber": 7, "AppImageConfigName": "theirs"}


def test_attaching_keeps_other_images_and_their_order_and_replaces_an_older_version_in_place():
    settings = {
        "KernelGatewayAppSettings": {
            "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"},
            "CustomImages": [{**OURS, "ImageVersionNumber": 1}, THEIRS],
        }
    }
    app, previous = with_image(settings, "KernelGatewayAppSettings", OURS)
    assert previous == 1
    assert app == {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}, "CustomImages": [OURS, THEIRS]}


def test_attaching_a_new_image_appends_it_and_an_attached_one_needs_no_update():
    app, previous = with_image(
        {"KernelGatewayAppSettings": {"CustomImages": [THEIRS]}}, "KernelGatewayAppSettings", OURS
    )
    assert (app["CustomImages"], previous) == ([THEIRS, OURS], None)
    assert with_image({"KernelGatewayAppSettings": app}, "KernelGatewayAppSettings", OURS) == (None, 3)


class ForgetfulSageMaker:
    """Accepts updates to a user profile and keeps none of them."""

    def describe_member(self, kind, domain_id, name):
        return MemberState(status="InService", settings=self.member_settings(kind, domain_id, name))

    def member_settings(self, kind, domain_id, name):
        return {"KernelGatewayAppSettings": {"CustomImages": [THEIRS]}}

    def update_member(self, kind, domain_id, name, settings):
        self.updated = (kind, name, settings)


class FreeLock:
    def acquire(self):
        return True

    def release(self):
        return None


def test_an_attach_that_does_not_read_back_fails_instead_of_counting():
    # Given a binding for user profile alice, and a SageMaker that drops the update
    binding = Binding(
        match="studio/*",
        profile="kernel-gateway",
        attach={"default_user_settings": False, "user_profiles": ["alice"]},
    )
    sagemaker = ForgetfulSageMaker()
    # When the image is attached, then the update was sent, and its absence on reading back is an error
    with pytest.raises(AttachVerificationFailed, match="user profile alice in d-1"):
        attach_image(sagemaker, FreeLock(), binding, "d-1", OURS)
    assert sagemaker.updated[:2] == ("UserProfile", "alice")


def state(**fields) -> RunRecord:
    return RunRecord.model_validate(
        {"execution_arn": "arn:aws:states:us-east-1:1:execution:sm:x", "event": EVENT, **fields}
    )


def test_a_bare_eventbridge_event_starts_a_local_run():
    run = RunRecord.model_validate(EVENT)
    assert run.execution_arn == f"local:{EVENT['id']}" and run.event == EVENT


def test_a_malformed_event_still_gets_a_failure_notice_naming_what_is_known():
    # Given a run whose Resolve failed on an event with a bad digest (so nothing was parsed)
    cause = json.dumps({"errorMessage": "image-digest: bad"})
    run = state(failed={"Resolve": {"Error": "EventInvalid", "Cause": cause}})
    # Then the notice says FAILED with the error name and the step, and the body quotes the message
    assert run.outcome.value == "failed"
    assert subject(run, run.outcome) == "[FAILED] studio/data-science: EventInvalid in Resolve"
    document = json.loads(message(run, run.outcome))
    text = document["email"]
    assert "The pipeline failed in Resolve: EventInvalid" in text
    assert "image-digest: bad" in text and "Nothing was registered." in text
    assert json.loads(document["default"])["failed_step"] == "Resolve"


def test_subjects_are_ascii_and_under_snss_limit_and_messages_carry_every_protocol():
    findings = [
        Finding(rule=f"rule-{i}-with-a-long-name", severity=Severity.ERROR, message="m", remediation="r")
        for i in range(30)
    ]
    run = state(
        resolved={
            "pushed": {
                "account": "1",
                "region": "us-east-1",
                "repository": "studio/ünïcode" + "x" * 80,
                "tag": "t",
            }
        },
        evaluation={
            "verdict": "fail",
            "errors": 30,
            "warnings": 0,
            "findings": findings,
            "findings_total": 30,
            "report_uri": "s3://b/k.json",
            "report_markdown_uri": "s3://b/k.md",
            "outcome": "refused",  # as Evaluate records it
        },
    )
    outcome = run.outcome
    text = subject(run, outcome)
    assert outcome.value == "refused" and len(text) <= MAX_SUBJECT and text.isascii() and text.endswith("...")
    published = json.loads(message(run, outcome))
    assert set(published) == {"default", "email"}  # SQS, Lambda and HTTPS take `default`
    assert json.loads(published["default"])["outcome"] == "refused"
    assert attributes(run, outcome) == {"status": "refused", "repository": "studio/ünïcode" + "x" * 80}


def test_a_message_with_long_findings_is_shortened_to_fit_sns_and_points_at_the_report():
    # Given a refusal whose 20 listed findings each carry a 5 KB message
    findings = [
        Finding(rule=f"rule-{i}", severity=Severity.ERROR, message="x" * 5000, remediation="r")
        for i in range(20)
    ]
    run = state(
        resolved={"pushed": {"account": "1", "region": "us-east-1", "repository": "studio/big", "tag": "t"}},
        evaluation={
            "verdict": "fail",
            "errors": 20,
            "warnings": 0,
            "findings": findings,
            "findings_total": 20,
            "report_uri": "s3://b/k.json",
            "report_markdown_uri": "s3://b/k.md",
            "outcome": "refused",  # as Evaluate records it
        },
    )
    # When its message is built
    published = message(run, run.outcome)
    # Then it fits SNS's limit, every finding is still in the JSON document, and the text says where
    # the rest went
    assert len(published.encode()) <= MAX_MESSAGE_BYTES
    machine = json.loads(json.loads(published)["default"])
    assert len(machine["evaluation"]["findings"]) == 20
    assert machine["text"].endswith("the report has it all: s3://b/k.md")
    assert json.loads(published)["email"] == machine["text"]


def test_a_catch_records_the_error_under_the_names_step_functions_uses():
    assert StepError.model_validate({"Error": "DomainBusy", "Cause": "c"}).dump() == {
        "Error": "DomainBusy",
        "Cause": "c",
    }


PUSHED = {"account": "1", "region": "us-east-1", "repository": "studio/lab", "tag": "1.0"}
EVALUATED = {
    "verdict": "pass",
    "errors": 0,
    "warnings": 0,
    "findings": [],
    "findings_total": 0,
    "report_uri": "s3://b/k.json",
    "report_markdown_uri": "s3://b/k.md",
}
ATTACHED = {"targets": [], "outcome": "passed"}
CANARY = {"app_name": "canary-v1-x", "log_stream": "d/alice/KernelGateway/canary-v1-x", "deadline": 0}


@pytest.mark.parametrize(
    ("recorded", "outcome"),
    [
        ({"evaluation": {**EVALUATED, "verdict": "fail", "outcome": "refused"}}, "refused"),
        ({"evaluation": {**EVALUATED, "outcome": "passed"}}, "passed"),  # checked, not registered
        ({"evaluation": EVALUATED, "attached": ATTACHED}, "passed"),
        (
            {"evaluation": EVALUATED, "attached": ATTACHED, "canary": {**CANARY, "outcome": "canary-failed"}},
            "canary-failed",
        ),
        (
            {
                "evaluation": EVALUATED,
                "attached": ATTACHED,
                "retired": {"reason": "pruned", "image_name": "i", "versions": []},
            },
            "passed",  # pruning decides nothing about the run
        ),
        (
            {"retired": {"reason": "deleted", "image_name": "i", "versions": [1], "outcome": "retired"}},
            "retired",
        ),
        (
            {"evaluation": EVALUATED, "attached": ATTACHED, "failed": {"Attach": {"Error": "PipelineError"}}},
            "failed",
        ),
        ({"evaluation": EVALUATED}, "failed"),  # stopped short with no decision: not a pass
    ],
)
def test_the_runs_outcome_is_the_last_decision_a_state_recorded_and_an_error_fails_it(recorded, outcome):
    # Given a run's record as its states left it
    run = state(resolved={"pushed": PUSHED}, **recorded)
    # Then Notify reports the last decision recorded (a caught error overrides every one)
    assert run.outcome.value == outcome


def test_one_error_and_one_warning_are_named_in_the_singular():
    # Given a refusal with one error and one warning
    findings = [
        Finding(rule="reserved-path", severity=Severity.ERROR, message="m", remediation="r"),
        Finding(rule="entrypoint-ignored", severity=Severity.WARNING, message="m", remediation="r"),
    ]
    run = state(
        resolved={"pushed": {"account": "1", "region": "us-east-1", "repository": "studio/one", "tag": "t"}},
        evaluation={
            "outcome": "refused",
            "verdict": "fail",
            "errors": 1,
            "warnings": 1,
            "findings": findings,
            "findings_total": 2,
            "report_uri": "s3://b/k.json",
            "report_markdown_uri": "s3://b/k.md",
        },
    )
    # When its notification is written
    outcome = run.outcome
    text = json.loads(json.loads(message(run, outcome))["default"])["text"]
    # Then the subject and the text count in words a person would use
    assert subject(run, outcome) == "[REFUSED] studio/one:t: 1 error (reserved-path)"
    assert "Checks: fail, 1 error, 1 warning\n" in text


def test_each_version_has_an_app_image_config_name_of_its_own():
    # Given botocore's AppImageConfigName pattern
    import botocore.session

    from studio_image.pipeline.versionconfig import config_name

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("AppImageConfigName")
    pattern = re.compile(shape.metadata["pattern"])
    long_name = "studio-" + "a" * 56
    # When names are derived for versions of a dotted name and of a 63-character name
    names = [
        config_name("studio-team.data", 1),
        config_name("studio-team.data", 2),
        config_name(long_name, 12),
    ]
    # Then they differ by version, hold no dots, fit 63 characters and keep the image's prefix
    assert names[:2] == ["studio-team-data-v1", "studio-team-data-v2"]
    assert all(pattern.fullmatch(n) and len(n) <= 63 for n in names)
    assert names[2].startswith("studio-aaaa") and names[2].endswith("-v12")
    assert config_name("studio-" + "a" * 56 + "b", 12) != names[2]  # a hash keeps truncated names apart


def test_an_image_with_more_layers_than_the_run_state_carries_is_refused_with_the_fix():
    from studio_image.errors import LayerCountExceeded
    from studio_image.pipeline.limits import MAX_LAYERS, check_layer_count

    # Given images at and over the layer cap, when they are checked, then only the larger is refused
    check_layer_count(MAX_LAYERS)
    with pytest.raises(LayerCountExceeded, match=f"{MAX_LAYERS + 1} layers.*Squash"):
        check_layer_count(MAX_LAYERS + 1)


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        ("InService", None),
        (None, None),  # a domain description without a status is taken as it was before
        ("Pending", DomainBusy),
        ("Updating", DomainBusy),
        ("Update_Failed", TargetUnusable),
        ("Failed", TargetUnusable),
        ("Deleting", TargetUnusable),
        ("Delete_Failed", TargetUnusable),
    ],
)
def test_a_target_is_written_in_service_waited_for_while_changing_and_refused_once_failed(status, raised):
    # Given a domain, space or user profile in each of botocore's statuses, when it is to be written
    if raised is None:
        # Then an InService one is written
        check_writable("user profile alice in d-1", status)
        return
    # Then one SageMaker is still changing is busy (retried), and any other ends the run, naming it
    with pytest.raises(raised, match=f"user profile alice in d-1 is {status}"):
        check_writable("user profile alice in d-1", status, "the reason")


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        ("CREATED", None),
        ("CREATING", ImageBusy),
        ("UPDATING", ImageBusy),
        ("CREATE_FAILED", ImageUnusable),
        ("UPDATE_FAILED", ImageUnusable),
        ("DELETING", ImageUnusable),
        ("DELETE_FAILED", ImageUnusable),
    ],
)
def test_a_version_is_made_of_a_created_image_only(status, raised):
    # Given an image in each of botocore's ImageStatus values
    image = ImageState(name="ours", status=status, failure_reason="the reason")
    if raised is None:
        # Then a CREATED one takes a version
        check_created("ours", image)
        return
    # Then one being created or changed is busy, and any other ends the run with SageMaker's reason
    with pytest.raises(raised, match=f"image ours is {status}"):
        check_created("ours", image)
    if raised is ImageUnusable:
        with pytest.raises(ImageUnusable, match="the reason"):
            check_created("ours", image)


def test_an_image_not_yet_visible_after_create_image_is_busy():
    # Given DescribeImage finding no image just after CreateImage, then the run waits for it
    with pytest.raises(ImageBusy, match="not visible yet"):
        check_created("ours", None)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("image-digest", None, "image digest"),
        ("image-digest", "sha256:not-a-digest", "detail.image-digest: String should match pattern"),
        ("repository-name", None, "detail.repository-name: Field required"),
        ("action-type", None, "detail.action-type: Field required"),
    ],
)
def test_an_event_missing_or_mangling_a_detail_field_is_refused_naming_it(field, value, problem):
    # Given ECR's event with one detail field taken out or mangled
    event = json.loads((ROOT / "events" / "push-tag.json").read_text())
    if value is None:
        del event["detail"][field]
    else:
        event["detail"][field] = value
    # When Resolve reads it, then it is refused before any AWS call (no services are given), naming
    # the field (tests/e2e/test_events_delivery.py shows one such run notified)
    with pytest.raises(EventInvalid, match=re.escape(problem)):
        resolve(RunStart(execution_arn="arn:run", event=event), None)  # type: ignore[arg-type]
