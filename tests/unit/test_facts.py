import json

import pytest

from studio_image.facts import Facts, resolve_user
from studio_image.inventory import Filesystem, Inventory, Sizes, merge_layers
from studio_image.oci import ContainerConfig, ImageConfig, Platform
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import scan_tar_layer

PASSWD = (
    "root:x:0:0::/root:/bin/sh\n"
    "sagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash\n"
    "jovyan:x:1001:100::/home/jovyan:/bin/bash\n"
)
GROUP = "root:x:0:\nusers:x:100:\nstaff:x:50:\n"


def inventory(user: str | None, contents: dict[str, str] | None = None) -> Inventory:
    return Inventory(
        reference="test",
        digest=None,
        manifest_digest=None,
        requested_platform=Platform(),
        config=ImageConfig(architecture="amd64", os="linux", config=ContainerConfig(User=user)),
        layers=[],
        layer_scans=[],
        files=Filesystem(),
        contents={"/etc/passwd": PASSWD, "/etc/group": GROUP} if contents is None else contents,
        sizes=Sizes(compressed=0, uncompressed=0),
    )


@pytest.mark.parametrize(
    "spec, expected",
    [
        (None, ("root", 0, 0, "root")),
        ("", ("root", 0, 0, "root")),
        ("sagemaker-user", ("sagemaker-user", 1000, 100, "users")),
        ("1000", ("sagemaker-user", 1000, 100, "users")),
        ("1000:100", ("sagemaker-user", 1000, 100, "users")),
        ("jovyan:staff", ("jovyan", 1001, 50, "staff")),
        ("4242", (None, 4242, 0, "root")),
        ("ghost", ("ghost", None, None, None)),
        ("sagemaker-user:nogroup", ("sagemaker-user", 1000, None, "nogroup")),
    ],
)
def test_the_config_user_resolves_against_passwd_and_group(spec, expected):
    user = resolve_user(inventory(spec))
    assert (user.name, user.uid, user.gid, user.group) == expected


def test_root_resolves_without_a_passwd_file():
    user = resolve_user(inventory(None, contents={}))
    assert (user.name, user.uid, user.gid) == ("root", 0, 0)


def test_kernel_specs_are_named_by_their_directory_and_bad_ones_are_reported():
    good = json.dumps(
        {
            "argv": ["/opt/conda/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3",
            "language": "python",
        }
    )
    facts = Facts(
        inventory(
            None,
            {
                "/usr/local/share/jupyter/kernels/python3/kernel.json": good,
                "/usr/share/jupyter/kernels/broken/kernel.json": "{not json",
                "/usr/share/jupyter/kernels/empty/kernel.json": '{"argv": []}',
                # not where Jupyter looks: with no python on PATH /opt/conda is no prefix, a package
                # cache and a wheel's data are not kernels, and the home volume hides the last
                "/opt/conda/share/jupyter/kernels/conda/kernel.json": good,
                "/opt/conda/pkgs/ipykernel-6.29.5/share/jupyter/kernels/cached/kernel.json": good,
                "/opt/conda/lib/python3.11/site-packages/ipykernel-6.29.5.data/data/share/jupyter/"
                "kernels/wheel/kernel.json": good,
                "/home/sagemaker-user/.local/share/jupyter/kernels/mine/kernel.json": good,
            },
        )
    )
    assert [(s.name, s.display_name, s.language) for s in facts.kernels] == [
        ("python3", "Python 3", "python")
    ]
    assert sorted(e.path.split("/")[-2] for e in facts.kernel_errors) == ["broken", "empty"]


def test_python_packages_are_the_top_level_names_of_every_site_packages_directory():
    # Given site-packages directories listed and implied, a dist-info, a module, a nested (vendored)
    # site-packages, and a module a later layer deletes
    site = "/opt/conda/lib/python3.11/site-packages"
    layers = [
        Layer()
        .dir("usr/lib/python3/dist-packages")
        .file("usr/lib/python3/dist-packages/six.py", b"")
        .file(f"{site}/boto3/__init__.py", b"")
        .file(f"{site}/boto3/s3/transfer.py", b"")
        .file(f"{site}/sagemaker-2.200.0.dist-info/METADATA", b"")
        .file(f"{site}/Jupyter_Server/__init__.py", b"")
        .file(f"{site}/pip/_vendor/site-packages/vendored/x.py", b""),
        Layer().whiteout("usr/lib/python3/dist-packages/six.py"),
    ]
    files, contents = merge_layers([scan_tar_layer(layer) for layer in layers])
    facts = Facts(inventory(None, contents).model_copy(update={"files": files}))
    # Then each top-level name counts, in the site-packages directory that holds it, and no other
    assert facts.python_packages == {
        "boto3": {site},
        "sagemaker": {site},
        "jupyter_server": {site},
        "pip": {site},
        "vendored": {f"{site}/pip/_vendor/site-packages"},
    }
