"""Profiles, severities and findings."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, field_validator

from .scan.paths import printable


class Profile(StrEnum):
    KERNEL_GATEWAY = "kernel-gateway"
    JUPYTERLAB = "jupyterlab"
    CODE_EDITOR = "code-editor"
    RSTUDIO = "rstudio"
    GATEWAY_PROVISIONERS = "gateway-provisioners"


ALL_PROFILES = frozenset(Profile)
STUDIO_PROFILES = frozenset(
    {Profile.KERNEL_GATEWAY, Profile.JUPYTERLAB, Profile.CODE_EDITOR, Profile.RSTUDIO}
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Finding(BaseModel):
    rule: str
    severity: Severity
    message: str
    remediation: str
    path: str | None = None
    layer: int | None = None  # index of the layer at fault, where one is

    @field_validator("message", "remediation")
    @classmethod
    def _printable_text(cls, value: str) -> str:
        return printable(value, keep="\n\t")

    @field_validator("path")
    @classmethod
    def _printable_path(cls, value: str | None) -> str | None:
        return printable(value) if value is not None else None


class SuppressedFinding(Finding):
    reason: str  # the policy's, for reports that list what they leave out
