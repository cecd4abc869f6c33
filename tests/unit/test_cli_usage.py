"""What a user trips on: bad arguments (exit 2, one line), a closed pipe, counts in words."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

from studio_image.cli import main
from studio_image_sandbox import commands, demo, ecrpush
from studio_image_sandbox.demo import DemoRow
from studio_image_sandbox.ocibuild import Layer

CLI = Path(sys.executable).parent / "studio-image"


def exit_code_and_stderr(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as done:  # argparse's own exit
        code = int(done.code or 0)
    return code, capsys.readouterr().err


def kernelspec(image_name: str, tmp_path: Path) -> list[str]:
    return [
        "kernelspec",
        "--provisioner",
        "docker",
        f"--image-name={image_name}",
        "--kernel-name",
        "k",
        "--display-name",
        "K",
        "--output",
        str(tmp_path / "k"),
    ]


def test_ecrs_name_and_tag_constraints_are_botocores():
    # Given ECR's service model as botocore ships it
    model = botocore.session.get_session().get_service_model("ecr")
    name, tag = model.shape_for("RepositoryName").metadata, model.shape_for("ImageTag").metadata
    # Then the sandbox checks pushes against the same pattern and lengths
    assert ecrpush.REPOSITORY_NAME.pattern == name["pattern"]
    assert range(name["min"], name["max"] + 1) == ecrpush.REPOSITORY_NAME_LENGTH
    assert range(tag["min"], tag["max"] + 1) == ecrpush.IMAGE_TAG_LENGTH
    assert "pattern" not in tag


@pytest.mark.parametrize(
    ("repository", "tag", "problem"),
    [
        ("Studio/X", "1", "'Studio/X' is not an ECR repository name"),
        ("a", "1", "'a' is not an ECR repository name"),
        ("studio//x", "1", "'studio//x' is not an ECR repository name"),
        ("studio/x-", "1", "'studio/x-' is not an ECR repository name"),
        ("s" * 257, "1", "is not an ECR repository name"),
        ("studio/x", "t" * 301, "an ECR image tag has 1 to 300 characters, not 301"),
        ("studio/x", "", "an ECR image tag has 1 to 300 characters, not 0"),
    ],
)
def test_a_push_ecr_would_refuse_is_one_line_before_any_call(capsys, monkeypatch, repository, tag, problem):
    # Given a sandbox that must not be reached
    monkeypatch.setattr(commands, "connect", lambda *a, **k: pytest.fail("the sandbox was called"))
    # When a push names a repository or tag outside ECR's constraints
    code, err = exit_code_and_stderr(
        capsys, ["sandbox", "push", "oci:x", f"--repository={repository}", f"--tag={tag}"]
    )
    # Then it exits 2 with one line saying what is wrong
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("studio-image: SandboxError: ") and problem in err


class Reached(Exception):
    """Raised by a stand-in for the sandbox: the command got as far as calling it."""


def reach(*args: object, **kwargs: object) -> None:
    raise Reached


def test_names_at_ecrs_limits_are_pushed(monkeypatch):
    # Given a stand-in sandbox
    monkeypatch.setattr(commands, "connect", reach)
    # When the repository name is ECR's longest, then its shortest, with its longest tag
    # Then the push goes on to the sandbox
    with pytest.raises(Reached):
        main(["sandbox", "push", "oci:x", "--repository", "ab/" + "c" * 253, "--tag", "t" * 300])
    with pytest.raises(Reached):
        main(["sandbox", "push", "oci:x", "--repository", "ab", "--tag", "t"])


@pytest.mark.parametrize(
    ("image_name", "problem"),
    [
        ("Acme/X:1", "'Acme/X' is not a valid repository name"),
        ("acme/x:bad tag", "'bad tag' is not a valid tag"),
        ("-bad.host/x", "'-bad.host' is not a valid registry host"),
        ("registry.example.com:port/x", "'registry.example.com:port' is not a valid registry host"),
        ("acme/x@sha256:", "'sha256:' is not a valid digest"),
        ("acme/" + "x" * 251, "a name is at most 255 characters"),
    ],
)
def test_a_kernelspec_image_name_that_is_no_reference_is_one_line(capsys, tmp_path, image_name, problem):
    # When kernelspec is given an image name outside the distribution reference grammar
    code, err = exit_code_and_stderr(capsys, kernelspec(image_name, tmp_path))
    # Then it exits 2 with one line naming the part that is wrong, and writes nothing
    assert code == 2
    assert err.count("\n") == 1 and problem in err and "{" not in err
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize(
    "image_name",
    [
        "acme/data-sci-py:2.0",
        "python",
        "registry.example.com:5000/acme/data-sci-py:2.0",
        "localhost/x",
        "[::1]:5000/x:1",
        "acme/x:1@sha256:" + "a" * 64,
        "acme/" + "x" * 250,
    ],
)
def test_kernelspec_takes_every_form_of_image_reference(capsys, tmp_path, image_name):
    code, err = exit_code_and_stderr(capsys, kernelspec(image_name, tmp_path))
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    "argv",
    [["check"], ["check", "oci:x", "--format", "pdf"], ["kernelspec"], ["sandbox", "push"], ["nonsense"]],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv):
    code, err = exit_code_and_stderr(capsys, argv)
    assert code == 2
    assert err.count("\n") == 1 and ": error: " in err and "--help" in err


def test_a_closed_pipe_ends_quietly(make_compliant):
    # Given `studio-image check ... --format json` whose reader has gone before it writes
    process = subprocess.Popen(
        [CLI, "check", make_compliant(), "--no-cache", "--format", "json", "--profile", "kernel-gateway"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout and process.stderr
    process.stdout.close()
    # When it ends
    err = process.stderr.read()
    code = process.wait(timeout=120)
    # Then it says nothing and exits as a program stopped by SIGPIPE would in a shell
    assert err == b""
    assert code == 128 + 13


def test_a_one_layer_image_is_one_layer(make_image, capsys):
    # Given an image of one layer
    reference = make_image(Layer().file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
    # When it is checked
    main(["check", reference, "--no-cache"])
    # Then the report counts in words
    out = capsys.readouterr().out
    assert ", 1 layer, 1 file" in out
    assert out.rstrip().endswith(" rules checked") and "(s)" not in out


def demo_row(image: str, outcome: str) -> DemoRow:
    verdict = "fail" if outcome == "refused" else "pass"
    return DemoRow(
        image=image,
        why="",
        expected_profile="kernel-gateway",
        expected_verdict=verdict,
        expected_outcome=outcome,
        profile="kernel-gateway",
        verdict=verdict,
        outcome=outcome,
        image_version_arn=None,
        attached=outcome == "attached",
        notification=None,
        seconds=None,
    )


def test_the_demo_summary_counts_in_words():
    # Given one attached image and one that failed its canary start
    rows = [demo_row("studio/a:1", "attached"), demo_row("studio/b:1", "canary-failed")]
    out = io.StringIO()
    # When the demo sums up
    demo.summary(rows, out)
    # Then
    assert "\n2 images: 1 registered, started and attached, 0 refused by the checks, " in out.getvalue()
    assert "1 image failed its canary start and was rolled back, " in out.getvalue()
