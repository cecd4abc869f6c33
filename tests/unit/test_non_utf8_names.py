"""File names that are not UTF-8 are kept byte for byte and shown reversibly in every format."""

from __future__ import annotations

import json
import re

from junitparser import JUnitXml

from studio_image.cache import decode_scan, encode_scan
from studio_image.findings import Profile
from studio_image.report import RENDERERS, render_markdown
from studio_image.rules.judging import build_report
from studio_image.scan.paths import printable
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import inspect_reference, scan_tar_layer

RAW = b"opt/ml/caf\xe9-\\-\xff\x01"  # Latin-1 bytes, a backslash and a control character
NAME = RAW.decode("utf-8", "surrogateescape")
SHOWN = "/opt/ml/caf\\xe9-\\\\-\\xff\\x01"


def test_a_non_utf8_name_is_kept_exactly_and_survives_the_cache():
    scan = scan_tar_layer(Layer().file(NAME, b"x"))
    assert scan.entries[0].path.encode("utf-8", "surrogateescape") == b"/" + RAW
    assert decode_scan(encode_scan(scan)) == scan


def test_printable_names_are_reversible():
    shown = printable("/" + NAME)
    assert shown == SHOWN
    # Undoing the escapes gives back the original bytes
    assert (
        shown.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1") == b"/" + RAW
    )


def test_every_format_renders_a_non_utf8_name(make_compliant):
    # Given an image with such a file under a reserved path
    report = build_report(inspect_reference(make_compliant(Layer().file(NAME, b"x"))), Profile.KERNEL_GATEWAY)
    # Then no renderer raises, and each shows the escaped name
    for name, render in RENDERERS.items():
        text = render(report)
        text.encode("utf-8")
        assert SHOWN.replace("\\", "\\\\") in text if name in ("json", "sarif") else SHOWN in text, name
    assert any(f["path"] == SHOWN for f in json.loads(RENDERERS["json"](report))["findings"])
    JUnitXml.fromstring(RENDERERS["junit"](report))  # well-formed XML


def test_the_pipelines_markdown_report_renders_a_non_utf8_name(make_compliant):
    # Given an image with such a file under a reserved path
    report = build_report(inspect_reference(make_compliant(Layer().file(NAME, b"x"))), Profile.KERNEL_GATEWAY)
    # Then the Markdown report (the one Evaluate stores) encodes as UTF-8 and, read as CommonMark
    # reads it (a backslash before ASCII punctuation shows the punctuation), shows it escaped
    text = render_markdown(report)
    text.encode("utf-8")
    assert SHOWN in re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
