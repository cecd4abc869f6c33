"""Rules on what each kind of app needs inside the image: RStudio, JupyterLab, Code Editor, and
Gateway Provisioners kernels."""

from __future__ import annotations

from collections.abc import Iterator

from ..appconfig import SERVER_COMMANDS
from ..facts import RSTUDIO_VERSION_FILE, rstudio_version
from ..findings import Finding, Profile, Severity
from . import Context, rule

RSTUDIO = frozenset({Profile.RSTUDIO})
GATEWAY_PROVISIONERS = frozenset({Profile.GATEWAY_PROVISIONERS})
RSTUDIO_ENV = ("RSTUDIO_CONNECT_URL", "RSTUDIO_PACKAGE_MANAGER_URL")
RSTUDIO_PYTHON_PACKAGES = ("boto3", "awscli", "sagemaker")
MIN_JAVA = 11
BOOTSTRAP = "/usr/local/bin/bootstrap-kernel.sh"
LAUNCHERS = "/usr/local/bin/kernel-launchers"


@rule("rstudio-env", "RSTUDIO_CONNECT_URL and RSTUDIO_PACKAGE_MANAGER_URL need defaults", RSTUDIO)
def rstudio_env(ctx: Context) -> Iterator[Finding]:
    env = ctx.inventory.config.config.env_map()
    for name in RSTUDIO_ENV:
        if name not in env:
            yield Finding(
                rule="rstudio-env",
                severity=Severity.ERROR,
                message=f"{name} has no default value in the image's environment",
                remediation=f'add ENV {name} "<url>" to the Dockerfile',
            )


@rule("rstudio-version", "RStudio must be at least the supported minimum", RSTUDIO)
def rstudio_version_check(ctx: Context) -> Iterator[Finding]:
    found = ctx.facts.rstudio_release
    minimum = ctx.policy.min_rstudio_version
    if found is None:
        yield Finding(
            rule="rstudio-version",
            severity=Severity.WARNING,
            message=f"the RStudio version could not be found ({RSTUDIO_VERSION_FILE} is missing)",
            remediation=f"build FROM an RStudio Workbench session image of at least {minimum}",
            path=RSTUDIO_VERSION_FILE,
        )
    elif (rstudio_version(found) or ()) < (rstudio_version(minimum) or ()):
        yield Finding(
            rule="rstudio-version",
            severity=Severity.ERROR,
            message=f"RStudio {found} is older than the supported minimum {minimum}",
            remediation=f"rebuild FROM an RStudio session image of {minimum} or later",
            path=RSTUDIO_VERSION_FILE,
        )


@rule("rstudio-packages", "the packages SageMaker's RStudio integration needs must be installed", RSTUDIO)
def rstudio_packages(ctx: Context) -> Iterator[Finding]:
    facts = ctx.facts
    missing: list[tuple[str, str]] = []
    if not facts.which("sudo"):
        missing.append(("sudo", "yum install -y sudo"))
    if not any(v >= MIN_JAVA for v in facts.java_versions):
        found = ", ".join(f"Java {v}" for v in facts.java_versions) or "no Java"
        missing.append((f"a Java {MIN_JAVA}+ runtime (found {found})", "yum install -y openjdk-11-jdk"))
    if not any(name.startswith("libpng") for name in facts.shared_libraries):
        missing.append(("libpng", "yum install -y libpng-dev"))
    if "reticulate" not in facts.r_packages:
        missing.append(("the R package reticulate", "R -e \"install.packages('reticulate')\""))
    for package in RSTUDIO_PYTHON_PACKAGES:
        if package not in facts.python_packages:
            missing.append((f"the Python package {package}", f"pip install {package}"))
    for what, fix in missing:
        yield Finding(
            rule="rstudio-packages",
            severity=Severity.ERROR,
            message=f"{what} is missing; SageMaker's RStudio integration needs it",
            remediation=fix,
        )


def _server_missing(ctx: Context, rule_id: str, server: str, install: str) -> Iterator[Finding]:
    programs = list(SERVER_COMMANDS[ctx.profile])
    facts = ctx.facts
    if any(facts.which(program) for program in programs):
        return
    hidden = next((path for path in map(facts.hidden_program, programs) if path), None)
    if hidden:
        yield Finding(
            rule=rule_id,
            severity=Severity.ERROR,
            message=f"no {server} server at start: {hidden} is under {facts.mount_path}, which the home "
            "volume hides when the app starts",
            remediation=f"{install} outside {facts.mount_path} (not with pip --user; a venv under /opt "
            "will do), and put its bin directory on PATH",
            path=hidden,
        )
        return
    yield Finding(
        rule=rule_id,
        severity=Severity.ERROR,
        message=f"no {server} server: {' or '.join(programs)} is not an executable on the image's PATH "
        f"({':'.join(facts.search_path)})",
        remediation=f"{install}, and put its bin directory on PATH",
    )


@rule("jupyter-server-missing", "a JupyterLab image must contain JupyterLab", frozenset({Profile.JUPYTERLAB}))
def jupyter_server_missing(ctx: Context) -> Iterator[Finding]:
    yield from _server_missing(ctx, "jupyter-server-missing", "JupyterLab", "pip install jupyterlab")


@rule("code-editor-missing", "a Code Editor image must contain Code Editor", frozenset({Profile.CODE_EDITOR}))
def code_editor_missing(ctx: Context) -> Iterator[Finding]:
    yield from _server_missing(
        ctx, "code-editor-missing", "Code Editor", "micromamba install -c conda-forge sagemaker-code-editor"
    )


@rule("bootstrap-missing", f"{BOOTSTRAP} must exist, be executable and be the command", GATEWAY_PROVISIONERS)
def bootstrap_missing(ctx: Context) -> Iterator[Finding]:
    facts = ctx.facts
    config = ctx.inventory.config.config
    command = " ".join((config.entrypoint or []) + (config.cmd or []))

    def error(problem: str) -> Finding:
        return Finding(
            rule="bootstrap-missing",
            severity=Severity.ERROR,
            message=f"{BOOTSTRAP} {problem}; Gateway Provisioners starts kernels through it",
            remediation="RUN jupyter image-bootstrap install --languages python && chmod 0755 " + BOOTSTRAP,
            path=BOOTSTRAP,
        )

    if not facts.exists(BOOTSTRAP):
        yield error("is missing")
    elif not facts.at_start(BOOTSTRAP):
        yield error(f"leads under {facts.mount_path}, which the home volume hides at start")
    elif not facts.executable(BOOTSTRAP):
        yield error("is not an executable file")
    elif "bootstrap-kernel.sh" not in command:
        yield Finding(
            rule="bootstrap-missing",
            severity=Severity.WARNING,
            message=f"the image's command ({command or 'none'}) does not run {BOOTSTRAP}",
            remediation=f"CMD {BOOTSTRAP}",
            path=BOOTSTRAP,
        )


@rule(
    "launchers-missing", f"a kernel launcher must exist under {LAUNCHERS}/<language>/", GATEWAY_PROVISIONERS
)
def launchers_missing(ctx: Context) -> Iterator[Finding]:
    launchers = [p for p in ctx.facts.files_under(LAUNCHERS) if p.count("/") > LAUNCHERS.count("/") + 1]
    if not launchers:
        yield Finding(
            rule="launchers-missing",
            severity=Severity.ERROR,
            message=f"no kernel launcher under {LAUNCHERS}/<language>/",
            remediation="RUN jupyter image-bootstrap install --languages python",
            path=LAUNCHERS,
        )
