"""Lambda execution environments, forked by a zygote: `python -P .../moto_studio/lambda_worker.py
--zygote FD`, started by moto_studio.awslambda. It runs as a script, not as part of the moto_studio
package, so it imports nothing of moto (which would take longer than most handlers' own imports).

The zygote imports once what every handler imports and whose import reads nothing of a function's
settings (PRELOAD: boto3, pydantic, Powertools, the X-Ray SDK, the pipeline's stage modules), then
forks one process per execution environment on request, which takes the function's environment
variables and runs main(). The environment's init phase imports the handler, and with it what
reads those settings (Powertools' Logger, Metrics and Tracer objects), as a cold start in Lambda
does; what the zygote imported is what a Lambda SnapStart snapshot would hold. A cold start's
imports take milliseconds instead of 0.7 s.

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
import pkgutil
import signal
import socket
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


def main(code_dir: str, handler_name: str) -> None:
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


# Imported by the zygote (a package ending in ".*" with its modules). Nothing in them reads a
# function's own settings at import: Powertools reads the runtime's AWS_EXECUTION_ENV and
# AWS_LAMBDA_INITIALIZATION_TYPE (its cold-start flag is still set in each fork), X-Ray's recorder
# whether LAMBDA_TASK_ROOT is set (the zygote has it set, as every environment has), and the
# daemon and context-missing settings, which the sandbox's runtime sets for none.
PRELOAD = (
    "boto3",
    "botocore.client",
    "pydantic",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_xray_sdk.core",
    "studio_image.pipeline.stages.*",
)


def _preload() -> None:
    """Import PRELOAD; what cannot be imported here is left for each environment's init phase."""
    for name in PRELOAD:
        package, _, _ = name.partition(".*")
        try:
            module = importlib.import_module(package)
            if name.endswith(".*"):
                for found in pkgutil.iter_modules(module.__path__):
                    importlib.import_module(f"{package}.{found.name}")
        except Exception:  # (a library missing here, or failing: the handler's import will say)
            continue


def serve_forks(channel_fd: int) -> None:
    """The zygote: each line on the channel (a stream socket) is one environment's {code_dir,
    handler, environment}, sent with three file descriptors (its stdin and stdout, and the write end
    of a pipe that closes when it ends); the answer is its process ID, one line. One request at a
    time; it ends when the channel closes."""
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the environments are reaped as they end
    channel = socket.socket(fileno=channel_fd)
    request, fds = b"", list[int]()
    while True:
        data, received, _, _ = socket.recv_fds(channel, 1 << 16, 3)
        if not data:
            return
        request, fds = request + data, fds + received
        if request.endswith(b"\n"):
            pid = _fork(json.loads(request), fds, channel)
            channel.sendall(f"{pid}\n".encode())
            request, fds = b"", []


def _fork(request: dict[str, Any], fds: list[int], channel: socket.socket) -> int:
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    channel.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    stdin, stdout, _alive = fds  # _alive stays open until this process ends
    os.dup2(stdin, 0)
    os.dup2(stdout, 1)
    os.close(stdin)
    os.close(stdout)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own stdin)
    os.environ.clear()
    os.environ.update(request["environment"])
    status = 0
    try:
        main(request["code_dir"], request["handler"])
    except BaseException:  # (main's own output went to the invocation's logs)
        os.write(2, traceback.format_exc().encode())
        status = 1
    os._exit(status)


if __name__ == "__main__":
    serve_forks(int(sys.argv[2]))
