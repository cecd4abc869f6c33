"""The sandbox's fault injector answers as AWS answers: botocore, reading the HTTP response moto's
server sends, raises the ClientError it raises for the service's own error (code and HTTP status),
in each protocol the pipeline's services use (JSON, query, REST-XML, REST-JSON)."""

from __future__ import annotations

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from moto_studio import Fault, faults
from moto_studio.faults import FaultInvalid, botocore_attempts
from studio_image_sandbox.local import REGION, local_aws

ONE_TRY = Config(retries={"total_max_attempts": 1})  # see the fault itself, not botocore's retry


def client(service: str):
    return boto3.client(service, region_name=REGION, config=ONE_TRY)


CALLS = {  # one call per protocol: (service, action, how to make it)
    "sagemaker": ("ListImages", lambda c: c.list_images()),  # json
    "dynamodb": ("ListTables", lambda c: c.list_tables()),  # json 1.0
    "sns": ("ListTopics", lambda c: c.list_topics()),  # query
    "s3": ("ListBuckets", lambda c: c.list_buckets()),  # rest-xml
    "lambda": ("ListFunctions", lambda c: c.list_functions()),  # rest-json
}


@pytest.mark.parametrize(
    ("service", "kind", "code", "status"),
    [
        ("sagemaker", "throttling", "ThrottlingException", 400),
        ("sagemaker", "resource_in_use", "ResourceInUse", 400),
        ("dynamodb", "internal_failure", "InternalFailure", 500),
        ("sns", "throttling", "Throttled", 429),
        ("sns", "internal_failure", "InternalError", 500),
        ("s3", "unavailable", "ServiceUnavailable", 503),
        ("s3", "throttling", "SlowDown", 503),
        ("lambda", "throttling", "ThrottlingException", 400),
    ],
)
def test_a_fault_reaches_botocore_as_the_services_own_error(service, kind, code, status):
    # Given a fault on the second call of an action
    action, make = CALLS[service]
    with local_aws():
        faults.inject(Fault(service, action, kind, times=1, skip=1))
        aws = client(service)
        # When the action is called three times
        make(aws)
        with pytest.raises(ClientError) as raised:
            make(aws)
        make(aws)
    # Then only the second call failed, with the code and HTTP status the service uses
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert raised.value.operation_name == action
    assert [(f.service, f.action, f.kind) for f in faults.fired] == [(service, action, kind)]


def test_other_actions_and_services_are_not_touched():
    # Given a fault on SageMaker's ListImages
    with local_aws():
        faults.inject(Fault("sagemaker", "ListImages", "internal_failure", times=5))
        # When another SageMaker action and another service are called
        client("sagemaker").list_domains()
        client("dynamodb").list_tables()
        # Then neither failed, and the fault is still armed
        assert faults.fired == [] and faults.armed


def test_botocore_retries_a_throttled_call_as_it_would_against_aws():
    # Given SageMaker throttling ListImages on every attempt but a client's last
    with local_aws():
        retries = botocore_attempts("sagemaker") - 1
        assert retries >= 1
        faults.inject(Fault("sagemaker", "ListImages", "throttling", times=retries))
        # When a client with botocore's default retries calls it
        images = boto3.client("sagemaker", region_name=REGION).list_images()
    # Then botocore's own retries got through
    assert images["Images"] == [] and len(faults.fired) == retries


@pytest.mark.parametrize(("service", "action"), [("sagemaker", "ListImages"), ("dynamodb", "ListTables")])
def test_a_server_error_on_every_attempt_botocore_makes_fails_the_call(service, action):
    # Given a server error armed for as many attempts as a client here makes (AWS_MAX_ATTEMPTS)
    with local_aws():
        attempts = botocore_attempts(service)
        faults.inject(Fault(service, action, "internal_failure", times=attempts))
        # When a client with the default retries calls the action, it fails on the last attempt
        with pytest.raises(ClientError, match=r"InternalFailure|InternalServerError"):
            getattr(boto3.client(service, region_name=REGION), xform_name(action))()
    # Then every attempt met the fault, and none was left
    assert len(faults.fired) == attempts and not faults.armed


def test_without_a_setting_botocore_attempts_are_botocores_own(monkeypatch):
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")
    assert (botocore_attempts("sagemaker"), botocore_attempts("dynamodb")) == (5, 10)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sagemaker:UpdateDomain", "expected SERVICE:ACTION:KIND"),
        ("sagemaker:UpdateDomain:flaky", "unknown fault kind 'flaky'"),
        ("sagemaker:UpdateDomain:killed", "killed is a Lambda fault"),
        ("sns:Publish:create_failed", "create_failed is a fault of sagemaker CreateImageVersion"),
        ("sagemaker:CreateApp:update_failed", "update_failed is a fault of sagemaker UpdateDomain or "),
        ("sns:Publish:throttling:two", "TIMES and SKIP are numbers"),
    ],
)
def test_a_malformed_fault_is_refused_with_what_to_write(text, problem):
    with pytest.raises(FaultInvalid, match=problem):
        Fault.parse(text)


def test_the_sandbox_arms_the_faults_its_environment_lists(monkeypatch):
    # Given MOTO_STUDIO_FAULTS naming a fault on the second ListDomains
    monkeypatch.setenv("MOTO_STUDIO_FAULTS", "sagemaker:ListDomains:internal_failure:1:1")
    faults.reset()
    try:
        with local_aws():
            sm = client("sagemaker")
            sm.list_domains()
            # Then that call fails as SageMaker's server errors do
            with pytest.raises(ClientError, match="InternalFailure"):
                sm.list_domains()
    finally:
        monkeypatch.delenv("MOTO_STUDIO_FAULTS")
        faults.reset()
    assert not faults.armed
