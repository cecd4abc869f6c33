"""Each rule trips on an image that breaks it and stays quiet on a near miss.

Images start from the sandbox's compliant image for the profile and change one thing.
"""

import pytest

from studio_image.engine import inspect_image
from studio_image.findings import Profile, Severity
from studio_image.oci import Platform
from studio_image.policy import Policy
from studio_image.rules import RULES, evaluate
from studio_image.rules.judging import pick_profile
from studio_image.sources import open_source
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import DEFAULT_PATH, RSTUDIO_ENV, compliant, executable, ipykernel_json
from tests.conftest import inspect_reference

KG = Profile.KERNEL_GATEWAY


@pytest.fixture
def check(make_compliant):
    """The findings for the profile's compliant image plus `layers` and `changes`."""

    def run(*layers, profile=KG, policy=None, **changes):
        return evaluate(
            inspect_reference(make_compliant(*layers, profile=profile, **changes)), profile, policy
        )

    return run


def hits(findings, rule):
    return [(f.severity.value, f.path) for f in findings if f.rule == rule]


@pytest.mark.parametrize("profile", list(Profile))
def test_the_compliant_image_of_each_profile_has_no_findings(check, profile):
    assert check(profile=profile) == []


def test_every_rule_is_checked_by_some_profile_and_has_a_summary():
    assert all(r.profiles and r.summary for r in RULES.values())


def test_arm64_fails_platform(check):
    findings = check(architecture="arm64")
    assert hits(findings, "platform") == [("error", None)]
    assert "linux/arm64" in findings[0].message


def test_image_size_uses_the_profile_limit_and_the_policy_override(check):
    limit = Policy(max_image_bytes={KG: 40_000})
    assert hits(check(policy=limit), "image-size") == [("error", None)]
    assert hits(check(policy=limit, profile=Profile.JUPYTERLAB), "image-size") == []


@pytest.mark.parametrize(
    "layer, path",
    [
        (Layer().file("opt/ml/model.pkl", b"m"), "/opt/ml/model.pkl"),
        (Layer().symlink("opt/ml", "/data"), "/opt/ml"),
        (Layer().hardlink("opt/.sagemakerinternal/x", "etc/passwd"), "/opt/.sagemakerinternal/x"),
        (Layer().file("./opt//ml/./x", b"m"), "/opt/ml/x"),
    ],
)
def test_anything_under_a_reserved_path_is_an_error(check, layer, path):
    assert hits(check(layer), "reserved-path") == [("error", path)]


def test_an_empty_reserved_directory_is_a_warning(check):
    assert hits(check(Layer().dir("opt/ml").dir("opt/ml/empty")), "reserved-path") == [("warning", "/opt/ml")]


def test_reserved_near_misses(check):
    # /opt/mlflow is not under /opt/ml; a file under /opt/ml deleted by a later whiteout is gone
    layers = (Layer().file("opt/mlflow/run.py", b"r").file("opt/ml/tmp", b"t"), Layer().whiteout("opt/ml"))
    assert hits(check(*layers), "reserved-path") == []


def test_var_log_studio_is_recommended_against_for_jupyterlab_and_code_editor(check):
    # the specification recommends against it, where /opt/ml is AWS's: a warning, not an error
    log = Layer().file("var/log/studio/app.log", b"l")
    assert hits(check(log, profile=Profile.JUPYTERLAB), "reserved-path") == [
        ("warning", "/var/log/studio/app.log")
    ]
    assert hits(check(log, profile=Profile.CODE_EDITOR), "reserved-path") == [
        ("warning", "/var/log/studio/app.log")
    ]
    assert hits(check(log), "reserved-path") == []


def test_many_offenders_are_listed_then_counted(check):
    layer = Layer()
    for i in range(8):
        layer.file(f"opt/ml/f{i}")
    messages = [f.message for f in check(layer) if f.rule == "reserved-path"]
    assert len(messages) == 6
    assert "and 3 more entries under /opt/ml" in messages


def test_a_policy_adds_reserved_paths(check):
    found = check(Layer().file("srv/cache/x"), policy=Policy(reserved_paths=["/srv/cache"]))
    assert hits(found, "reserved-path") == [("error", "/srv/cache/x")]


def test_a_path_escaping_the_root_is_an_error_finding(check):
    assert hits(check(Layer().file("../../etc/evil", b"x")), "layer-anomaly") == [("error", "../../etc/evil")]


def test_files_in_the_home_mount_path_are_shadowed(check):
    home = Layer().file("home/sagemaker-user/.bashrc", "alias ll='ls -l'\n")
    found = check(home)
    assert hits(found, "mount-path-shadowed") == [("warning", "/home/sagemaker-user")]
    assert "/home/sagemaker-user/.bashrc" in found[0].message
    # the mount path is configurable for KernelGateway apps only
    moved = Policy(mount_path="/home/studio")
    assert hits(check(home, policy=moved), "mount-path-shadowed") == []
    assert hits(check(Layer().file("home/studio/x"), policy=moved), "mount-path-shadowed") == [
        ("warning", "/home/studio")
    ]
    assert hits(check(home, profile=Profile.JUPYTERLAB, policy=moved), "mount-path-shadowed") == [
        ("warning", "/home/sagemaker-user")
    ]


def test_mount_path_near_misses(check):
    # a sibling with the same prefix is not under the mount path; the directory itself holds nothing
    layer = Layer().file("home/sagemaker-userdata/x").dir("home/sagemaker-user/.cache")
    assert hits(check(layer), "mount-path-shadowed") == []


def test_ids_above_65535_in_any_layer_are_named_with_their_layer(check):
    found = check(
        Layer().file("opt/tools/a", uid=70000).file("opt/tools/b", gid=100000),
        Layer().whiteout("opt/tools/a"),  # deleted later, yet the layer still carries it
    )
    assert hits(found, "owner-id-range") == [("error", "/opt/tools/a"), ("error", "/opt/tools/b")]
    assert "in layer 3 is owned by 70000:0" in found[0].message
    assert all(f.layer == 2 for f in found if f.rule == "owner-id-range")


def test_ids_up_to_65535_are_fine(check):
    assert hits(check(Layer().file("opt/x", uid=65535, gid=65534)), "owner-id-range") == []


@pytest.mark.parametrize(
    "user, expected",
    [
        ("ghost", [("error", "/etc/passwd")]),
        ("sagemaker-user:ghosts", [("error", "/etc/group")]),
        ("4242", []),  # a numeric user needs no passwd entry
        ("sagemaker-user:users", []),
    ],
)
def test_config_user_must_exist(check, user, expected):
    assert hits(check(user=user), "user-unknown") == expected


@pytest.mark.parametrize(
    "profile, user, expected",
    [
        (KG, "root", []),
        (KG, "", []),
        (KG, "sagemaker-user", []),
        (KG, "daemon", [("error", "/etc/passwd")]),
        (KG, "1000:0", [("error", "/etc/passwd")]),
        (Profile.RSTUDIO, "root", []),
        (Profile.JUPYTERLAB, "root", [("error", "/etc/passwd")]),
        (Profile.CODE_EDITOR, "1001:100", [("error", "/etc/passwd")]),
    ],
)
def test_user_ids_must_be_a_supported_pair(check, profile, user, expected):
    assert hits(check(profile=profile, user=user), "user-ids") == expected


def test_no_kernel_is_an_error_for_kernel_gateway(check):
    no_kernel = Layer().whiteout("opt/conda/share/jupyter/kernels/python3")
    assert hits(check(no_kernel), "kernelspec-missing") == [("error", None)]
    # a kernel.json in the home directory is hidden by the home volume
    home = Layer().file("home/sagemaker-user/.local/share/jupyter/kernels/mine/kernel.json", ipykernel_json())
    assert hits(check(no_kernel, home), "kernelspec-missing") == [("error", None)]


def test_a_conda_env_with_ipykernel_is_a_kernel(check):
    no_kernel = Layer().whiteout("opt/conda/share/jupyter/kernels/python3")
    env = executable(Layer(), "opt/conda/envs/torch/bin/python").file(
        "opt/conda/envs/torch/conda-meta/ipykernel-6.29.0-pyh3099207_0.json", "{}"
    )
    assert hits(check(no_kernel, env), "kernelspec-missing") == []
    assert (
        hits(check(no_kernel, env, policy=Policy(kernels=["conda-env-torch-py"])), "kernelspec-missing") == []
    )


def test_a_policy_kernel_the_image_lacks_is_missing(check):
    found = check(policy=Policy(kernels=["python3", "ir"]))
    assert hits(found, "kernelspec-missing") == [("error", None)]
    assert "'ir'" in found[0].message and "python3" in found[0].message


KERNELS = "usr/local/share/jupyter/kernels"


@pytest.mark.parametrize(
    "layer, problem",
    [
        (Layer().file(f"{KERNELS}/bad/kernel.json", "{not json"), "not valid JSON"),
        (Layer().file(f"{KERNELS}/bad/kernel.json", '{"argv": []}'), "argv is missing"),
        (
            Layer().file(f"{KERNELS}/bad/kernel.json", ipykernel_json("/opt/py/bin/python")),
            "not an executable",
        ),
        (Layer().file(f"{KERNELS}/bad/kernel.json", ipykernel_json("python2")), "not on the image's PATH"),
        (Layer().file(f"{KERNELS}/bad/kernel.json", ipykernel_json("/etc/passwd")), "not an executable"),
    ],
)
def test_broken_kernelspecs_are_invalid(check, layer, problem):
    found = [f for f in check(layer) if f.rule == "kernelspec-invalid"]
    assert [(f.severity, f.path) for f in found] == [(Severity.ERROR, f"/{KERNELS}/bad/kernel.json")]
    assert problem in found[0].message


def test_kernelspec_argv_resolves_through_path_and_symlinks(check):
    # `python` on PATH via a symlink; argv[0] under /bin, which a usr-merged image links to usr/bin
    usrmerge = Layer().whiteout("bin").symlink("bin", "usr/bin")
    layer = (
        Layer()
        .file(f"{KERNELS}/a/kernel.json", ipykernel_json("bash"))
        .file(f"{KERNELS}/b/kernel.json", ipykernel_json("/bin/bash"))
        .file(f"{KERNELS}/c/kernel.json", ipykernel_json("/opt/conda/bin/python"))
    )
    path = [f"PATH=/opt/conda/bin:{DEFAULT_PATH}"]
    assert hits(check(usrmerge, layer, env=path), "kernelspec-invalid") == []


def test_a_kernel_whose_interpreter_a_later_layer_removed_is_invalid(check):
    kernel = Layer().file(f"{KERNELS}/python3/kernel.json", ipykernel_json())
    found = check(kernel, Layer().whiteout("opt/conda/bin/python3.11"))
    assert hits(found, "kernelspec-invalid") == [("error", f"/{KERNELS}/python3/kernel.json")]


def test_more_than_five_kernels_warns_and_says_which_are_registered(check):
    layer = Layer()
    for name in "abcdef":
        layer.file(f"{KERNELS}/k{name}/kernel.json", ipykernel_json())
    found = [f for f in check(layer) if f.rule == "kernelspec-limit"]
    assert [f.severity for f in found] == [Severity.WARNING]
    assert "has 7 kernels" in found[0].message
    assert "registering python3, ka, kb, kc, kd; not ke, kf" in found[0].message
    assert hits(check(layer, policy=Policy(kernels=["kf", "python3"])), "kernelspec-limit") == []


@pytest.mark.parametrize(
    "path",
    [
        "usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05",
        "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
        "usr/bin/nvidia-smi",
    ],
)
def test_nvidia_driver_files_are_errors(check, path):
    assert hits(check(Layer().file(path, b"\x7fELF")), "nvidia-driver") == [("error", f"/{path}")]


def test_cuda_toolkit_stubs_and_compat_libraries_are_fine(check):
    layer = (
        Layer()
        .file("usr/local/cuda-12.2/targets/x86_64-linux/lib/stubs/libcuda.so", b"s")
        .file("usr/local/cuda-12.2/targets/x86_64-linux/lib/stubs/libnvidia-ml.so", b"s")
        .file("usr/local/cuda-12.2/compat/libcuda.so.535.104.05", b"c")
        .file("usr/local/cuda-12.2/lib64/libcudart.so.12", b"r")
    )
    assert hits(check(layer), "nvidia-driver") == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"entrypoint": ["/usr/local/bin/start.sh"]}, [("warning", None)]),
        ({"cmd": ["python", "/app/setup.py"]}, [("warning", None)]),
        ({"cmd": ["/bin/bash"]}, []),  # what base images set
        ({"cmd": ["bash"]}, []),
    ],
)
def test_entrypoint_and_cmd_are_ignored_by_kernel_gateway_and_rstudio(check, changes, expected):
    assert hits(check(**changes), "entrypoint-ignored") == expected
    assert hits(check(profile=Profile.RSTUDIO, **changes), "entrypoint-ignored") == expected
    assert hits(check(profile=Profile.JUPYTERLAB, **changes), "entrypoint-ignored") == []


def test_required_paths_must_exist(check):
    policy = Policy(required_paths=["/usr/bin/git", "/usr/bin/bash", "/bin/python"])
    usrmerge = (
        Layer().whiteout("bin").symlink("bin", "usr/bin").symlink("usr/bin/python", "/opt/conda/bin/python")
    )
    assert hits(check(usrmerge, policy=policy), "required-path") == [("error", "/usr/bin/git")]


@pytest.mark.parametrize("missing", ["RSTUDIO_CONNECT_URL", "RSTUDIO_PACKAGE_MANAGER_URL"])
def test_rstudio_needs_url_defaults(check, missing):
    env = [item for item in RSTUDIO_ENV if not item.startswith(missing)]
    found = check(profile=Profile.RSTUDIO, env=env)
    assert hits(found, "rstudio-env") == [("error", None)]
    assert missing in found[0].message


@pytest.mark.parametrize(
    "version, policy, expected",
    [
        ("2025.05.1+513.pro3", Policy(), []),
        ("2025.05.0+496.pro5", Policy(), [("error", "/usr/lib/rstudio-server/VERSION")]),
        ("2024.04.2+764.pro1", Policy(), [("error", "/usr/lib/rstudio-server/VERSION")]),
        (
            "2023.03.0+386.pro1",
            Policy(min_rstudio_version="2023.06.0+421.pro1"),  # still configurable
            [("error", "/usr/lib/rstudio-server/VERSION")],
        ),
        ("2023.06.0+421.pro1", Policy(min_rstudio_version="2023.06.0+421.pro1"), []),
    ],
)
def test_rstudio_version_minimum(check, version, policy, expected):
    layer = Layer().file("usr/lib/rstudio-server/VERSION", version + "\n")
    assert hits(check(layer, profile=Profile.RSTUDIO, policy=policy), "rstudio-version") == expected


def test_rstudio_version_unknown_is_a_warning_unless_the_image_env_names_it(check):
    gone = Layer().whiteout("usr/lib/rstudio-server/VERSION")
    assert hits(check(gone, profile=Profile.RSTUDIO), "rstudio-version") == [
        ("warning", "/usr/lib/rstudio-server/VERSION")
    ]
    env = [*RSTUDIO_ENV, "RSW_VERSION=2025.09.0+387.pro2"]
    assert hits(check(gone, profile=Profile.RSTUDIO, env=env), "rstudio-version") == []


@pytest.mark.parametrize(
    "removed, named",
    [
        ("usr/bin/sudo", "sudo"),
        ("usr/lib/jvm/java-11-openjdk-amd64", "Java 11+"),
        ("usr/lib/x86_64-linux-gnu/libpng16.so.16.37.0", "libpng"),
        ("opt/R/4.2.0/lib/R/library/reticulate", "reticulate"),
        ("opt/python/3.9.5/lib/python3.9/site-packages/awscli", "awscli"),
    ],
)
def test_rstudio_packages_are_required(check, removed, named):
    found = [
        f for f in check(Layer().whiteout(removed), profile=Profile.RSTUDIO) if f.rule == "rstudio-packages"
    ]
    assert len(found) == 1 and named in found[0].message


def test_java_8_is_too_old_for_rstudio(check):
    java8 = (
        Layer()
        .whiteout("usr/lib/jvm/java-11-openjdk-amd64")
        .file("usr/lib/jvm/java-8-openjdk-amd64/release", 'JAVA_VERSION="1.8.0_392"\n')
    )
    found = [f for f in check(java8, profile=Profile.RSTUDIO) if f.rule == "rstudio-packages"]
    assert len(found) == 1 and "found Java 8" in found[0].message


def test_jupyterlab_must_be_on_path(check):
    # installed in /opt/conda, but /opt/conda/bin is not on PATH
    found = check(profile=Profile.JUPYTERLAB, env=[f"PATH={DEFAULT_PATH}"])
    assert hits(found, "jupyter-server-missing") == [("error", None)]
    gone = Layer().whiteout("opt/conda/bin/jupyter-lab")
    assert hits(check(gone, profile=Profile.JUPYTERLAB), "jupyter-server-missing") == [("error", None)]


def test_code_editor_must_be_in_the_image(check):
    gone = Layer().whiteout("opt/conda/bin/sagemaker-code-editor")
    assert hits(check(gone, profile=Profile.CODE_EDITOR), "code-editor-missing") == [("error", None)]
    code_server = executable(Layer(), "usr/local/bin/code-server")
    assert hits(check(gone, code_server, profile=Profile.CODE_EDITOR), "code-editor-missing") == []


GP = Profile.GATEWAY_PROVISIONERS
BOOTSTRAP = "/usr/local/bin/bootstrap-kernel.sh"


def test_bootstrap_must_exist_be_executable_and_run(check):
    assert hits(check(Layer().whiteout(BOOTSTRAP[1:]), profile=GP), "bootstrap-missing") == [
        ("error", BOOTSTRAP)
    ]
    not_executable = Layer().file(BOOTSTRAP[1:], "#!/bin/sh\n", mode=0o644)
    assert hits(check(not_executable, profile=GP), "bootstrap-missing") == [("error", BOOTSTRAP)]
    assert hits(check(profile=GP, cmd=["/bin/bash"]), "bootstrap-missing") == [("warning", BOOTSTRAP)]
    assert hits(check(profile=GP, cmd=["/bin/sh", "-c", BOOTSTRAP]), "bootstrap-missing") == []


def test_a_kernel_launcher_must_be_under_a_language_directory(check):
    gone = Layer().whiteout("usr/local/bin/kernel-launchers/python")
    assert hits(check(gone, profile=GP), "launchers-missing") == [
        ("error", "/usr/local/bin/kernel-launchers")
    ]
    loose = Layer().file("usr/local/bin/kernel-launchers/README.md", "x")
    assert hits(check(gone, loose, profile=GP), "launchers-missing") == [
        ("error", "/usr/local/bin/kernel-launchers")
    ]
    r_only = Layer().file("usr/local/bin/kernel-launchers/R/scripts/launch_IRkernel.R", "x")
    assert hits(check(gone, r_only, profile=GP), "launchers-missing") == []


def test_gateway_provisioners_images_run_as_jovyan(check):
    sagemaker_user = compliant("kernel-gateway").layers[0]
    found = check(sagemaker_user, profile=GP, user="sagemaker-user")
    assert hits(found, "jovyan-user") == [("error", "/etc/passwd")]
    assert hits(check(profile=GP, user="root"), "jovyan-user") == [("error", None)]
    assert hits(check(profile=GP, user="1000:100"), "jovyan-user") == []


def test_a_policy_regrades_and_suppresses_by_rule_id(check):
    layer = Layer().file("opt/ml/a").file("opt/ml/keep/b").file("home/sagemaker-user/x")
    policy = Policy.model_validate(
        {
            "severity": {"mount-path-shadowed": "error"},
            "suppress": [{"rule": "reserved-path", "path": "/opt/ml/keep/*"}],
        }
    )
    found = check(layer, policy=policy)
    assert [(f.rule, f.severity.value, f.path) for f in found] == [
        ("mount-path-shadowed", "error", "/home/sagemaker-user"),
        ("reserved-path", "error", "/opt/ml/a"),
    ]


@pytest.mark.parametrize(
    "layers",
    [
        (Layer().dir("srv").symlink("opt", "/srv"), Layer().file("srv/ml/x", b"m")),  # written at the target
        (Layer().dir("srv").symlink("opt", "/srv"), Layer().file("opt/ml/x", b"m")),  # written through it
    ],
    ids=["target-then-seen-through-symlink", "written-through-symlinked-parent"],
)
def test_a_reserved_path_reached_through_a_symlinked_parent_is_an_error(check, layers):
    # Given /opt -> /srv, and a file the container sees at /opt/ml/x
    # Then reserved-path fires, naming where the file is stored
    assert hits(check(*layers), "reserved-path") == [("error", "/srv/ml/x")]


def test_a_config_user_is_found_in_an_etc_passwd_reached_through_a_symlink(check):
    # Given /etc/passwd replaced by a symlink to a file that names the config's user
    passwd = "root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/sagemaker-user:/bin/bash\n"
    layer = (
        Layer()
        .dir("srv/accounts")
        .file("srv/accounts/passwd", passwd)
        .symlink("etc/passwd", "/srv/accounts/passwd")
    )
    # Then the user exists
    assert hits(check(layer, user="alice"), "user-unknown") == []
    assert hits(check(layer, user="ghost"), "user-unknown") == [("error", "/etc/passwd")]


def test_a_kernel_json_too_large_to_read_is_invalid_not_missing(check):
    # Given a kernel.json over the capture cap (1 MiB by default)
    layer = Layer().file(f"{KERNELS}/big/kernel.json", ipykernel_json("python") + " " * (1 << 20))
    found = [f for f in check(layer) if f.rule.startswith("kernelspec")]
    # Then it is kernelspec-invalid, saying why
    assert [(f.rule, f.path) for f in found] == [("kernelspec-invalid", f"/{KERNELS}/big/kernel.json")]
    assert "too large" in found[0].message


def test_a_kernel_json_that_is_a_symlink_is_read_through_it(check):
    # Given a kernelspec whose kernel.json links to another kernelspec's (broken) file
    real, linked = f"{KERNELS}/real/kernel.json", f"{KERNELS}/linked/kernel.json"
    layer = Layer().file(real, '{"argv": []}').symlink(linked, "../real/kernel.json")
    # Then the link is read as its target: both kernelspecs are invalid, by their own paths
    assert sorted(hits(check(layer), "kernelspec-invalid")) == [
        ("error", f"/{linked}"),
        ("error", f"/{real}"),
    ]


def test_a_platform_that_a_single_platform_image_does_not_offer_is_a_finding(make_compliant):
    # Given a single amd64 image (no index), checked as linux/arm64
    reference = make_compliant()
    with open_source(reference) as source:
        inventory = inspect_image(source, platform=Platform(architecture="arm64"))
    # Then the platform finding says what the image is, rather than passing it as arm64
    (finding,) = [f for f in evaluate(inventory, KG) if f.rule == "platform"]
    assert finding.severity == Severity.ERROR
    assert "linux/arm64" in finding.message and "single linux/amd64 image" in finding.message
    # While asked for what it is, there is no platform finding
    assert hits(evaluate(inspect_reference(reference), KG), "platform") == []


def test_a_hardlink_to_a_kernel_json_too_large_to_read_is_invalid_saying_so(check):
    # Given a kernelspec whose kernel.json is a hardlink to a file over the capture cap
    big, linked = f"{KERNELS}/big/kernel.json", f"{KERNELS}/linked/kernel.json"
    layer = Layer().file(big, ipykernel_json("python") + " " * (1 << 20)).hardlink(linked, big)
    found = [f for f in check(layer) if f.rule.startswith("kernelspec")]
    # Then both kernelspecs are invalid, each saying it is too large, none missing
    assert sorted((f.rule, f.path) for f in found) == [
        ("kernelspec-invalid", f"/{big}"),
        ("kernelspec-invalid", f"/{linked}"),
    ]
    assert all("too large" in f.message for f in found)


@pytest.mark.parametrize("profile", list(Profile))
def test_check_without_a_profile_picks_the_one_each_compliant_image_is_built_for(make_compliant, profile):
    # Given the sandbox's compliant image for a profile
    inventory = inspect_reference(make_compliant(profile=profile))
    # When the profile is picked from what the image holds
    picked, why = pick_profile(inventory)
    # Then it is that profile, for a reason that names what was found
    assert picked == profile
    assert why


def test_an_image_with_jupyterlab_and_code_editor_is_picked_as_jupyterlab(make_compliant):
    # Given a Code Editor image that also serves JupyterLab, as SageMaker Distribution's do
    jupyter = executable(Layer(), "opt/conda/bin/jupyter-lab")
    inventory = inspect_reference(make_compliant(jupyter, profile=Profile.CODE_EDITOR))
    # Then JupyterLab, the new Studio's default app, is picked, and the reason names the server found
    assert pick_profile(inventory) == (Profile.JUPYTERLAB, "/opt/conda/bin/jupyter-lab is on its PATH")
    # And without the server it is judged as the kernels it holds
    gone = Layer().whiteout("opt/conda/bin/jupyter-lab")
    assert pick_profile(inspect_reference(make_compliant(gone, profile=Profile.JUPYTERLAB)))[0] == KG
