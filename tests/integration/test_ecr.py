"""The ECR adapter against moto: manifests by tag and digest, and every error as our own."""

import json
import urllib.request

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from studio_image.aws.ecr import Ecr
from studio_image.engine import inspect_image
from studio_image.errors import ImageNotFound, RepositoryNotFound
from studio_image.oci import OCI_MANIFEST, Platform
from studio_image.sources import open_source
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


def test_an_ecr_image_streams_its_layers_from_the_download_urls(umoci_image, registry):
    # Given an image in a real registry, and ECR API answers (botocore's Stubber, checked against
    # the service model) whose download URLs point at that registry's blobs, as ECR's point at S3
    registry.push(umoci_image.reference, "team/streamed:1")
    with open_source(f"docker://{registry.host}/team/streamed:1") as source:
        resolved = source.resolve(Platform())
    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    request = urllib.request.Request(
        f"http://{registry.host}/v2/team/streamed/manifests/1", headers={"Accept": OCI_MANIFEST}
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
    stubber.add_response(
        "batch_get_image",
        {"images": [{"imageManifest": raw.decode(), "imageManifestMediaType": OCI_MANIFEST}], "failures": []},
        {"repositoryName": "team/streamed", "imageIds": [{"imageTag": "1"}], "acceptedMediaTypes": ANY},
    )
    for descriptor in [resolved.manifest.config, *resolved.manifest.layers]:
        stubber.add_response(
            "get_download_url_for_layer",
            {
                "downloadUrl": f"http://{registry.host}/v2/team/streamed/blobs/{descriptor.digest}",
                "layerDigest": descriptor.digest,
            },
            {"repositoryName": "team/streamed", "layerDigest": descriptor.digest},
        )
    # When the image is read through the ECR source, one layer at a time
    with stubber, EcrSource("team/streamed", tag="1", client=client) as source:
        inventory = inspect_image(source, workers=1)
    # Then it is the same image the registry holds, every blob verified as it streamed
    stubber.assert_no_pending_responses()
    assert inventory.digest == resolved.digest
    assert inventory.files.get("/srv/data/owned-by-70000").entry.uid == 70000
