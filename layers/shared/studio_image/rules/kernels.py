"""Rules on the Jupyter kernels an image offers."""

from __future__ import annotations

from collections.abc import Iterator

from ..appconfig import MAX_KERNEL_SPECS, select_kernels
from ..findings import Finding, Profile, Severity
from . import Context, rule

KERNEL_GATEWAY = frozenset({Profile.KERNEL_GATEWAY})


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
        if facts.which(program):
            continue
        where = (
            "is not an executable file in the image"
            if "/" in program
            else (f"is not on the image's PATH ({':'.join(facts.search_path)})")
        )
        yield Finding(
            rule="kernelspec-invalid",
            severity=Severity.ERROR,
            message=f"kernel {kernel.name!r} ({kernel.path}) starts {program!r}, which {where}",
            remediation="point argv[0] at the interpreter's absolute path in the image, or install it",
            path=kernel.path,
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
