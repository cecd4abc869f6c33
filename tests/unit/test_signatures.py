"""Start-up log lines, as Studio apps write them, matched to a cause and a fix."""

import pytest

from studio_image.pipeline.signatures import SIGNATURES, match_lines


@pytest.mark.parametrize(
    ("line", "signature"),
    [
        ("exec /opt/conda/bin/python3: exec format error", "exec-format-error"),
        ("Kernel with name [python3] does not exist in image", "kernel-name-mismatch"),
        ("ERROR: the image user's uid 1001 does not match DefaultUid 1000", "uid-gid-mismatch"),
        ("[nb_conda_kernels] enabled, 0 kernels found", "conda-no-kernels"),
        ("Traceback (most recent call last):", "python-traceback"),
        ("ModuleNotFoundError: No module named 'ipykernel'", "python-traceback"),
        ("/bin/bash: /home/sagemaker-user/.bashrc: Permission denied", "permission-denied"),
        ("/opt/conda/bin/python3.11: No such file or directory", "interpreter-missing"),
        # as the canary runs of tests/e2e/test_canary.py wrote them
        ("exec /opt/conda/bin/python3.11: exec format error", "exec-format-error"),
        ("the image's uid 1001 does not match the DefaultUid 1000", "uid-gid-mismatch"),
        ("/home/sagemaker-user/.jupyter: Permission denied", "permission-denied"),
    ],
)
def test_each_known_start_up_failure_is_named_with_its_cause_and_fix(line, signature):
    # Given a start-up log with the failure among ordinary lines
    lines = ["[I KernelGatewayApp] starting", "[I KernelGatewayApp] loading kernelspecs", line, "exiting"]
    # When the lines are matched
    found = match_lines(lines)
    # Then the first match is that signature, quoting the line and the lines around it
    assert found[0].signature == signature
    assert found[0].line == line
    assert found[0].context == lines
    assert found[0].cause and found[0].fix


def test_an_unknown_error_is_still_reported_with_its_surroundings_and_a_clean_start_matches_nothing():
    clean = ["[I KernelGatewayApp] Jupyter Kernel Gateway is available at http://0.0.0.0:8888"]
    assert match_lines(clean) == []
    lines = ["a", "b", "c", "fatal: the flux capacitor overheated", "d", "e", "f"]
    (found,) = match_lines(lines)
    assert (found.signature, found.line) == ("unknown-error", lines[3])
    assert found.context == ["b", "c", lines[3], "d", "e"]


def test_a_signature_is_reported_once_however_often_it_repeats():
    found = match_lines(["x: Permission denied"] * 5 + ["exec format error"])
    assert [m.signature for m in found] == ["permission-denied", "exec-format-error"]


def test_every_signature_has_a_distinct_name():
    assert len({s.name for s in SIGNATURES}) == len(SIGNATURES)
