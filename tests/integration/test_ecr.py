"""The ECR adapter and source against moto (extended by moto_studio): images pushed through ECR's
layer API, read back by tag and digest with every blob streamed from its download URL."""

import hashlib

import boto3
import pytest
from moto import mock_aws

from studio_image.aws.ecr import Ecr
from studio_image.engine import inspect_image
from studio_image.errors import BlobNotFound, ImageNotFound, RepositoryNotFound
from studio_image.sources.ecr import EcrSource
from studio_image_sandbox.ecrpush import push_image


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="team/studio")
        yield client


@pytest.fixture
def pushed(ecr, umoci_image):
    digest = push_image(ecr, f"oci:{umoci_image.layout}:{umoci_image.tag}", "team/studio", "1.0").digest
    return digest


@pytest.mark.tools
def test_a_pushed_image_reads_back_by_tag_and_digest_with_every_layer(ecr, pushed):
    # Given the umoci image pushed through InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload/PutImage
    # When it is read through the ECR source by tag, and by digest
    for source in (
        EcrSource("team/studio", tag="1.0", client=ecr),
        EcrSource("team/studio", digest=pushed, client=ecr),
    ):
        with source:
            inventory = inspect_image(source, workers=1)
        # Then the manifest digest is the sha256 of its bytes, and every blob verified as it streamed
        assert inventory.digest == pushed
        assert inventory.files.get("/srv/data/owned-by-70000").entry.uid == 70000


@pytest.mark.tools
def test_the_manifest_digest_is_the_sha256_of_the_manifest_bytes(ecr, pushed):
    image = ecr.batch_get_image(repositoryName="team/studio", imageIds=[{"imageTag": "1.0"}])["images"][0]
    assert pushed == "sha256:" + hashlib.sha256(image["imageManifest"].encode()).hexdigest()


def test_a_missing_repository_and_a_missing_tag_are_typed_errors(ecr):
    with pytest.raises(RepositoryNotFound, match="RepositoryNotFoundException"):
        EcrSource("team/absent", tag="1.0", client=ecr).top_manifest()
    with pytest.raises(ImageNotFound):
        EcrSource("team/studio", tag="2.0", client=ecr).top_manifest()


@pytest.mark.tools
def test_a_layer_the_repository_lacks_is_blob_not_found(ecr, pushed):
    with pytest.raises(BlobNotFound):
        Ecr(ecr).layer_url("team/studio", None, "sha256:" + "0" * 64)


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
