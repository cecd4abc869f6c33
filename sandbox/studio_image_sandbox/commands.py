"""What `studio-image sandbox`'s commands do (imported only when one runs: it needs moto)."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from pydantic import BaseModel

from moto_studio.ecr import on_image_action
from studio_image.units import human_bytes, plural

from . import demo
from .ecrpush import check_destination
from .feed import Feed
from .sandbox import (
    STATE_FILE,
    Notification,
    Options,
    Sandbox,
    SandboxError,
    connect,
    recorded_executions,
    recorded_notifications,
    running,
    sandbox_dir,
)
from .watch import follow, write_table


def _options(args: argparse.Namespace) -> Options:
    configuration = json.loads(args.configuration.read_text()) if args.configuration else None
    return Options(
        sagemaker_seconds=args.sagemaker_seconds,
        **({"configuration": configuration} if configuration else {}),
    )


def _short(arn: str | None) -> str:
    return arn.rsplit(":", 1)[-1] if arn else "-"


def up(args: argparse.Namespace) -> int:
    directory = sandbox_dir()
    existing = Sandbox.load(directory)
    if existing is not None:
        raise SandboxError(f"a sandbox already runs at {existing.endpoint} (state in {directory})")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running(_options(args), directory, args.port) as sandbox:
        sandbox.save()
        stack = sandbox.stack
        print(
            f"sandbox running at {sandbox.endpoint}, registry {sandbox.registry} (state in {directory})\n"
            f"  state machine  {stack.state_machine_arn}\n"
            f"  topic          {stack.topic_arn} (delivered to {stack.queue_url})\n"
            f"  reports        s3://{stack.bucket}\n"
            f"  Studio domain  {sandbox.domain.domain_id}: user profile "
            f"{', '.join(sandbox.domain.user_profiles)}, space {', '.join(sandbox.domain.spaces)}, "
            f"canary spaces {', '.join(sandbox.domain.canary_spaces.values())}\n\n"
            '# in another terminal: eval "$(studio-image sandbox env)"\n'
            f"{_exports(sandbox)}\n\n"
            "# push: skopeo copy --dest-tls-verify=false IMAGE_REF "
            "docker://$STUDIO_IMAGE_REGISTRY/studio/NAME:TAG\n"
            "#   or: studio-image sandbox push IMAGE_REF --repository studio/NAME --tag TAG --wait\n"
            "# stop with Ctrl-C\n",
            flush=True,
        )
        feed = Feed(sandbox, sys.stdout)
        stop_feeding = on_image_action(feed.image_action)
        try:
            feed.run(stop)
        except KeyboardInterrupt:
            pass
        finally:
            stop_feeding()
            (directory / STATE_FILE).unlink(missing_ok=True)
    return 0


def _show_notification(notification: Notification | None, out: TextIO) -> None:
    if notification is None:
        out.write("\nno notification was delivered\n")
        return
    out.write(f"\nnotification (SNS, {notification.received}):\n")
    text = str(notification.document.get("text") or notification.subject)
    out.write("".join(f"  | {line}\n" for line in text.splitlines()))


def push(args: argparse.Namespace) -> int:
    text = args.format == "text"
    display = sys.stdout if text else sys.stderr
    try:
        check_destination(args.repository, args.tag)
    except ValueError as error:
        raise SandboxError(str(error)) from error
    with connect(sandbox_dir(), _options(args)) as sandbox:
        started = time.monotonic()
        pushed = sandbox.push(args.image, args.repository, args.tag)
        took = time.monotonic() - started
        if text:
            print(
                f"pushed {args.repository}:{args.tag} ({pushed.digest}, {plural(pushed.layers, 'layer')}, "
                f"{human_bytes(pushed.size)}, {human_bytes(pushed.uploaded)} uploaded) in {took:.2f} s"
            )
        arn = sandbox.execution_for(pushed.repository, pushed.digest, pushed.tag)
        if text:
            print(f"ECR push event delivered: execution {_short(arn)}")
        if args.wait or sandbox.private:  # a private sandbox ends with this command
            if text or display.isatty():
                follow(
                    lambda: sandbox.history(arn),
                    display,
                    live=display.isatty(),
                    cold_start=sandbox.cold_start,
                )
            else:
                sandbox.wait(arn)
        result = sandbox.result(arn)
        if text and result.status == "RUNNING":
            print("follow it with `studio-image sandbox executions`")
        elif text:
            _show_notification(sandbox.notification(result.message_id or ""), sys.stdout)
        else:
            print(result.model_dump_json(indent=2))
    return 0 if result.status in {"RUNNING", "SUCCEEDED"} else 1


def _recorded(directory: Path) -> bool:
    """Whether to read what the last sandbox recorded: none runs now."""
    if Sandbox.load(directory) is not None:
        return False
    sys.stderr.write(f"no sandbox is running: what the last one recorded in {directory}\n")
    return True


T = TypeVar("T", bound=BaseModel)


def _read(recorded: Callable[[Path], list[T]], running: Callable[[Sandbox], list[T]]) -> list[T]:
    """What the running sandbox has, else what the last one recorded."""
    directory = sandbox_dir()
    if _recorded(directory):
        return recorded(directory)
    with connect(directory) as sandbox:
        return running(sandbox)


def _print_json(models: list[T]) -> None:
    print(json.dumps([model.model_dump(mode="json") for model in models], indent=2))


def executions(args: argparse.Namespace) -> int:
    runs = _read(recorded_executions, Sandbox.executions)
    if args.format == "json":
        _print_json(runs)
        return 0
    rows = [("EXECUTION", "STARTED", "STATUS", "SECONDS", "IMAGE", "OUTCOME", "NOTIFICATION")]
    rows += [
        (
            _short(run.execution_arn)[:8],
            run.started.strftime("%H:%M:%S"),
            run.status,
            f"{run.seconds:.1f}" if run.seconds is not None else "-",
            run.image,
            run.outcome or "-",
            run.notification or "-",
        )
        for run in runs
    ]
    write_table(rows, sys.stdout)
    return 0


def notifications(args: argparse.Namespace) -> int:
    delivered = _read(recorded_notifications, Sandbox.notifications)
    if args.format == "json":
        _print_json(delivered)
        return 0
    for notification in delivered:
        _show_notification(notification, sys.stdout)
    if not delivered:
        print("no notifications yet")
    return 0


def env(args: argparse.Namespace) -> int:
    found = Sandbox.load(sandbox_dir())
    if found is None:
        raise SandboxError("no sandbox is running: start one with `studio-image sandbox up`")
    print(_exports(found))
    return 0


def _exports(sandbox: Sandbox) -> str:
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in sandbox.environment().items())


def run_demo(args: argparse.Namespace) -> int:
    with connect(sandbox_dir(), _options(args)) as sandbox:
        rows = demo.run(sandbox, sys.stdout if args.format == "text" else sys.stderr)
    if args.format == "json":
        print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
    else:
        demo.summary(rows, sys.stdout)
    return 0 if all(row.as_expected for row in rows) else 1


RUN = {
    "up": up,
    "push": push,
    "demo": run_demo,
    "executions": executions,
    "notifications": notifications,
    "env": env,
}
