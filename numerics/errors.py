"""Numeric failures reported with the step and the quantity involved."""

from __future__ import annotations


class DivergenceError(FloatingPointError):
    """A run produced a non-finite value or blew up; names where and what."""

    def __init__(self, step, quantity: str, detail: str = "", time: float | None = None):
        self.step = step
        self.quantity = quantity
        self.time = time
        where = f"time {time:g}" if time is not None else f"step {step}"
        message = f"run diverged at {where}: {quantity} became non-finite"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class IntegrationError(RuntimeError):
    """An adaptive integrator gave up (too many steps, step size underflow)."""
