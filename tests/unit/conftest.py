"""Unit tests are pure logic: no network."""

import pytest
import urllib3  # noqa: F401  imported here because its import probes IPv6 with a socket
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_sockets():
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
