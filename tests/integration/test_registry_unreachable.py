"""A registry that does not answer: `check` says which URL it tried and why, in one line."""

from __future__ import annotations

import socket

from studio_image.cli import main


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_closed_port_on_a_loopback_registry_names_the_plain_http_url_it_tried(capsys):
    # Given a loopback registry address with nothing listening (loopback registries are read over
    # plain HTTP when they do not speak TLS)
    port = closed_port()
    # When it is checked
    code = main(["check", f"docker://127.0.0.1:{port}/team/app:1", "--no-cache"])
    # Then the one line names the URL tried, over HTTP, and why it failed, not urllib3's class
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert f"http://127.0.0.1:{port}/v2/team/app/manifests/1: " in line
    assert "Connection refused" in line
    assert "HTTPSConnection" not in line
