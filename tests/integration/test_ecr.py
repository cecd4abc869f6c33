"""The ECR adapter against moto: manifests by tag and digest, and every error as our own."""

import json

import boto3
import pytest
from moto import mock_aws

from studio_image.aws.ecr import Ecr
from studio_image.errors import ImageNotFound, RepositoryNotFound
from studio_image.oci import OCI_MANIFEST
from studio_image.sources.ecr import EcrSource

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
    }
)


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="team/studio")
        client.put_image(
            repositoryName="team/studio",
            imageManifest=MANIFEST,
            imageTag="1.0",
            imageManifestMediaType=OCI_MANIFEST,
        )
        yield client


def test_a_manifest_by_tag_comes_back_as_pushed(ecr):
    source = EcrSource("team/studio", tag="1.0", client=ecr)
    data, media_type = source.top_manifest()
    assert data == MANIFEST.encode()
    assert media_type == OCI_MANIFEST


def test_a_missing_repository_and_a_missing_tag_are_typed_errors(ecr):
    with pytest.raises(RepositoryNotFound, match="RepositoryNotFoundException"):
        EcrSource("team/absent", tag="1.0", client=ecr).top_manifest()
    with pytest.raises(ImageNotFound):
        EcrSource("team/studio", tag="2.0", client=ecr).top_manifest()


def test_references_name_the_registry_account_and_region():
    source = EcrSource.from_reference(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/studio@sha256:" + "b" * 64
    )
    assert (source.registry_id, source.repository, source.digest) == (
        "123456789012",
        "team/studio",
        "sha256:" + "b" * 64,
    )
    assert source.ecr._client.meta.region_name == "eu-west-1"


def test_registry_credentials_come_from_the_authorization_token(ecr):
    user, password = Ecr(ecr).credentials(None)
    assert user == "AWS" and password
