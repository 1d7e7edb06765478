"""Colours shared by the Mermaid text and the Graphviz picture: one look for a state type everywhere."""

from __future__ import annotations

# style name -> (fill, stroke)
STYLES: dict[str, tuple[str, str]] = {
    "task": ("#e8f0fe", "#3b5b92"),
    "choice": ("#fff4d6", "#a07800"),
    "wait": ("#f2f2f2", "#6b6b6b"),
    "pass": ("#ffffff", "#6b6b6b"),
    "succeed": ("#dcf3de", "#2e7d32"),
    "fail": ("#fde0df", "#c62828"),
    "group": ("#f7f7fb", "#8a8aa8"),
    "marker": ("#1a1a1a", "#1a1a1a"),
}
TEXT = "#1a1a1a"
EDGE = "#555555"
CATCH_EDGE = "#c62828"


def style_of(state_type: str) -> str:
    """The style name of a state type (Parallel and Map are drawn as groups)."""
    if state_type in ("Parallel", "Map"):
        return "group"
    style = state_type.lower()
    return style if style in STYLES else "task"
