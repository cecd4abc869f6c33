"""Sizes and counts as people read them."""

from __future__ import annotations


def human_bytes(size: int) -> str:
    """Decimal units, as registries and `docker images` print them: `512 B`, `1.5 MB`."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 layer", "2 layers": the count with its noun, in the number it takes."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
