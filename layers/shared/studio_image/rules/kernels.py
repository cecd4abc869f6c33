"""Rules on the Jupyter kernels an image offers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..appconfig import MAX_KERNEL_SPECS, select_kernels
from ..findings import Finding, Profile, Severity
from . import Context, rule

KERNEL_GATEWAY = frozenset({Profile.KERNEL_GATEWAY})
# jupyter_client's KernelManager.format_kernel_cmd (jupyter_client/manager.py, 8.x) replaces an argv[0]
# in {"python", "python%i" % sys.version_info[0], "python%i.%i" % sys.version_info[:2]} with
# sys.executable: the KernelGateway app's own interpreter. Which python3.X it matches depends on that
# interpreter's version, so every python3.X is taken as replaced.
GATEWAY_REPLACES = re.compile(r"python(3(\.\d+)?)?")
FIX_ARGV = "point argv[0] at the interpreter's absolute path in the image, or install it"


@rule("kernelspec-missing", "a KernelGateway image must offer at least one kernel", KERNEL_GATEWAY)
def kernelspec_missing(ctx: Context) -> Iterator[Finding]:
    facts = ctx.facts
    if not facts.kernels and not facts.kernel_errors:
        yield Finding(
            rule="kernelspec-missing",
            severity=Severity.ERROR,
            message="no kernel found: no kernel.json under a Jupyter data directory "
            "(.../share/jupyter/kernels/<name>/) and no conda environment with ipykernel",
            remediation="install one: python -m ipykernel install --sys-prefix --name <name>",
        )
    names = {k.name for k in facts.kernels}
    for name in ctx.policy.kernels:
        if name not in names:
            yield Finding(
                rule="kernelspec-missing",
                severity=Severity.ERROR,
                message=f"the policy selects kernel {name!r}, which the image does not have "
                f"(it has: {', '.join(sorted(names)) or 'none'})",
                remediation="fix the name in the policy's kernels list; SageMaker looks kernels up by "
                "this exact name",
            )


@rule(
    "kernelspec-invalid",
    "every kernel.json must parse, and its argv[0] must exist in the image",
    frozenset({Profile.KERNEL_GATEWAY, Profile.GATEWAY_PROVISIONERS}),
)
def kernelspec_invalid(ctx: Context) -> Iterator[Finding]:
    facts = ctx.facts
    for error in facts.kernel_errors:
        yield Finding(
            rule="kernelspec-invalid",
            severity=Severity.ERROR,
            message=f"{error.path}: {error.problem}",
            remediation="regenerate it: python -m ipykernel install --name <name>",
            path=error.path,
        )
    for kernel in facts.kernels:
        program = kernel.argv[0]
        if ctx.profile == Profile.KERNEL_GATEWAY and GATEWAY_REPLACES.fullmatch(program):
            yield Finding(
                rule="kernelspec-invalid",
                severity=Severity.ERROR,
                message=f"kernel {kernel.name!r} ({kernel.path}) starts a bare {program!r}: the "
                "KernelGateway app replaces it with the interpreter the gateway runs on (SageMaker's own "
                "Python, not the image's), where the image's packages are not installed",
                remediation="write the interpreter's absolute path into argv[0]: python -m ipykernel install "
                "--sys-prefix (run with the image's python), or edit argv[0]",
                path=kernel.path,
            )
            continue
        if facts.which(program):
            continue
        hidden = facts.hidden_program(program)
        if hidden:
            where = f"is at {hidden}, under {facts.mount_path}, which the home volume hides at start"
            fix = f"install the interpreter outside {facts.mount_path} (e.g. a venv under /opt)"
        elif "/" in program:
            where, fix = "is not an executable file in the image", FIX_ARGV
        else:
            where, fix = f"is not on the image's PATH ({':'.join(facts.search_path)})", FIX_ARGV
        yield Finding(
            rule="kernelspec-invalid",
            severity=Severity.ERROR,
            message=f"kernel {kernel.name!r} ({kernel.path}) starts {program!r}, which {where}",
            remediation=fix,
            path=kernel.path,
        )


@rule(
    "kernelspec-shadowed",
    "a kernel.json Jupyter never reads, hidden by an earlier one of the same name",
    frozenset({Profile.KERNEL_GATEWAY, Profile.GATEWAY_PROVISIONERS}),
)
def kernelspec_shadowed(ctx: Context) -> Iterator[Finding]:
    for used, hidden in ctx.facts.kernels_shadowed:
        yield Finding(
            rule="kernelspec-shadowed",
            severity=Severity.WARNING,
            message=f"{hidden} is never used: {used} comes first in Jupyter's search order and has "
            "the same kernel name",
            remediation="remove one of them, or install one under another name (--name)",
            path=hidden,
        )


@rule("kernelspec-limit", f"an AppImageConfig registers at most {MAX_KERNEL_SPECS} kernels", KERNEL_GATEWAY)
def kernelspec_limit(ctx: Context) -> Iterator[Finding]:
    kernels = ctx.facts.kernels
    if len(kernels) <= MAX_KERNEL_SPECS or ctx.policy.kernels:
        return
    chosen = [k.name for k in select_kernels(kernels, ctx.policy)]
    left_out = [k.name for k in kernels if k.name not in chosen]
    yield Finding(
        rule="kernelspec-limit",
        severity=Severity.WARNING,
        message=f"the image has {len(kernels)} kernels and an AppImageConfig takes {MAX_KERNEL_SPECS}: "
        f"registering {', '.join(chosen)}; not {', '.join(left_out)}",
        remediation="choose the kernels to register with `kernels: [name, ...]` in the policy",
    )
