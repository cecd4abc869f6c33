"""Evaluate: merge the layer scans in order, apply the profile and policy (the vulnerability gate
included), and write the report and the SBOM beside it."""

from __future__ import annotations

from pydantic import ValidationError

from ...aws.ecr_scanning import EcrScanning
from ...engine import assemble_inventory
from ...errors import EventInvalid, PipelineError, validation_problems
from ...oci import FOREIGN_LAYER_TYPES, Platform
from ...policy import Policy
from ...report import render_html, render_json, render_markdown
from ...rules.judging import Report, Verdict, build_report
from ...scan.models import LayerScan
from ...vulnerabilities import DONE, ScanResult, VulnerabilityPolicy, gate, with_gate
from ..config import LABEL_KERNELS
from ..images import ecr_uri, image_prefix, load_resolved
from ..models import Evaluation, ImageRead, Job, LayerOutcome, Outcome, Pushed, ScanWatch, StateModel
from ..payload import travelling_findings
from ..services import Services


class EvaluateInput(StateModel):
    execution_arn: str
    pushed: Pushed
    job: Job
    image: ImageRead
    scans: list[LayerOutcome]
    vulnerability_scan: ScanWatch  # NOT_WATCHED when the binding sets no vulnerability gate


def evaluate(given: EvaluateInput, svc: Services) -> Evaluation:
    """Merge the layer scans in order, apply the profile and policy (the vulnerability gate to the
    watched ECR scan), and write the report, with the SBOM beside it. A failed verdict ends the run
    refused; an image that is not registered ends it passed."""
    job, image, pushed, outcomes = given.job, given.image, given.pushed, given.scans
    if [o.digest for o in outcomes] != [layer.digest for layer in image.layers]:
        raise EventInvalid("the layer scans do not match the image's layers")
    resolved = load_resolved(svc.bucket, image.resolved_key)
    results: dict[int, tuple[LayerScan, bool]] = {}
    problems: dict[int, str] = {}
    for layer, outcome in zip(image.layers, outcomes, strict=True):
        if outcome.problem:
            problems[layer.index] = outcome.problem
        elif layer.descriptor.media_type not in FOREIGN_LAYER_TYPES:
            scan = svc.layers.get(layer.digest)
            if scan is None:
                raise PipelineError(f"the scan of layer {layer.digest} is missing from the layer cache")
            results[layer.index] = (scan, outcome.cached)
    inventory = assemble_inventory(ecr_uri(pushed), resolved, Platform(), results, problems)
    report = build_report(inventory, job.binding.profile, _policy(job))
    gate_policy = job.binding.policy.vulnerabilities
    if gate_policy:
        report = _gated(report, gate_policy, given.vulnerability_scan, pushed, image, EcrScanning(svc.ecr))
    prefix = image_prefix(pushed)
    from ...sbom import build_sbom, render_cyclonedx  # CycloneDX costs other handlers' cold starts 0.4 s

    sbom = render_cyclonedx(build_sbom(inventory)).encode()
    errors = len(report.errors)
    if report.verdict == Verdict.FAIL:
        ends: Outcome | None = Outcome.REFUSED
    else:
        ends = None if job.registers else Outcome.PASSED
    return Evaluation(
        verdict=report.verdict,
        errors=errors,
        warnings=len(report.findings) - errors,
        findings=travelling_findings(report.findings),  # the first ones, clipped; the report has all
        findings_total=len(report.findings),
        report_uri=svc.bucket.put(prefix + "report.json", render_json(report).encode(), "application/json"),
        report_markdown_uri=svc.bucket.put(
            prefix + "report.md", render_markdown(report).encode(), "text/markdown"
        ),
        report_html_uri=svc.bucket.put(prefix + "report.html", render_html(report).encode(), "text/html"),
        app_image_config=report.app_image_config_fields(),
        sbom_uri=svc.bucket.put(prefix + "sbom.cdx.json", sbom, "application/vnd.cyclonedx+json"),
        outcome=ends,
    )


def _gated(
    report: Report,
    policy: VulnerabilityPolicy,
    watch: ScanWatch,
    pushed: Pushed,
    image: ImageRead,
    scanning: EcrScanning,
) -> Report:
    """The report with the gate applied: the findings of the judged manifest's scan read once more
    (the full list is too large for the state machine's payload) if the watch saw the scan done,
    else the watch's outcome."""
    if watch.status in DONE:
        result = scanning.findings(pushed.repository, pushed.account, image.manifest_digest)
    else:
        result = ScanResult(status=watch.status, description=watch.description)
    return with_gate(report, gate(result, policy))


def _policy(job: Job) -> Policy:
    """The binding's policy, with the kernels the image's label names."""
    policy = job.binding.policy
    if not job.kernels:
        return policy
    try:
        return Policy.model_validate({**policy.model_dump(), "kernels": job.kernels})
    except ValidationError as err:
        raise PipelineError(f"label {LABEL_KERNELS}: {validation_problems(err)}") from err
