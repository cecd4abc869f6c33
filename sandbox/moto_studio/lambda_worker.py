"""One Lambda execution environment: `python -P .../moto_studio/lambda_worker.py CODE_DIR HANDLER`,
started by moto_studio.awslambda with the function's environment variables. It runs as a script,
not as part of the moto_studio package, so a cold start imports the handler and not moto (which
would take longer than most handlers' own imports); it imports nothing of moto_studio.

It imports the handler once (the init phase), says it is ready, then serves one invocation at a
time: a JSON request line on stdin, a JSON response line on its protocol stream. The handler's
print and logging output is collected per invocation and returned with the response, for the
environment's log stream.

When `MOTO_STUDIO_CLOUDTRAIL` names a file, every AWS call the handler makes is appended to it as
one JSON line (function, service, operation, the call's string parameters, region): the sandbox's
CloudTrail, which tests check against the function's IAM role.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
from typing import Any

# Names a file that Lambda execution environments append each AWS call their handler makes to, as
# JSON lines: the sandbox's CloudTrail.
CLOUDTRAIL = "MOTO_STUDIO_CLOUDTRAIL"


class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request["request_id"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._deadline = time.monotonic() + request["timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class _Output(io.TextIOBase):
    """sys.stdout and sys.stderr: loggers made at import keep a reference to it, so it stays in
    place and sends their lines to the invocation under way."""

    def __init__(self) -> None:
        self.target = io.StringIO()

    def write(self, text: str) -> int:
        return self.target.write(text)

    def writable(self) -> bool:
        return True


def _error(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.format_tb(error.__traceback__)
    return {"errorType": error_type or type(error).__name__, "errorMessage": str(error), "stackTrace": frames}


def _record_calls(path: str) -> None:
    """Append each botocore call this process makes to `path`, one JSON line in one write."""
    from botocore.client import BaseClient

    make_api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 (private, untyped)
    trail = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    lock = threading.Lock()  # a handler's own threads call AWS too

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        entry = {
            "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            "service": client.meta.service_model.service_name,
            "operation": operation,
            # The names, ARNs and numbers IAM authorizes on (not bodies or documents).
            "params": {k: v for k, v in params.items() if isinstance(v, str | int | float)},
            "region": client.meta.region_name,
        }
        with lock:
            os.write(trail, (json.dumps(entry) + "\n").encode())
        return make_api_call(client, operation, params)

    setattr(BaseClient, "_make_api_call", record)  # noqa: B010


def main() -> None:
    code_dir, handler_name = sys.argv[1:3]
    if os.environ.get(CLOUDTRAIL):
        _record_calls(os.environ[CLOUDTRAIL])
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything written to fd 1 directly goes to stderr, not into the protocol
    output = _Output()
    sys.stdout = sys.stderr = output
    sys.path.insert(0, code_dir)  # /var/task comes first in Lambda too
    started = time.perf_counter()
    module_name, _, attribute = handler_name.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        ready: dict[str, Any] = {"ready": True}
    except Exception as error:  # Lambda reports a handler that cannot load on every invocation
        handler, ready = None, {"ready": False, "error": _error(error, "Runtime.ImportModuleError")}
    ready["init_ms"] = (time.perf_counter() - started) * 1000
    ready["logs"], output.target = output.target.getvalue(), io.StringIO()
    protocol.write(json.dumps(ready) + "\n")
    protocol.flush()
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(request)
        errored = False
        try:
            if handler is None:
                raise RuntimeError(ready["error"]["errorMessage"])
            payload = json.dumps(handler(request["event"], context))
        except Exception as error:  # the handler's failure is the invocation's result, as in Lambda
            errored = True
            failure = _error(error) if handler is not None else ready["error"]
            payload = json.dumps(failure)
            print(f"[ERROR] {failure['errorType']}: {error}\n{''.join(failure['stackTrace'])}", end="")
        logs, output.target = output.target.getvalue(), io.StringIO()
        protocol.write(json.dumps({"payload": payload, "errored": errored, "logs": logs}) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
