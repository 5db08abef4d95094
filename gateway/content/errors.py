"""The one error type of the content codecs."""

from __future__ import annotations

__all__ = ["ContentError"]


class ContentError(ValueError):
    """Input is not a vObject (or not the format it was declared as), or a
    conversion between two content types is not supported."""
