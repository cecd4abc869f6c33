"""Each rule trips on an image that breaks it and stays quiet on a near miss."""

import pytest

from studio_image.engine import inspect_image
from studio_image.findings import Profile, Severity
from studio_image.policy import Policy
from studio_image.rules import evaluate
from studio_image.sources import open_source
from studio_image_sandbox.ocibuild import Layer


def findings(reference, profile=Profile.KERNEL_GATEWAY, policy=None):
    with open_source(reference) as source:
        return evaluate(inspect_image(source), profile, policy)


def rules_hit(reference, **kwargs):
    return {(f.rule, f.severity.value, f.path) for f in findings(reference, **kwargs)}


def test_arm64_fails_platform(make_image):
    hits = findings(make_image(Layer().file("a"), architecture="arm64"))
    assert [(f.rule, f.severity) for f in hits] == [("platform", Severity.ERROR)]
    assert "linux/arm64" in hits[0].message


def test_amd64_passes_platform(make_image):
    assert findings(make_image(Layer().file("a"))) == []


def test_image_size_uses_the_profile_limit_and_the_policy_override(make_image):
    reference = make_image(Layer().file("big", bytes(50_000)))
    assert findings(reference) == []
    policy = Policy(max_image_bytes={Profile.KERNEL_GATEWAY: 40_000})
    assert [f.rule for f in findings(reference, policy=policy)] == ["image-size"]
    assert findings(reference, profile=Profile.RSTUDIO, policy=policy) == []


@pytest.mark.parametrize(
    "layer, path",
    [
        (Layer().file("opt/ml/model.pkl", b"m"), "/opt/ml/model.pkl"),
        (Layer().symlink("opt/ml", "/data"), "/opt/ml"),
        (Layer().hardlink("opt/.sagemakerinternal/x", "etc/passwd"), "/opt/.sagemakerinternal/x"),
        (Layer().file("./opt//ml/./x", b"m"), "/opt/ml/x"),
    ],
)
def test_anything_under_a_reserved_path_is_an_error(make_image, layer, path):
    assert rules_hit(make_image(Layer().file("etc/passwd", "root:x:0:0::/:/bin/sh\n"), layer)) == {
        ("reserved-path", "error", path)
    }


def test_an_empty_reserved_directory_is_a_warning(make_image):
    assert rules_hit(make_image(Layer().dir("opt/ml").dir("opt/ml/empty"))) == {
        ("reserved-path", "warning", "/opt/ml")
    }


def test_near_misses_are_not_reserved(make_image):
    # /opt/mlflow is not under /opt/ml; a file under /opt/ml deleted by a later whiteout is gone
    reference = make_image(
        Layer().file("opt/mlflow/run.py", b"r").file("opt/ml/tmp", b"t"),
        Layer().whiteout("opt/ml"),
    )
    assert findings(reference) == []


def test_var_log_studio_is_reserved_for_jupyterlab_only(make_image):
    reference = make_image(Layer().file("var/log/studio/app.log", b"l"))
    assert rules_hit(reference, profile=Profile.JUPYTERLAB) == {
        ("reserved-path", "error", "/var/log/studio/app.log")
    }
    assert findings(reference, profile=Profile.KERNEL_GATEWAY) == []


def test_many_offenders_are_listed_then_counted(make_image):
    layer = Layer()
    for i in range(8):
        layer.file(f"opt/ml/f{i}")
    messages = [f.message for f in findings(make_image(layer))]
    assert len(messages) == 6
    assert "and 3 more entries under /opt/ml" in messages
    assert sum("is under the reserved /opt/ml" in m for m in messages) == 5


def test_a_policy_adds_reserved_paths(make_image):
    reference = make_image(Layer().file("srv/cache/x"))
    assert rules_hit(reference, policy=Policy(reserved_paths=["/srv/cache"])) == {
        ("reserved-path", "error", "/srv/cache/x")
    }


def test_a_path_escaping_the_root_is_an_error_finding(make_image):
    assert rules_hit(make_image(Layer().file("../../etc/evil", b"x"))) == {
        ("layer-anomaly", "error", "../../etc/evil")
    }
