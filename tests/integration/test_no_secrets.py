"""A pre-signed URL's signature, and the registry credentials, stay out of every error message:
urllib3 quotes the URL it could not reach, and S3's SignatureDoesNotMatch error echoes the
signature it was given (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""

from __future__ import annotations

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from studio_image.cli import main
from studio_image.errors import StudioImageError
from studio_image.redact import redact
from studio_image.sources.http import get_stream, pool

SIGNATURE = "4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
CREDENTIAL = "ASIAEXAMPLEKEY%2F20261129%2Fus-east-1%2Fs3%2Faws4_request"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"
QUERY = (
    f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}&X-Amz-Security-Token={TOKEN}"
    f"&X-Amz-Signature={SIGNATURE}"
)


class EchoesSignature(BaseHTTPRequestHandler):
    """S3's answer to a wrong signature, which repeats the one provided."""

    def do_GET(self) -> None:
        provided = parse_qs(urlparse(self.path).query)["X-Amz-Signature"][0]
        refuse(
            self,
            "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
            f"does not match the signature you provided.</Message><SignatureProvided>{provided}"
            "</SignatureProvided></Error>",
        )

    def log_message(self, *args: object) -> None:
        return


def refuse(handler: BaseHTTPRequestHandler, body: str) -> None:
    """Answer 403 with `body`."""
    data = body.encode()
    handler.send_response(403)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def s3_refusing():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoesSignature)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def assert_no_secret(text: str) -> None:
    for secret in (SIGNATURE, CREDENTIAL, TOKEN, "ASIAEXAMPLEKEY"):
        assert secret not in text, text


def test_a_refusal_that_echoes_the_signature_is_reported_without_it(s3_refusing):
    with pytest.raises(StudioImageError) as raised:
        get_stream(pool(), f"{s3_refusing}/layer?{QUERY}", "blob sha256:1")
    assert "HTTP 403" in str(raised.value) and "SignatureDoesNotMatch" in str(raised.value)
    assert_no_secret(str(raised.value))


def test_an_unreachable_pre_signed_url_is_reported_without_its_signature():
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(StudioImageError) as raised:
        get_stream(pool(), f"http://127.0.0.1:{port}/layer?{QUERY}", "blob sha256:1")
    assert "/layer?" in str(raised.value)  # urllib3 quotes the URL...
    assert_no_secret(str(raised.value))  # ...without what grants access


def test_basic_and_bearer_credentials_are_redacted_wherever_they_are_quoted():
    text = redact("Authorization: Basic QVdTOnNlY3JldHBhc3N3b3Jk, then Bearer eyJhbGciOi.payload.sig")
    assert "QVdTOnNlY3JldHBhc3N3b3Jk" not in text and "eyJhbGciOi" not in text


class EchoesAuthorization(BaseHTTPRequestHandler):
    """A registry (or a proxy before it) whose refusal repeats the credentials it was sent."""

    def do_GET(self) -> None:
        given = self.headers.get("Authorization")
        if not given:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="registry"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        refuse(self, f'{{"errors":[{{"code":"DENIED","message":"denied for Authorization: {given}"}}]}}')

    def log_message(self, *args: object) -> None:
        return


def test_registry_credentials_stay_out_of_what_check_prints(capsys):
    # Given a registry that quotes the Authorization header it was sent in its refusal
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoesAuthorization)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    password = "ecr-token-password-7f3a9c"  # as `aws ecr get-login-password` hands one out
    try:
        # When check reads an image from it with credentials
        code = main(
            [
                "check",
                f"docker://127.0.0.1:{server.server_address[1]}/team/image:1",
                "--creds",
                f"AWS:{password}",
            ]
        )
    finally:
        server.shutdown()
    # Then it says the registry refused, in one line, and neither the password nor the header
    # carrying it (base64 of AWS:password) is printed
    printed = capsys.readouterr()
    assert code == 2 and "HTTP 403" in printed.err and "DENIED" in printed.err, printed
    encoded = base64.b64encode(f"AWS:{password}".encode()).decode()
    for secret in (password, encoded):
        assert secret not in printed.out + printed.err
