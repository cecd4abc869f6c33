"""The policy file: per-repository settings for the checks, as YAML or JSON."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import PolicyInvalid, validation_problems
from .facts import rstudio_version
from .findings import Finding, Profile, Severity, SuppressedFinding
from .limits import ScanLimits
from .vulnerabilities import VulnerabilityPolicy

GB = 1000**3  # Studio's limits are decimal gigabytes, as `docker image ls` shows sizes


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    path: str | None = None  # a glob; without one the whole rule is suppressed
    reason: str = ""

    def covers(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        if self.path is None:
            return True
        return finding.path is not None and fnmatch.fnmatchcase(finding.path, self.path)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile | None = None
    max_image_bytes: dict[Profile, int] = Field(default_factory=dict)
    # "You must use an RStudio base image of at least ...": Custom RStudio image specifications
    min_rstudio_version: str = "2025.05.1+513.pro3"
    mount_path: str = "/home/sagemaker-user"
    reserved_paths: list[str] = Field(default_factory=list)  # in addition to the profile's
    required_paths: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)  # rule id -> graded as
    suppress: list[Suppression] = Field(default_factory=list)
    # kernel names to register, in order (an AppImageConfig takes at most five)
    kernels: list[str] = Field(default_factory=list, max_length=5)
    vulnerabilities: VulnerabilityPolicy | None = None  # None: no vulnerability gate
    limits: dict[str, int] = Field(default_factory=dict)  # ScanLimits field -> value, for this run

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[str, int]) -> dict[str, int]:
        scan_limits(value)
        return value

    def scan_limits(self, overrides: dict[str, int] | None = None) -> ScanLimits:
        """The run's limits: the defaults, then the policy's, then `overrides` (the CLI's)."""
        return scan_limits({**self.limits, **(overrides or {})})

    @field_validator("reserved_paths", "required_paths", "mount_path")
    @classmethod
    def _absolute(cls, value: str | list[str]) -> str | list[str]:
        for path in [value] if isinstance(value, str) else value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not an absolute path")
        return value

    @field_validator("min_rstudio_version")
    @classmethod
    def _rstudio_version(cls, value: str) -> str:
        if rstudio_version(value) is None:
            raise ValueError(f"{value!r} is not an RStudio version such as 2022.02.2-485.pro2")
        return value

    def check_rule_ids(self, known: set[str]) -> None:
        named = set(self.severity) | {s.rule for s in self.suppress}
        unknown = sorted(named - known)
        if unknown:
            raise PolicyInvalid(f"policy names unknown rules: {', '.join(unknown)}")

    def apply(self, findings: list[Finding]) -> list[Finding]:
        """Re-grade findings and drop the suppressed ones."""
        return self.judge(findings)[0]

    def judge(self, findings: list[Finding]) -> tuple[list[Finding], list[SuppressedFinding]]:
        """Re-grade findings, and split them into those kept and those suppressed (with the reason)."""
        kept: list[Finding] = []
        suppressed: list[SuppressedFinding] = []
        for finding in findings:
            if finding.rule in self.severity:
                finding = finding.model_copy(update={"severity": self.severity[finding.rule]})
            cover = next((s for s in self.suppress if s.covers(finding)), None)
            if cover is None:
                kept.append(finding)
            else:
                reason = cover.reason or "suppressed by the policy"
                suppressed.append(SuppressedFinding(**finding.model_dump(), reason=reason))
        return kept, suppressed


LIMIT_NAMES = tuple(f.name for f in dataclasses.fields(ScanLimits))


def scan_limits(values: dict[str, int]) -> ScanLimits:
    """ScanLimits with `values` in place of the defaults; ValueError names an unknown or bad one."""
    for name, value in values.items():
        if name not in LIMIT_NAMES:
            raise ValueError(f"unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"limit {name} must be a whole number of at least 0, not {value!r}")
    return dataclasses.replace(ScanLimits(), **values)


def load_policy(path: Path) -> Policy:
    import yaml  # loaded only for a policy file: `check` starts faster without it

    try:
        text = path.read_text()
    except OSError as err:
        raise PolicyInvalid(f"cannot read policy {path}: {err.strerror}") from err
    try:
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise PolicyInvalid(f"policy {path} does not parse: {err}") from err
    try:
        return Policy.model_validate(doc or {})
    except ValidationError as err:
        raise PolicyInvalid(f"policy {path}: {validation_problems(err)}") from err
