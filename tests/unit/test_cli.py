"""`studio-image check`: formats and exit codes, on images built in the test."""

import json
from xml.etree import ElementTree as ET

import pytest

from studio_image.cli import main
from studio_image.findings import Profile
from studio_image.rules import rules_for
from studio_image_sandbox.ocibuild import Layer


def run(capsys, *argv):
    code = main(["check", *argv, "--no-cache"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_compliant_image_exits_0_with_the_json_fields(make_compliant, capsys):
    code, out, _ = run(capsys, make_compliant(), "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["profile"] == "kernel-gateway"
    assert report["platform"] == "linux/amd64"
    assert report["user"] == {
        "name": "sagemaker-user",
        "uid": 1000,
        "gid": 100,
        "group": "users",
        "spec": "sagemaker-user",
    }
    assert set(report["sizes"]) == {"compressed", "uncompressed"}
    assert report["findings"] == []
    assert [(k["name"], k["argv"][0]) for k in report["kernels"]] == [
        ("python3", "/opt/conda/bin/python3.11")
    ]
    assert report["app_image_config"] == {
        "KernelGatewayImageConfig": {
            "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3 (ipykernel)"}],
            "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000, "DefaultGid": 100},
        }
    }


def test_an_error_finding_exits_1(make_compliant, capsys):
    code, out, _ = run(capsys, make_compliant(Layer().file("opt/ml/x")))
    assert code == 1
    assert "FAIL: 1 error, 0 warnings, " in out
    # And the fix says what to do: not to write there, or, for a base image's files, what removing them does
    assert "fix: do not write under /opt/ml: install it elsewhere" in out
    assert "remove it in a later layer (RUN rm -rf /opt/ml), knowing its bytes still ship" in out


def test_junit_has_one_case_per_rule_and_fails_the_broken_one(make_compliant, capsys):
    code, out, _ = run(capsys, make_compliant(Layer().file("opt/ml/x")), "--format", "junit")
    suite = ET.fromstring(out.encode()).find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert code == 1
    assert list(cases) == [r.id for r in rules_for(Profile.KERNEL_GATEWAY)]
    assert cases["reserved-path"].find("failure") is not None
    assert cases["platform"].find("failure") is None
    assert suite.get("failures") == "1"


def test_sarif_points_results_at_rules_and_paths(make_compliant, capsys):
    _, out, _ = run(capsys, make_compliant(Layer().file("opt/ml/x")), "--format", "sarif")
    run_ = json.loads(out)["runs"][0]
    result = run_["results"][0]
    assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == "reserved-path"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "opt/ml/x"


@pytest.mark.parametrize(
    "reference, message",
    [
        ("nonsense", "ReferenceInvalid"),
        ("oci:/no/such/dir", "ImageNotFound"),
        ("docker-archive:/no/such.tar", "ImageNotFound"),
        ("docker://registry.example.com/UPPER/case:tag", "ReferenceInvalid"),
        ("ftp://x", "ReferenceInvalid"),
    ],
)
def test_unreadable_references_exit_2_with_one_line(capsys, reference, message):
    code, out, err = run(capsys, reference)
    assert code == 2
    assert out == ""
    assert err.startswith(f"studio-image: {message}:") and err.count("\n") == 1


def test_a_manifest_that_is_not_json_exits_2(capsys, tmp_path):
    from studio_image_sandbox.ocibuild import Layout

    layout = Layout(tmp_path / "bad")
    layout.tag(layout.blob(b"this is not json", "application/vnd.oci.image.manifest.v1+json"), "t")
    code, _, err = run(capsys, f"oci:{tmp_path / 'bad'}:t")
    assert code == 2
    assert "ManifestInvalid: manifest is not JSON" in err


def test_a_corrupted_layer_blob_exits_2_naming_the_layer(make_image, capsys, tmp_path):
    reference = make_image(Layer().file("a", b"a" * 1000), Layer().file("b", b"b" * 1000))
    manifest_dir = reference.split(":")[1]
    from pathlib import Path

    blobs = sorted((Path(manifest_dir) / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    second_layer = blobs[1]
    data = bytearray(second_layer.read_bytes())
    data[20] ^= 0xFF
    second_layer.write_bytes(bytes(data))
    code, _, err = run(capsys, reference)
    assert code == 2
    assert "DigestMismatch: layer 2/2" in err


def test_a_bad_policy_exits_2(make_compliant, capsys, tmp_path):
    (tmp_path / "p.yaml").write_text("colour: blue\n")
    code, _, err = run(capsys, make_compliant(), "--policy", str(tmp_path / "p.yaml"))
    assert code == 2 and "PolicyInvalid" in err


def test_the_policy_profile_applies_when_no_profile_is_given(make_compliant, capsys, tmp_path):
    (tmp_path / "p.yaml").write_text("profile: jupyterlab\n")
    _, out, _ = run(capsys, make_compliant(), "--policy", str(tmp_path / "p.yaml"), "--format", "json")
    assert json.loads(out)["profile"] == "jupyterlab"


def test_html_is_one_page_that_loads_nothing_and_escapes_image_strings(make_compliant, capsys):
    # Given an image with a file whose name is markup
    reference = make_compliant(Layer().file("opt/ml/<script>x=1<"))
    # When its report is rendered as HTML
    code, out, _ = run(capsys, reference, "--format", "html")
    # Then it is one page, links nothing, and shows the name escaped
    assert code == 1
    assert out.startswith("<!doctype html>") and out.rstrip().endswith("</html>")
    assert "<script" not in out and "&lt;script&gt;x=1&lt;" in out
    assert not any(attribute in out for attribute in ("src=", "href=", "url(", "@import"))


def test_scan_limits_are_set_by_the_policy_and_the_limit_flag(make_compliant, capsys, tmp_path):
    # Given a compliant image, a policy allowing one layer, and a flag allowing 256
    (tmp_path / "p.yaml").write_text("limits:\n  max_layers: 1\n")
    reference = make_compliant()
    policy = ("--policy", str(tmp_path / "p.yaml"))
    # Then the policy's limit refuses the image, and the flag overrides the policy
    code, _, err = run(capsys, reference, *policy)
    assert code == 2 and "layers, over 1" in err
    assert run(capsys, reference, *policy, "--limit", "max_layers=256")[0] == 0


@pytest.mark.parametrize(
    ("policy", "flag", "message"),
    [
        ("limits:\n  max_colours: 3\n", None, "unknown limit 'max_colours'"),
        ("limits:\n  max_layers: -1\n", None, "at least 0"),
        ("", "max_layers", "expected NAME=WHOLE_NUMBER"),
        ("", "max_colours=3", "unknown limit 'max_colours'"),
    ],
)
def test_a_bad_limit_exits_2_naming_it(make_compliant, capsys, tmp_path, policy, flag, message):
    (tmp_path / "p.yaml").write_text(policy)
    code, _, err = run(
        capsys, make_compliant(), "--policy", str(tmp_path / "p.yaml"), *(["--limit", flag] if flag else [])
    )
    assert code == 2 and message in err and err.count("\n") == 1
