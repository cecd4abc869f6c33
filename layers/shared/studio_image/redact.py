"""Secrets out of messages: an error that quotes a pre-signed URL (urllib3's "Max retries exceeded
with url: ...?X-Amz-Signature=...") or a body that echoes one (S3's SignatureDoesNotMatch names
the SignatureProvided) would carry it into logs, notifications and reports."""

from __future__ import annotations

import re

# Query parameters of SigV4 and SigV2 pre-signed URLs that grant access
# (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html), and the elements
# of S3's SignatureDoesNotMatch error that repeat them.
_QUERY = re.compile(
    r"((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=)[^&\s\"'<>)]+",
    re.IGNORECASE,
)
_ELEMENTS = re.compile(r"(<(SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest)>)[^<]*")
_AUTHORIZATION = re.compile(r"\b(Basic|Bearer) [A-Za-z0-9+/=._~-]{8,}")

REDACTED = "REDACTED"


def redact(text: str) -> str:
    text = _QUERY.sub(rf"\1{REDACTED}", text)
    text = _ELEMENTS.sub(rf"\1{REDACTED}", text)
    return _AUTHORIZATION.sub(rf"\1 {REDACTED}", text)
