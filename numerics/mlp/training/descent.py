"""Discrete dynamics: gradient descent, minibatch SGD and Adam, with step ``lr`` (times tauinv).

Minibatches of ``batchsize`` samples are taken consecutively, cycling through the data; a trailing
partial batch is dropped (with a warning).  ``shuffle`` reorders the samples at the start of every
epoch with the run's seed.  With minibatches the loss and gradient norm that termination and the
best point use are those of all the data, evaluated at the start of every epoch; with full batches,
at every step.  Adam: beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp.training.termination import Recorder, Tracker

ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


def adam_update(m: np.ndarray, v: np.ndarray, grad: np.ndarray, step: int):
    """Adam's moments after ``grad`` at ``step`` (1-based), and the bias-corrected update direction:
    (m, v, update); the step subtracts lr times the update."""
    beta1, beta2 = ADAM_BETAS
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return m, v, (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + ADAM_EPSILON)


def _full(objective, x, tracker: Tracker, recorder: Recorder, step: int):
    """Loss and gradient on all the data at x: observed, recorded, checked.  (stop reason, gradient)."""
    try:
        loss, grad = objective.loss_and_gradient(x)
    except DivergenceError as error:
        raise DivergenceError(step, error.quantity) from None
    gnorm = float(np.max(np.abs(grad))) if grad.size else 0.0
    tracker.observe(x, loss, gnorm)
    recorder.record(step, x, loss)
    return tracker.check(loss, gnorm), grad


def descend(objective, theta0, method: str, lr: float, tauinv, tracker: Tracker, recorder: Recorder,
            batchsize: int | None = None, shuffle: bool = False, seed: int | None = None) -> int:
    """Run until a termination rule holds; returns the number of steps taken."""
    n = objective.n_samples  # 0 for an expectation (a population loss): always the full "batch"
    full_batch = n == 0 or ((batchsize is None or batchsize == n) and not shuffle)
    batchsize = n if batchsize is None else batchsize
    batches = 1 if full_batch else n // batchsize
    if not full_batch and batches * batchsize < n:
        warnings.warn(f"the last {n - batches * batchsize} samples of every epoch are dropped "
                      f"(batchsize {batchsize} does not divide {n})", stacklevel=3)
    shuffle = shuffle and n > 0
    rng = np.random.default_rng(seed)
    x = np.array(theta0, dtype=float)
    rates = tauinv if np.ndim(tauinv) == 0 else np.asarray(tauinv, dtype=float)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    step = 0
    while True:
        reason, full_gradient = _full(objective, x, tracker, recorder, step)
        if reason:
            return step
        epoch = objective.shuffled(rng.permutation(n)) if shuffle else objective
        for b in range(1 if full_batch else batches):
            if full_batch:
                grad = full_gradient
            else:
                try:
                    grad = epoch.on_samples(b * batchsize, (b + 1) * batchsize).loss_and_gradient(x)[1]
                except DivergenceError as error:
                    raise DivergenceError(step, error.quantity) from None
            step += 1
            if method == "adam":
                m, v, update = adam_update(m, v, grad, step)
            else:
                update = grad
            x = x - lr * rates * update
            tracker.step()
            if not full_batch and (tracker.iterations >= tracker.limits.maxiterations
                                   or tracker.elapsed >= tracker.limits.maxtime):
                _full(objective, x, tracker, recorder, step)  # names the stop, keeps the last point
                return step
