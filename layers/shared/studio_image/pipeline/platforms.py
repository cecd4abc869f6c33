"""Multi-platform pushes. `docker buildx --push` or `skopeo copy --all` push each platform's
manifest by digest, then the index by tag, and ECR sends one event per manifest, the untagged
ones with `"image-tag": ""`. The image is judged once, at its tagged index, resolved to
linux/amd64; an untagged push is skipped without a notification unless the binding opts in."""

from __future__ import annotations

from .config import Binding
from .models import Outcome, Pushed, Skip


def quiet_skip(pushed: Pushed, binding: Binding) -> Skip | None:
    if pushed.tag or binding.check_untagged:
        return None
    return Skip(
        outcome=Outcome.SKIPPED,
        reason="an untagged push: a multi-platform image is judged at its tagged index",
        quiet=True,
    )
