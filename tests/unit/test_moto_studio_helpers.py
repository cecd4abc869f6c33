"""moto_studio's helpers for what moto cannot do: EventBridge patterns, log filter patterns, and
request validation from botocore's service model."""

import pytest

from moto_studio import events, logs
from moto_studio.validation import validation_message

PUSH_PATTERN = {
    "source": ["aws.ecr"],
    "detail-type": ["ECR Image Action"],
    "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"], "repository-name": [{"prefix": "studio/"}]},
}


def ecr_event(action="PUSH", result="SUCCESS", repository="studio/datascience"):
    return {
        "version": "0",
        "id": "13cde686-328b-6117-af20-0e5566167482",
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": "123456789012",
        "region": "us-east-1",
        "detail": {
            "result": result,
            "repository-name": repository,
            "image-digest": "sha256:" + "a" * 64,
            "action-type": action,
            "image-tag": "1.4",
        },
    }


@pytest.mark.parametrize(
    "event, expected",
    [
        (ecr_event(), True),
        (ecr_event(action="DELETE"), False),
        (ecr_event(result="FAILURE"), False),
        (ecr_event(repository="other/datascience"), False),
    ],
)
def test_event_patterns_match_as_eventbridge_would(event, expected):
    assert events.matches(PUSH_PATTERN, event) is expected


@pytest.mark.parametrize(
    "pattern, line, expected",
    [
        ("ERROR", "[E 12:00] ERROR kernel died", True),
        ("ERROR", "[I 12:00] all good", False),
        (
            '"exec format error"',
            "standard_init_linux.go:228: exec user process caused: exec format error",
            True,
        ),
        ('"exec format error"', "format error exec", False),
        ("?Traceback ?InternalFailure", "InternalFailure: app failed to start", True),
        ("?Traceback ?InternalFailure", "all good", False),
        ("kernel -restarting", "kernel restarting", False),
        ("kernel -restarting", "kernel died", True),
        ("", "anything", True),
    ],
)
def test_log_filter_patterns(pattern, line, expected):
    assert logs.matches(pattern, line) is expected


def test_validation_checks_ranges_enums_and_nested_paths():
    message = validation_message(
        "sagemaker",
        "CreateAppImageConfig",
        {
            "AppImageConfigName": "cfg",
            "KernelGatewayImageConfig": {
                "KernelSpecs": [{"Name": "python3"}],
                "FileSystemConfig": {"DefaultUid": 70000},
            },
        },
    )
    assert message == (
        "1 validation error detected: Value '70000' at "
        "'kernelGatewayImageConfig.fileSystemConfig.defaultUid' failed to satisfy constraint: "
        "Member must have value less than or equal to 65535"
    )
    bad_type = validation_message(
        "sagemaker", "CreateApp", {"DomainId": "d-abc", "AppType": "Notebook", "AppName": "a"}
    )
    assert "Member must satisfy enum value set" in bad_type
    assert (
        validation_message(
            "sagemaker", "CreateApp", {"DomainId": "d-abc", "AppType": "JupyterLab", "AppName": "a"}
        )
        is None
    )


@pytest.mark.parametrize(
    "uri",
    [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/studio/app@sha256:" + "a" * 64,
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/studio/app:1.0",
    ],
)
def test_an_ecr_base_image_is_recognised_in_every_partition(uri):
    # Given an image URI the pipeline registers, in the commercial or the China partition
    from moto_studio.sagemaker.models import ECR_IMAGE

    # Then the sandbox's SageMaker reads its account, region and repository
    match = ECR_IMAGE.fullmatch(uri)
    assert match is not None
    assert match.group(3) == "studio/app"
