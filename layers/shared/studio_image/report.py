"""The check report and its renderings: text, JSON, SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

import json
from enum import StrEnum
from xml.etree import ElementTree as ET

from pydantic import BaseModel, Field, field_serializer

from . import __version__
from .appconfig import AppImageConfig, FileSystemConfig, derive_app_image_config
from .facts import Facts, KernelSpec, UserInfo
from .findings import Finding, Profile, Severity, SuppressedFinding
from .inventory import Inventory, LayerInfo, Sizes
from .policy import Policy
from .rules import RULES, home_mount, judge, rules_for
from .rules.checks import human_bytes


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


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def render_text(report: Report) -> str:
    user = report.user
    uid, gid = ("?" if n is None else n for n in (user.uid, user.gid))
    who = f"{user.name or '?'} ({uid}:{gid})"
    kernels = ", ".join(k.name for k in report.kernels) or "none found"
    lines = [
        f"{report.image}",
        f"  digest    {report.digest or '-'}",
        f"  profile   {report.profile}    platform {report.platform}",
        f"  size      {human_bytes(report.sizes.uncompressed)} uncompressed, "
        f"{human_bytes(report.sizes.compressed)} compressed, {len(report.layers)} layers, "
        f"{report.files} files",
        f"  user      {who}",
        f"  kernels   {kernels}",
        f"  registers {describe_app_image_config(report)}",
        "",
    ]
    if report.findings:
        width = max(len(f.rule) for f in report.findings)
        lines.append(f"  {'SEVERITY':<8}  {'RULE':<{width}}  FINDING")
        for f in report.findings:
            lines.append(f"  {f.severity.value:<8}  {f.rule:<{width}}  {f.message}")
            lines.append(f"  {'':<8}  {'':<{width}}  fix: {f.remediation}")
        lines.append("")
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    suppressed = f"{len(report.suppressed)} suppressed by the policy, " if report.suppressed else ""
    lines.append(
        f"{report.verdict.value.upper()}: {errors} error(s), {warnings} warning(s), {suppressed}"
        f"{len(report.rules_checked)} rules checked"
    )
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The report for a person reading it in a browser or an S3 console: GitHub-flavoured Markdown."""
    errors = len(report.errors)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        f"# {report.verdict.value.upper()}: `{report.image}`",
        "",
        f"{errors} error(s), {len(report.findings) - errors} warning(s), "
        f"{len(report.rules_checked)} rules checked for the **{report.profile}** profile.",
        "",
        "| | |",
        "|---|---|",
        f"| Digest | `{report.digest or '-'}` |",
        f"| Platform | {report.platform} |",
        f"| Size | {human_bytes(report.sizes.uncompressed)} uncompressed, "
        f"{human_bytes(report.sizes.compressed)} compressed, "
        f"{len(report.layers)} layers, {report.files} files |",
        f"| User | {report.user.name or '?'} ({report.user.uid}:{report.user.gid}) |",
        f"| Kernels | {', '.join(f'`{k.name}`' for k in report.kernels) or 'none found'} |",
        f"| Registers | {cell(describe_app_image_config(report))} |",
        "",
    ]
    if report.findings:
        lines += ["## Findings", "", "| Severity | Rule | Finding | Fix |", "|---|---|---|---|"]
        lines += [
            f"| {f.severity.value} | `{f.rule}` | {cell(f.message)} | {cell(f.remediation)} |"
            for f in report.findings
        ]
        lines.append("")
    if report.app_image_config is not None:
        config = json.dumps(report.app_image_config_fields(), indent=2)
        lines += ["## AppImageConfig", "", "```json", config, "```", ""]
    return "\n".join(lines)


def describe_app_image_config(report: Report) -> str:
    config = report.app_image_config
    if config is None:
        if report.profile == Profile.KERNEL_GATEWAY:
            return "nothing: there is no kernel to register"
        return "nothing: not a Studio app image"
    if config.kernel_gateway_image_config:
        kg = config.kernel_gateway_image_config
        kernels = ", ".join(k.name for k in kg.kernel_specs)
        return f"KernelGatewayImageConfig: kernels {kernels}; {_file_system(kg.file_system_config)}"
    for name, app in (
        ("JupyterLabAppImageConfig", config.jupyter_lab_app_image_config),
        ("CodeEditorAppImageConfig", config.code_editor_app_image_config),
    ):
        if app:
            start = app.container_config.container_entrypoint if app.container_config else None
            how = " ".join(start) if start else "with the image command"
            return f"{name}: {_file_system(app.file_system_config)}; starts {how}"
    return "a name-only AppImageConfig"


def _file_system(fs: FileSystemConfig | None) -> str:
    if fs is None:
        return "UID/GID -; home -"
    return f"UID/GID {fs.default_uid}/{fs.default_gid}; home {fs.mount_path}"


def render_sarif(report: Report) -> str:
    rule_ids = report.rules_checked
    driver_rules = [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": RULES[rid].summary},
        }
        for rid in rule_ids
    ]
    results = []
    for f in [*report.findings, *report.suppressed]:
        result: dict[str, object] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": f.severity.value,
            "message": {"text": f"{f.message}. Fix: {f.remediation}"},
            "properties": {"remediation": f.remediation},
        }
        if f.path:
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": f.path.lstrip("/"), "uriBaseId": "ROOTFS"}}}
            ]
        if isinstance(f, SuppressedFinding):
            result["suppressions"] = [{"kind": "external", "justification": f.reason}]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "studio-image",
                        "version": __version__,
                        "rules": driver_rules,
                    }
                },
                "originalUriBaseIds": {"ROOTFS": {"uri": "file:///"}},
                "properties": {
                    "image": report.image,
                    "profile": report.profile.value,
                    "verdict": report.verdict.value,
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def render_junit(report: Report) -> str:
    """One test case per rule checked: failed on an error, passed (with warnings as output) else."""
    failures = sum(1 for rid in report.rules_checked if any(f.rule == rid for f in report.errors))
    suites = ET.Element(
        "testsuites", name="studio-image", tests=str(len(report.rules_checked)), failures=str(failures)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"{report.image} [{report.profile}]",
        tests=str(len(report.rules_checked)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for rid in report.rules_checked:
        case = ET.SubElement(suite, "testcase", classname=f"studio-image.{report.profile}", name=rid)
        mine = [f for f in report.findings if f.rule == rid]
        errors = [f for f in mine if f.severity == Severity.ERROR]
        if errors:
            failure = ET.SubElement(case, "failure", message=errors[0].message, type=rid)
            failure.text = "\n".join(f"{f.message}\nfix: {f.remediation}" for f in errors)
        warnings = [f for f in mine if f.severity == Severity.WARNING]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"warning: {f.message}\nfix: {f.remediation}" for f in warnings
            )
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit}
