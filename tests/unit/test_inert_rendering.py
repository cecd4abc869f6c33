"""What an image says about itself is text, never markup or terminal control: an image whose kernel
display name, label and file names hold HTML, Markdown, an escape sequence and a newline renders
inert in every report format and in the run's notification."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from studio_image.findings import Profile
from studio_image.pipeline.runnotice import message, subject
from studio_image.pipeline.state import RunRecord
from studio_image.report import RENDERERS, render_markdown
from studio_image.rules.judging import build_report
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.stack import ROOT
from tests.conftest import inspect_reference

# Markup for HTML and Markdown, a code-span and table break-out, an ANSI colour (ESC), a bell, a
# carriage return and a newline that would start a line of its own.
HOSTILE = "<img src=x onerror=alert(1)>`|[x](javascript:alert(1))\x1b[31m\x07\r\nINJECTED"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # every control character but tab and newline


def hostile_kernel(name: str) -> bytes:
    spec = {
        "argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": HOSTILE,
    }
    return json.dumps({**spec, "language": "python", "metadata": {"name": name}}).encode()


@pytest.fixture
def report(make_compliant):
    # An image with a kernel whose display name and directory are hostile, a file with a hostile
    # name owned by a UID Studio refuses, and a hostile label
    layer = (
        Layer()
        .file(
            f"opt/conda/share/jupyter/kernels/{HOSTILE.replace('/', '_')}/kernel.json",
            hostile_kernel(HOSTILE),
        )
        .file(f"opt/app/{HOSTILE.replace('/', '_')}", b"x", uid=70000)
    )
    reference = make_compliant(layer, labels={"studio-image-pipeline.display-name": HOSTILE})
    built = build_report(inspect_reference(reference), Profile.KERNEL_GATEWAY)
    assert any("INJECTED" in f.message for f in built.findings), "the hostile file name is in no finding"
    return built


def assert_inert_lines(text: str) -> None:
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert not any(line.lstrip(" |`*#>-").startswith("INJECTED") for line in text.splitlines()), text


def test_text_keeps_every_image_string_on_its_line_without_control_characters(report):
    assert_inert_lines(RENDERERS["text"](report))


def test_markdown_shows_markup_as_text(report):
    text = render_markdown(report)
    assert_inert_lines(text)
    prose, _, block = text.partition("## AppImageConfig")
    # CommonMark takes a backslash-escaped punctuation character literally: no tag, link or code span
    assert not re.search(r"(?<!\\)<img", prose) and "\\<img" in prose
    assert not re.search(r"(?<!\\)\]\(javascript", prose)
    # The config's JSON stays inside its code block: no line in it closes the fence early
    opening, *inside, closing = block.strip().splitlines()
    assert opening == f"{closing}json" and not any(line.lstrip().startswith(closing) for line in inside)
    # Every table row keeps its columns: no cell breaks out with a pipe
    for line in text.splitlines():
        if line.startswith("| ") and "Finding" not in line and "---" not in line:
            assert len(re.findall(r"(?<!\\)\|", line)) in (3, 5), line


def test_html_escapes_markup_and_drops_control_characters(report):
    page = RENDERERS["html"](report)
    assert "<img" not in page and "&lt;img" in page
    assert not CONTROL.search(page)


@pytest.mark.parametrize("form", ["json", "sarif"])
def test_json_forms_carry_the_strings_exactly_and_escaped(report, form):
    text = RENDERERS[form](report)
    assert not CONTROL.search(text)  # JSON escapes them (\u001b)
    assert "INJECTED" in text and json.loads(text)


def test_junit_is_well_formed_xml_with_the_markup_as_text(report):
    text = RENDERERS["junit"](report)
    root = ET.fromstring(text)  # XML 1.0 forbids ESC and BEL even escaped: a parser stops on them
    assert not CONTROL.search(text)
    assert root.find(".//img") is None


def test_the_notification_keeps_the_image_strings_inert(report):
    # Given a run refused on the hostile image
    event = json.loads((ROOT / "events" / "push-tag.json").read_text())
    run = RunRecord.model_validate(
        {
            "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:pipeline:x",
            "event": event,
            "resolved": {
                "pushed": {"account": "1", "region": "us-east-1", "repository": "studio/x", "tag": "1"}
            },
            "evaluation": {
                "verdict": "fail",
                "errors": len(report.errors),
                "warnings": 0,
                "findings": [f.model_dump() for f in report.findings],
                "findings_total": len(report.findings),
                "report_uri": "s3://reports/x.json",
                "report_markdown_uri": "s3://reports/x.md",
            },
        }
    )
    # Then its subject and every form of its message hold no control characters or injected lines
    title = subject(run, run.outcome)
    assert title.isascii() and not CONTROL.search(title)
    forms = json.loads(message(run, run.outcome))
    for name, text in forms.items():
        body = text if isinstance(text, str) else json.dumps(text)
        assert_inert_lines(body)
        assert "INJECTED" in body or name != "email", name


def test_a_plain_image_s_config_sits_in_a_three_backtick_block(make_compliant):
    plain = build_report(inspect_reference(make_compliant()), Profile.KERNEL_GATEWAY)
    assert "\n```json\n{" in render_markdown(plain)
