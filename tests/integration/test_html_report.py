"""`studio-image check --format html` as a person sees it: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from studio_image.cli import main
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import ipykernel_json

pytestmark = pytest.mark.tools("chromium")

CHROMIUM = "/usr/bin/chromium"  # Playwright cannot download its own browser here
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KERNEL_JSON = "opt/conda/share/jupyter/kernels/python3/kernel.json"
# Image-controlled strings that would run if they reached the page as markup.
DISPLAY_NAME = """<script>window.ran = "display name"</script>"Py" 'thon' & <b>co</b>"""
FILE_NAME = """<img src=x onerror="window.ran='file name'">'.txt"""


def test_the_report_page_shows_the_verdict_findings_and_hostile_names_as_text(
    make_compliant, capsys, tmp_path
):
    # Given an image whose kernel display name and a file under /opt/ml carry markup and quotes
    reference = make_compliant(
        Layer().file(KERNEL_JSON, ipykernel_json(display_name=DISPLAY_NAME)),
        Layer().file(f"opt/ml/{FILE_NAME}"),
    )
    # When its HTML report is written and opened in Chromium
    code = main(["check", reference, "--no-cache", "--format", "html"])
    report = tmp_path / "report.html"
    report.write_text(capsys.readouterr().out)
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        page.goto(report.as_uri())
        verdict = page.locator("header h1")
        verdict_seen = verdict.is_visible() and verdict.inner_text()
        rules = page.locator("article.rule h3").all_inner_texts()
        finding = page.locator("article.rule", has_text="reserved-path")
        finding_text = finding.inner_text() if finding.is_visible() else ""
        kernel_cells = page.locator("table td").all_inner_texts()
        config = page.locator("pre").inner_text()
        layer_rows = page.locator("section", has_text="Layers").locator("tr").count()
        ran = page.evaluate("window.ran")
        injected = page.locator("script, img, b").count()
        page.screenshot(path=tmp_path / "report.png", full_page=True)
        browser.close()
    # Then the verdict is the first thing shown, the finding is listed under its rule with its fix
    assert code == 1
    assert verdict_seen == "FAIL"
    assert any("reserved-path" in rule and rule.startswith("error") for rule in rules), rules
    assert f"/opt/ml/{FILE_NAME}" in finding_text and "Fix: do not write under /opt/ml" in finding_text
    # And the image's strings are shown as the text they are, with nothing run and nothing made of them
    assert DISPLAY_NAME in kernel_cells
    assert '"DisplayName": "<script>window.ran = \\"display name\\"</script>' in config
    assert (ran, injected, dialogs) == (None, 0, [])
    # And the page made no request but its own, and lists the image's layers
    assert requests == [report.as_uri()]
    assert layer_rows == 1 + 4  # a header row, then the compliant image's layers and the two added
    assert (tmp_path / "report.png").stat().st_size > 0
