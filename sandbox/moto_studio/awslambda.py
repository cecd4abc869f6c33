"""Lambda functions created in moto run their Python handler in this process instead of Docker.

The handler comes from the function's own deployment package (its zip, imported under a name of
its own), or from `register_handler` for tests. Each invocation gets the function's environment
variables and a Lambda context; an exception becomes Lambda's `errorType` / `errorMessage` payload
with FunctionError set, so Step Functions Retry and Catch match the exception's class name; output
goes to the function's CloudWatch log group. Environment and stdout are process-wide, so
invocations (Map iterations run on threads) take turns.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction

Handler = Callable[[Any, Any], Any]

_turn = threading.RLock()
_running = threading.local()  # .function: the function whose handler this thread is running
_registered: dict[str, Handler] = {}
_loaded: dict[tuple[str, str], Handler] = {}  # (function name, code sha256) -> handler
_packages = Path(tempfile.mkdtemp(prefix="moto-studio-lambda-"))


def register_handler(function_name: str, handler: Handler) -> None:
    """Run `handler` for `function_name` instead of the handler in its deployment package."""
    _registered[function_name] = handler


def clear_handlers() -> None:
    _registered.clear()


def running_function() -> str | None:
    """The name of the function whose handler the calling thread is running, if any."""
    return getattr(_running, "function", None)


@contextmanager
def running_as(function_name: str | None) -> Iterator[None]:
    """Mark the calling thread as running `function_name`'s handler (a thread a handler starts
    works for that function too)."""
    caller, _running.function = running_function(), function_name
    try:
        yield
    finally:
        _running.function = caller


class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    def __init__(self, function: LambdaFunction) -> None:
        self.function_name = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.function_arn
        self.memory_limit_in_mb = int(function.memory_size)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = function.logs_group_name
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"
        self._deadline = time.monotonic() + float(function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _load(function: LambdaFunction) -> Handler:
    if function.function_name in _registered:
        return _registered[function.function_name]
    key = (function.function_name, function.code_sha_256)
    if key not in _loaded:
        root = _packages / f"{function.function_name}-{function.code_sha_256[:16].replace('/', '_')}"
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as package:
            package.extractall(root)  # our own deployment package, built by the sandbox or a test
        module_name, _, attribute = (function.handler or "").rpartition(".")
        path = root / (module_name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(f"_lambda_{function.function_name}_{module_name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"no handler module {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = getattr(module, attribute)
    return _loaded[key]


class _Output(io.TextIOBase):
    """sys.stdout and sys.stderr during an invocation. Loggers made inside a handler keep a
    reference to it, so it stays in place and sends their lines to whichever invocation is running."""

    def __init__(self) -> None:
        self.target: io.StringIO | None = None

    def write(self, text: str) -> int:
        (self.target or sys.__stdout__).write(text)  # type: ignore[union-attr]
        return len(text)

    def writable(self) -> bool:
        return True


_output = _Output()


@contextmanager
def _invocation(variables: dict[str, str]) -> Iterator[io.StringIO]:
    with _turn:
        saved_env = dict(os.environ)
        saved_streams = sys.stdout, sys.stderr
        os.environ.update(variables)
        buffer = io.StringIO()
        _output.target = buffer
        sys.stdout = sys.stderr = _output
        try:
            yield buffer
        finally:
            sys.stdout, sys.stderr = saved_streams
            _output.target = None
            os.environ.clear()
            os.environ.update(saved_env)


def invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Replaces LambdaFunction._invoke_lambda: (response payload, errored, log output)."""
    self.logs_backend.ensure_log_group(self.logs_group_name)
    context = LambdaContext(self)
    variables = {
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": self.logs_group_name,
        "AWS_REGION": self.region,
        "AWS_DEFAULT_REGION": self.region,
        **{k: str(v) for k, v in self.environment_vars.items()},
    }
    started = time.monotonic()
    errored = False
    with _invocation(variables) as output:
        print(f"START RequestId: {context.aws_request_id} Version: $LATEST")
        try:
            with running_as(self.function_name):
                payload = json.dumps(_load(self)(event if event is not None else {}, context))
        except Exception as error:  # the handler's failure is the invocation's result, as in Lambda
            errored = True
            frames = traceback.format_tb(error.__traceback__)
            payload = json.dumps(
                {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": frames}
            )
            print(f"[ERROR] {type(error).__name__}: {error}\n{''.join(frames)}", end="")
        millis = (time.monotonic() - started) * 1000
        print(f"END RequestId: {context.aws_request_id}")
        print(f"REPORT RequestId: {context.aws_request_id}\tDuration: {millis:.2f} ms")
    logs = output.getvalue()
    self.save_logs(logs)
    return payload, errored, logs
