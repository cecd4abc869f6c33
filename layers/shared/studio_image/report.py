"""The check report's renderings: text, JSON, Markdown, HTML, SARIF 2.1.0 and JUnit XML. (The
judging that makes the report is `rules.judging`.)"""

from __future__ import annotations

import json
import re
from html import escape
from xml.etree import ElementTree as ET

from . import __version__
from .appconfig import FileSystemConfig
from .findings import Finding, Profile, Severity, SuppressedFinding
from .inert import inert, markdown_text
from .rules import RULES
from .rules.judging import Report
from .units import human_bytes, plural


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def render_text(report: Report) -> str:
    user = report.user
    uid, gid = ("?" if n is None else n for n in (user.uid, user.gid))
    who = f"{inert(user.name or '?')} ({uid}:{gid})"
    kernels = ", ".join(inert(k.name) for k in report.kernels) or "none found"
    lines = [
        f"{inert(report.image)}",
        f"  digest    {report.digest or '-'}",
        f"  profile   {report.profile}    platform {report.platform}",
        f"  size      {human_bytes(report.sizes.uncompressed)} uncompressed, "
        f"{human_bytes(report.sizes.compressed)} compressed, {plural(len(report.layers), 'layer')}, "
        f"{plural(report.files, 'file')}",
        f"  user      {who}",
        f"  kernels   {kernels}",
        f"  registers {inert(describe_app_image_config(report))}",
        *([f"  vulns     {report.vulnerabilities.summary()}"] if report.vulnerabilities else []),
        "",
    ]
    if report.findings:
        width = max(len(f.rule) for f in report.findings)
        lines.append(f"  {'SEVERITY':<8}  {'RULE':<{width}}  FINDING")
        for f in report.findings:
            lines.append(f"  {f.severity.value:<8}  {f.rule:<{width}}  {inert(f.message)}")
            lines.append(f"  {'':<8}  {'':<{width}}  fix: {inert(f.remediation)}")
        lines.append("")
    lines.append(f"{report.verdict.value.upper()}: {summary(report)}")
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The report for a person reading it in a browser or an S3 console: GitHub-flavoured Markdown."""

    cell = markdown_text
    lines = [
        f"# {report.verdict.value.upper()}: {cell(report.image)}",
        "",
        f"{summary(report)} for the **{report.profile}** profile.",
        "",
        "| | |",
        "|---|---|",
        f"| Digest | `{report.digest or '-'}` |",
        f"| Platform | {report.platform} |",
        f"| Size | {human_bytes(report.sizes.uncompressed)} uncompressed, "
        f"{human_bytes(report.sizes.compressed)} compressed, "
        f"{plural(len(report.layers), 'layer')}, {plural(report.files, 'file')} |",
        f"| User | {cell(report.user.name or '?')} ({report.user.uid}:{report.user.gid}) |",
        f"| Kernels | {', '.join(cell(k.name) for k in report.kernels) or 'none found'} |",
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
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", config))])
        lines += ["## AppImageConfig", "", f"{fence}json", config, fence, ""]
    return "\n".join(lines)


def summary(report: Report) -> str:
    """ "1 error, 2 warnings, 1 suppressed by the policy, 14 rules checked" """
    errors = len(report.errors)
    suppressed = f"{len(report.suppressed)} suppressed by the policy, " if report.suppressed else ""
    return (
        f"{plural(errors, 'error')}, {plural(len(report.findings) - errors, 'warning')}, {suppressed}"
        f"{plural(len(report.rules_checked), 'rule')} checked"
    )


# The page loads nothing and runs nothing, even if a string escaped escaping: the policy forbids it.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
HTML_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1f2328; }
body { margin: 0 auto; max-width: 64rem; padding: 1.5rem; }
header { border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1.5rem; }
header.pass { background: #dafbe1; border: 1px solid #4ac26b; }
header.fail { background: #ffebe9; border: 1px solid #ff8182; }
header h1 { margin: 0; font-size: 1.6rem; }
header p { margin: .25rem 0 0; overflow-wrap: anywhere; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .25rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font: 13px ui-monospace, monospace; background: #f6f8fa; border-radius: 4px; }
code { padding: 0 .25rem; } pre { padding: .75rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d1d9e0; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.rule { border: 1px solid #d1d9e0; border-radius: 8px; padding: .5rem 1rem; margin: .75rem 0; }
.rule h3 { margin: .25rem 0; font-size: 1rem; }
.rule ul { padding-left: 1.25rem; }
.severity { font-size: .8rem; font-weight: 600; border-radius: 1rem; padding: .05rem .5rem; color: #fff; }
.severity.error { background: #cf222e; } .severity.warning { background: #9a6700; }
.fix { color: #0a3069; } .where { color: #59636e; font-size: .9rem; }
footer { margin-top: 2rem; color: #59636e; font-size: .85rem; }
"""


def render_html(report: Report) -> str:
    """One self-contained page for a person: no scripts, no requests, every image string escaped."""

    def e(text: object) -> str:
        return escape(inert(text), quote=True)

    user = report.user
    verdict = report.verdict.value.upper()
    facts = [
        ("Digest", f"<code>{e(report.digest or '-')}</code>"),
        ("Platform", e(report.platform)),
        (
            "Size",
            f"{human_bytes(report.sizes.uncompressed)} uncompressed, "
            f"{human_bytes(report.sizes.compressed)} compressed, "
            f"{plural(len(report.layers), 'layer')}, {plural(report.files, 'file')}",
        ),
        ("User", f"{e(user.name or '?')} ({e(user.uid)}:{e(user.gid)})"),
        ("Kernels", ", ".join(f"<code>{e(k.name)}</code>" for k in report.kernels) or "none found"),
        ("Registers", e(describe_app_image_config(report))),
    ]
    body = [
        f'<header class="{e(report.verdict.value)}"><h1>{verdict}</h1>',
        f"<p><code>{e(report.image)}</code></p>",
        f"<p>{summary(report)} for the <strong>{e(report.profile)}</strong> profile</p></header>",
        "<section><h2>Image</h2><dl>",
        *(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts),
        "</dl></section>",
        "<section><h2>Findings</h2>",
    ]
    by_rule: dict[str, list[Finding]] = {}
    for finding in sorted(report.findings, key=lambda f: f.severity != Severity.ERROR):
        by_rule.setdefault(finding.rule, []).append(finding)
    for rule_id, findings in by_rule.items():
        worst = findings[0].severity.value
        body.append(
            f'<article class="rule"><h3><span class="severity {e(worst)}">{e(worst)}</span> '
            f"<code>{e(rule_id)}</code> {e(RULES[rule_id].summary if rule_id in RULES else '')}</h3><ul>"
        )
        for f in findings:
            where = [f"<code>{e(f.path)}</code>"] if f.path else []
            if f.layer is not None:
                where.append(f"layer {f.layer + 1}")
            body.append(
                f'<li><p>{e(f.message)}</p><p class="fix">Fix: {e(f.remediation)}</p>'
                + (f'<p class="where">{", ".join(where)}</p>' if where else "")
                + "</li>"
            )
        body.append("</ul></article>")
    if not report.findings:
        body.append("<p>No findings.</p>")
    body.append("</section><section><h2>Kernels</h2>")
    if report.kernels:
        body.append("<table><tr><th>Name</th><th>Display name</th><th>Language</th><th>Starts</th></tr>")
        body += [
            f"<tr><td><code>{e(k.name)}</code></td><td>{e(k.display_name)}</td><td>{e(k.language)}</td>"
            f"<td><code>{e(' '.join(k.argv))}</code></td></tr>"
            for k in report.kernels
        ]
        body.append("</table>")
    else:
        body.append("<p>None found.</p>")
    body.append("</section><section><h2>AppImageConfig</h2>")
    config = report.app_image_config_fields()
    body.append(
        f"<pre>{escape(json.dumps(config, indent=2))}</pre>" if config else "<p>Nothing to register.</p>"
    )
    body.append(
        "</section><section><h2>Layers</h2><table><tr><th>#</th><th>Digest</th><th>Compression</th>"
        "<th>Compressed</th><th>Uncompressed</th><th>Entries</th><th>Note</th></tr>"
    )
    for layer in report.layers:
        note = layer.problem or ("not distributable: not read" if layer.foreign else "")
        body.append(
            f"<tr><td>{layer.index + 1}</td>"
            f'<td><code title="{e(layer.digest)}">{e(layer.digest[:19])}</code></td>'
            f"<td>{e(layer.compression)}</td>"
            f'<td class="number">{human_bytes(layer.compressed_size)}</td>'
            f'<td class="number">{human_bytes(layer.uncompressed_size)}</td>'
            f'<td class="number">{layer.entries}</td><td>{e(note)}</td></tr>'
        )
    body.append(
        f"</table></section><footer>studio-image {e(__version__)}: "
        f"{e(', '.join(report.rules_checked))}</footer>"
    )
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{HTML_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{verdict}: {e(report.image)}</title><style>{HTML_STYLE}</style></head><body>",
            *body,
            "</body></html>",
        ]
    )


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
            return f"{name}: starts {how}"
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
            failure = ET.SubElement(case, "failure", message=inert(errors[0].message), type=rid)
            failure.text = "\n".join(f"{inert(f.message)}\nfix: {inert(f.remediation)}" for f in errors)
        warnings = [f for f in mine if f.severity == Severity.WARNING]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"warning: {inert(f.message)}\nfix: {inert(f.remediation)}" for f in warnings
            )
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "html": render_html,
    "sarif": render_sarif,
    "junit": render_junit,
}
