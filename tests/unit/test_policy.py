import pytest

from studio_image.errors import PolicyInvalid
from studio_image.findings import Finding, Profile, Severity
from studio_image.policy import load_policy
from studio_image.rules import RULES


def finding(rule="reserved-path", path="/opt/ml/x"):
    return Finding(rule=rule, severity=Severity.ERROR, message="m", remediation="r", path=path)


def test_a_yaml_policy_loads(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("profile: rstudio\nmax_image_bytes: {jupyterlab: 5}\nseverity: {platform: warning}\n")
    policy = load_policy(path)
    assert policy.profile == Profile.RSTUDIO
    assert policy.max_image_bytes == {Profile.JUPYTERLAB: 5}


def test_unknown_keys_are_named_in_the_error(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text('{"profile": "kernel-gateway", "reserved_path": ["/x"]}')
    with pytest.raises(PolicyInvalid, match="reserved_path: Extra inputs are not permitted"):
        load_policy(path)


def test_relative_paths_are_refused(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("reserved_paths: [srv/cache]\n")
    with pytest.raises(PolicyInvalid, match="not an absolute path"):
        load_policy(path)


def test_unparseable_and_missing_files_are_policy_errors(tmp_path):
    (tmp_path / "bad.yaml").write_text("profile: [unclosed\n")
    with pytest.raises(PolicyInvalid, match="does not parse"):
        load_policy(tmp_path / "bad.yaml")
    with pytest.raises(PolicyInvalid, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")


def test_suppressions_by_glob_and_regrading(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "severity: {platform: warning}\nsuppress:\n  - {rule: reserved-path, path: /opt/ml/metadata/*}\n"
    )
    policy = load_policy(path)
    kept = policy.apply(
        [finding(path="/opt/ml/metadata/x"), finding(path="/opt/ml/model"), finding("platform", None)]
    )
    assert [(f.rule, f.path, f.severity) for f in kept] == [
        ("reserved-path", "/opt/ml/model", Severity.ERROR),
        ("platform", None, Severity.WARNING),
    ]


def test_rule_ids_the_policy_names_must_exist(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("severity: {no-such-rule: warning}\n")
    with pytest.raises(PolicyInvalid, match="unknown rules: no-such-rule"):
        load_policy(path).check_rule_ids(set(RULES))
