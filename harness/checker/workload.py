"""Workload: what the operation did and how long reports waited in its queues."""

from __future__ import annotations

from .reading import Reading


def workload(reading: Reading) -> dict:
    """decisions, queue waits (minutes from entering a queue to being claimed; an escalated
    or requeued report waits again from then) and the backlog (reports filed whose chain
    had not ended when the shift did)."""
    return {
        "decisions": reading.decisions,
        "queue_waits": [max(0.0, wait) / 60.0 for wait in reading.waits],
        "backlog": len(reading.open_reports),
    }
