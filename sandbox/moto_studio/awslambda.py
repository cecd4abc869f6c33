"""Lambda functions created in moto run their Python handler as Lambda runs it, without Docker.

Each invocation runs in an execution environment of its function: a worker process (forked by
moto_studio.lambda_worker's zygote) with the function's environment variables and the runtime's own,
that imports the handler from the function's deployment package once (the init phase: a cold
start, reported as Lambda does with `Init Duration` in the REPORT line), then serves one
invocation at a time and is reused while warm. Each environment writes to its own log stream of
the function's log group. A function has at most `settings.lambda_concurrency` environments (or
its ReservedConcurrentExecutions, if lower); further invocations wait for one to be free. Past the
function's Timeout the worker is stopped and the invocation fails with `Sandbox.Timedout`, as
Lambda reports it. An exception becomes Lambda's `errorType` / `errorMessage` payload with
FunctionError set, so Step Functions Retry and Catch match the exception's class name.

Nothing is shared between invocations but the warm worker, so Map iterations and executions
overlap as in AWS. close() (moto_studio.drain, when a sandbox stops) stops every environment, busy
ones included, and refuses invocations until reset(). The workers reach AWS the way the handlers
would in Lambda: the endpoint (AWS_ENDPOINT_URL) and credentials of this process.
"""

from __future__ import annotations

import atexit
import functools
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from moto.awslambda.models import LambdaFunction
from moto.core.utils import unix_time_millis

from . import lambda_worker
from .faults import LAMBDA_KINDS, faults
from .settings import CLOUDTRAIL, settings

# What a worker inherits from this process: how to reach AWS, as Lambda's runtime provides it,
# and PYTHONPATH, where the library is found (its layer, in AWS), so that a checkout's tests run
# the checkout's code rather than what the virtualenv's editable install points at. AWS_MAX_ATTEMPTS:
# botocore's attempts per call, which the tests lower (Lambda's runtime sets none: botocore's own
# defaults apply in AWS).
INHERITED = (
    "PYTHONPATH",
    "AWS_MAX_ATTEMPTS",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "PATH",
    "MOTO_PORT",
    CLOUDTRAIL,
)


@functools.cache
def _packages() -> Path:
    """Where deployment packages are unzipped: made on the first one, removed when this process ends."""
    root = Path(tempfile.mkdtemp(prefix="moto-studio-lambda-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@dataclass(frozen=True)
class Invocation:
    """One invocation, as the REPORT line tells it."""

    function_name: str
    request_id: str
    log_stream: str
    started: float  # epoch seconds
    ended: float
    init_seconds: float | None  # the cold start's init phase; None when the environment was warm


invocations: list[Invocation] = []  # every invocation since the last reset(), in the order they ended


class _Gate:
    """Whether invocations may start, every live environment, and the invocations under way: close()
    stops them all, so nothing a stopped sandbox started reaches the next one."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.open = True
        self.environments: set[Environment] = set()
        self.in_flight = 0

    def enter(self) -> bool:
        with self.changed:
            if self.open:
                self.in_flight += 1
            return self.open

    def leave(self) -> None:
        with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()

    def adopt(self, environment: Environment) -> bool:
        """Keep track of a new environment; False (and it is stopped) once the gate is closed."""
        with self.changed:
            if self.open:
                self.environments = {e for e in self.environments if e.alive} | {environment}
                return True
        environment.stop()
        return False

    def close(self, timeout: float) -> bool:
        """Refuse new invocations, stop every environment (an invocation under way then fails at
        once), and wait for the invocations under way to return; False if some did not in time."""
        with self.changed:
            self.open = False
            environments, self.environments = self.environments, set()
        for environment in environments:
            environment.kill()
        with self.changed:
            return self.changed.wait_for(lambda: self.in_flight == 0, timeout)


_gate = _Gate()


class Forked:
    """An environment's process, with the part of Popen's interface the environment uses. It is
    the zygote's child, not this process's: its end shows on a pipe that only it holds open."""

    def __init__(self, pid: int, stdin: int, stdout: int, alive: int) -> None:
        self.pid = pid
        self.stdin: IO[str] = os.fdopen(stdin, "w")
        self.stdout: IO[str] = os.fdopen(stdout, "r")
        self._alive: int | None = alive

    def poll(self) -> int | None:
        """None while the process runs (its exit status is the zygote's to collect)."""
        if self._alive is not None and select.select([self._alive], [], [], 0)[0]:
            os.close(self._alive)
            self._alive = None
        return None if self._alive is not None else 0

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> None:
        if self._alive is not None:
            select.select([self._alive], [], [])
            self.poll()


class Zygote:
    """The process environments are forked from (lambda_worker.serve_forks), one per PYTHONPATH."""

    def __init__(self, variables: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.process = subprocess.Popen(
            [sys.executable, "-P", lambda_worker.__file__, "--zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=variables,
        )
        theirs.close()
        ours.settimeout(60)  # (its imports, on a busy machine)
        self.channel = ours
        self.lock = threading.Lock()

    def fork(self, code_dir: str, handler: str, variables: dict[str, str]) -> Forked:
        request = json.dumps({"code_dir": code_dir, "handler": handler, "environment": variables})
        stdin, to_stdin = os.pipe()
        from_stdout, stdout = os.pipe()
        alive, holds_alive = os.pipe()
        try:
            with self.lock:
                sent = socket.send_fds(self.channel, [f"{request}\n".encode()], [stdin, stdout, holds_alive])
                self.channel.sendall(f"{request}\n".encode()[sent:])
                answer = b""
                while not answer.endswith(b"\n"):
                    received = self.channel.recv(64)
                    if not received:
                        raise OSError("the zygote ended")
                    answer += received
            pid = int(answer)
        except (OSError, ValueError) as error:
            for fd in (to_stdin, from_stdout, alive):
                os.close(fd)
            raise RuntimeError(f"the Lambda zygote did not fork an environment: {error!r}") from error
        finally:
            for fd in (stdin, stdout, holds_alive):
                os.close(fd)
        return Forked(pid, to_stdin, from_stdout, alive)

    def stop(self) -> None:
        self.channel.close()  # it ends when its channel does
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


_zygotes: dict[str, Zygote] = {}
_zygotes_lock = threading.Lock()


def _zygote() -> Zygote:
    """The live zygote for this process's PYTHONPATH (where the handlers' libraries are found)."""
    path = os.environ.get("PYTHONPATH", "")
    with _zygotes_lock:
        found = _zygotes.get(path)
        if found is None or found.process.poll() is not None:
            variables = {name: os.environ[name] for name in ("PYTHONPATH", "PATH") if os.environ.get(name)}
            # (set in every environment, where it names the function's code: X-Ray asks whether it is)
            variables["LAMBDA_TASK_ROOT"] = str(_packages())
            found = _zygotes[path] = Zygote(variables)
        return found


@atexit.register
def _stop_zygotes() -> None:
    with _zygotes_lock:
        for zygote in _zygotes.values():
            zygote.stop()
        _zygotes.clear()


class Environment:
    """One execution environment: a worker process and its log stream."""

    def __init__(self, function: LambdaFunction, code_dir: Path) -> None:
        self.function = function
        instance = uuid.uuid4().hex
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{instance}"
        variables = {name: os.environ[name] for name in INHERITED if os.environ.get(name)}
        variables.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
                "AWS_REGION": function.region,
                "AWS_DEFAULT_REGION": function.region,
                "LAMBDA_TASK_ROOT": str(code_dir),
                "PYTHONUNBUFFERED": "1",
                **{k: str(v) for k, v in function.environment_vars.items()},
            }
        )
        started = time.perf_counter()
        self.process = _zygote().fork(str(code_dir), function.handler or "", variables)
        ready = self._read(float(function.timeout) + 10)
        self.init_seconds: float | None = time.perf_counter() - started if ready is not None else None
        if ready is None:
            self.stop()
            raise TimeoutError(f"{function.function_name}: the runtime did not start")
        self.pending_logs = str(ready.get("logs") or "")
        self.last_used = time.monotonic()

    def _read(self, timeout: float) -> dict[str, Any] | None:
        stdout: IO[str] = self.process.stdout
        readable, _, _ = select.select([stdout], [], [], max(timeout, 0))
        if not readable:
            return None
        line = stdout.readline()
        try:
            return dict(json.loads(line))
        except ValueError:  # nothing, or a line cut short: the worker was stopped
            return None

    def invoke(self, event: Any, request_id: str) -> tuple[str, bool, str]:
        timeout = float(self.function.timeout)
        request = {
            "event": event,
            "request_id": request_id,
            "function_arn": self.function.function_arn,
            "timeout": timeout,
        }
        fault = faults.take("lambda", "Invoke", LAMBDA_KINDS, self.function.function_name)
        if fault is not None and fault.kind != "killed_after":  # dies before the handler gets far
            self.process.kill()
            self.process.wait()
            response = None
        else:
            stdin: IO[str] = self.process.stdin
            try:
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
            except BrokenPipeError:  # the worker was stopped
                response = None
            else:
                response = self._read(timeout)
        if fault is not None and fault.kind in ("killed", "killed_after"):
            # Lambda's answer when the runtime dies (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html)
            self.stop()
            message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
            payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message})
            return payload, True, f"{message}\n"
        if (
            response is None
        ):  # timed out (or the worker died, or a timeout fault): Lambda stops the environment
            self.stop()
            message = f"Task timed out after {timeout:.2f} seconds"
            payload = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message})
            return payload, True, f"{message}\n"
        self.last_used = time.monotonic()
        return str(response["payload"]), bool(response["errored"]), str(response["logs"])

    def write_log(self, text: str) -> None:
        """To the environment's stream, created with its first lines (the group may be new too)."""
        backend, group = self.function.logs_backend, self.function.logs_group_name
        backend.ensure_log_group(group)
        if self.log_stream not in backend.groups[group].streams:
            backend.create_log_stream(group, self.log_stream)
        now = unix_time_millis()
        backend.put_log_events(
            group, self.log_stream, [{"timestamp": now, "message": line} for line in text.splitlines()]
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the worker. Its pipes stay open: an invocation under way reads the end of its output."""
        if self.alive:
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()


class Pool:
    """A function's execution environments: idle ones reused, at most `limit` at once."""

    def __init__(self, function: LambdaFunction) -> None:
        self.function = function  # kept, so its id stays this pool's key
        reserved = function.reserved_concurrency
        self.limit = (
            min(settings.lambda_concurrency, int(reserved)) if reserved else settings.lambda_concurrency
        )
        self.slots = threading.BoundedSemaphore(self.limit)
        self.idle: list[Environment] = []
        self.lock = threading.Lock()
        self.code_dir = _extract(function)

    def take(self, function: LambdaFunction) -> Environment | None:
        """An idle environment, else a new one; None when the gate closed meanwhile."""
        with self.lock:
            while self.idle:
                environment = self.idle.pop()
                if environment.alive:
                    return environment
        environment = Environment(function, self.code_dir)
        return environment if _gate.adopt(environment) else None

    def give_back(self, environment: Environment) -> None:
        if environment.alive:
            with self.lock:
                self.idle.append(environment)


_pools: dict[tuple[int, str], Pool] = {}  # (id of the moto function, code sha256) -> its pool
_pools_lock = threading.Lock()


def _extract(function: LambdaFunction) -> Path:
    root = _packages() / f"{function.function_name}-{uuid.uuid4().hex[:8]}"
    with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as package:
        package.extractall(root)  # our own deployment package, built by the sandbox or a test
    return root


def _pool(function: LambdaFunction) -> Pool:
    key = (id(function), function.code_sha_256)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = Pool(function)
        return _pools[key]


def _reclaim_idle() -> None:
    """Stop environments idle past settings.lambda_idle_seconds, as Lambda reclaims them."""
    cutoff = time.monotonic() - settings.lambda_idle_seconds
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        with pool.lock:
            stale = [e for e in pool.idle if e.last_used < cutoff]
            pool.idle = [e for e in pool.idle if e.last_used >= cutoff]
        for environment in stale:
            environment.stop()


def close(timeout: float = 30) -> bool:
    """Stop every execution environment, idle or busy, and refuse invocations until reset(); True
    once no invocation is under way (False if some did not return within `timeout` seconds)."""
    with _pools_lock:
        _pools.clear()
    return _gate.close(timeout)


def reset() -> None:
    """Stop every environment (a new moto state has new functions), forget the invocations, and
    accept invocations again."""
    global _gate
    close()
    _gate = _Gate()
    invocations.clear()


def workers() -> list[int]:
    """The process IDs of the live execution environments."""
    with _gate.changed:
        return [e.process.pid for e in _gate.environments if e.alive]


STOPPED = json.dumps({"errorType": "Sandbox.Stopped", "errorMessage": "the sandbox is stopping"})


def invoke_in_worker(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Replaces LambdaFunction._invoke_lambda: (response payload, errored, log output)."""
    gate = _gate
    if not gate.enter():
        return STOPPED, True, ""
    try:
        return _invoke(self, event)
    finally:
        gate.leave()


def _invoke(self: LambdaFunction, event: Any) -> tuple[str, bool, str]:
    pool = _pool(self)
    request_id = str(uuid.uuid4())
    _reclaim_idle()
    with pool.slots:
        started = time.time()
        environment = pool.take(self)
        if environment is None:
            return STOPPED, True, ""
        cold, environment.init_seconds = environment.init_seconds, None
        running = time.perf_counter()
        payload, errored, logs = environment.invoke(event if event is not None else {}, request_id)
        duration = time.perf_counter() - running
        ended = time.time()
        pool.give_back(environment)
    init = f"\tInit Duration: {cold * 1000:.2f} ms" if cold is not None else ""
    text = (
        (environment.pending_logs if cold is not None else "")
        + f"START RequestId: {request_id} Version: $LATEST\n{logs}"
        + f"END RequestId: {request_id}\n"
        + f"REPORT RequestId: {request_id}\tDuration: {duration * 1000:.2f} ms{init}\n"
    )
    environment.write_log(text)
    invocations.append(
        Invocation(self.function_name, request_id, environment.log_stream, started, ended, cold)
    )
    return payload, errored, text
