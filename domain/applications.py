"""The application pipeline: which status moves are legal.

APPLIED -> SCREENING -> INTERVIEW -> OFFER -> HIRED, one step forward at a time, and any
open status -> REJECTED or WITHDRAWN. HIRED, REJECTED and WITHDRAWN are final.
"""

from __future__ import annotations

from typing import Final

from domain.enums import ApplicationStatus as S

PIPELINE: Final = (S.APPLIED, S.SCREENING, S.INTERVIEW, S.OFFER, S.HIRED)
FINAL: Final = frozenset({S.HIRED, S.REJECTED, S.WITHDRAWN})


def allowed_moves(current: S) -> tuple[S, ...]:
    """The statuses an application in `current` may move to, in pipeline order."""
    if current in FINAL:
        return ()
    following = PIPELINE[PIPELINE.index(current) + 1]
    return (following, S.REJECTED, S.WITHDRAWN)


def can_move(current: S, to: S) -> bool:
    return to in allowed_moves(current)
