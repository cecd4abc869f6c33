"""Judging an image: the rules for its profile, under a policy, over its inventory, and the
verdict they come to, as a `Report` (rendered by `report`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, field_serializer

from ..appconfig import SERVER_COMMANDS, AppImageConfig, derive_app_image_config
from ..facts import Facts, KernelSpec, UserInfo
from ..findings import Finding, Profile, Severity, SuppressedFinding
from ..inventory import Inventory, LayerInfo, Sizes
from ..policy import Policy
from ..vulnerabilities import VulnerabilityReport
from . import home_mount, judge, rules_for
from .apps import BOOTSTRAP

RSTUDIO_SERVER = "/usr/lib/rstudio-server"  # where RStudio Workbench installs (Posit's packages)


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"


class Report(BaseModel):
    image: str
    digest: str | None
    profile: Profile
    platform: str
    verdict: Verdict
    findings: list[Finding]
    suppressed: list[SuppressedFinding] = Field(default_factory=list)  # what the policy left out, and why
    rules_checked: list[str]
    sizes: Sizes
    kernels: list[KernelSpec]  # every kernel the image offers, named as SageMaker looks them up
    user: UserInfo
    app_image_config: AppImageConfig | None  # what registration will create; None: not a Studio app
    layers: list[LayerInfo]
    files: int
    vulnerabilities: VulnerabilityReport | None = None  # None: the policy sets no vulnerability gate

    @field_serializer("app_image_config")
    def _as_the_api_spells_it(self, config: AppImageConfig | None) -> dict[str, object] | None:
        return self.app_image_config_fields()

    def app_image_config_fields(self) -> dict[str, object] | None:
        """CreateAppImageConfig's fields (name aside), spelled as the API spells them."""
        config = self.app_image_config
        return config.model_dump(by_alias=True, exclude_none=True) if config else None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]


def build_report(inventory: Inventory, profile: Profile, policy: Policy | None = None) -> Report:
    policy = policy or Policy()
    facts = Facts(inventory, home_mount(profile, policy))
    findings, suppressed = judge(inventory, profile, policy, facts)
    failed = any(f.severity == Severity.ERROR for f in findings)
    return Report(
        image=inventory.reference,
        digest=inventory.digest,
        profile=profile,
        platform=str(inventory.platform),
        verdict=Verdict.FAIL if failed else Verdict.PASS,
        findings=findings,
        suppressed=suppressed,
        rules_checked=[r.id for r in rules_for(profile)],
        sizes=inventory.sizes,
        kernels=facts.kernels,
        user=facts.user,
        app_image_config=derive_app_image_config(profile, facts, policy),
        layers=inventory.layers,
        files=len(inventory.files),
    )


def pick_profile(inventory: Inventory) -> tuple[Profile, str]:
    """The profile an image is built for, from what it holds, and why, for `check` without a
    profile: a Gateway Provisioners bootstrap, RStudio Workbench, a JupyterLab or Code Editor server
    on the PATH (JupyterLab first: SageMaker Distribution images hold both), else KernelGateway
    (kernels alone, for Studio Classic)."""
    facts = Facts(inventory)
    if facts.exists(BOOTSTRAP):
        return Profile.GATEWAY_PROVISIONERS, f"{BOOTSTRAP} is in it"
    if facts.exists(RSTUDIO_SERVER):
        return Profile.RSTUDIO, f"{RSTUDIO_SERVER} is in it"
    for profile in (Profile.JUPYTERLAB, Profile.CODE_EDITOR):
        found = next(filter(None, map(facts.which, SERVER_COMMANDS[profile])), None)
        if found:
            return profile, f"{found} is on its PATH"
    return Profile.KERNEL_GATEWAY, "it has no JupyterLab, Code Editor, RStudio or Gateway Provisioners server"
