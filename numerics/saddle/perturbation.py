"""The perturbation certificate of a candidate minimum (the paper's protocol).

Every parameter of every non-dead neuron gets independent noise, uniform on [-a, a] (or Gaussian
with standard deviation a), with

    a = min(max_amplitude, min |param| / 10)   (max_amplitude = 1e-5),

the minimum over the non-dead parameters that are not exactly zero (an idealised point's zero
neurons would otherwise force a = 0), so the noise cannot flip the sign of a parameter.  Dead
neurons (ReLU, w . x_k < 0 for all k) are left alone, as in the authors' code.  The certificate
reports the smallest loss change over the samples and how many samples lowered the loss.

What it can and cannot show: at a point where every direction raises the loss, min Delta >= 0.  At a
saddle the loss falls along some directions, but the fall is second order (e.g. a zero neuron:
Delta ~ -a^2 from the product of its w- and h-noise) and competes with the second-order rise from the
other parameters and, at a kink, with first-order rises -- a random sample may miss it, so a clean
certificate is evidence, not proof.

Loss changes are computed from Delta f directly (rho(z + dz) - rho(z) = slope * dz when z and z + dz
lie on one side of the kink), so they are accurate to ~1e-16 |Delta f| |e| rather than to ~1e-16 L.
All samples are evaluated with NumPy broadcasting, in chunks that bound the memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.activations import ReluLike
from gradflow.theory.errors import require

from gradflow.numerics.saddle.shallow_arrays import dead_neurons, network_output, relu_like, shallow_data

_CHUNK_ENTRIES = 4_000_000  # floats per chunk of the (samples, n, m) pre-activation array


@dataclass(frozen=True)
class PerturbationCertificate:
    min_delta: float  # smallest loss change over the samples
    decreasing: int  # samples that lowered the loss
    samples: int
    amplitude: float  # a
    loss: float  # loss at the unperturbed point
    dead_neurons: tuple  # neurons left unperturbed
    best_dW: np.ndarray  # the perturbation with the smallest loss change, (m, d)
    best_dH: np.ndarray  # (m, d_out)

    @property
    def certifies_minimum(self) -> bool:
        """No sample lowered the loss."""
        return self.decreasing == 0


def perturbation_amplitude(W: np.ndarray, H: np.ndarray, alive: np.ndarray, max_amplitude: float) -> float:
    """min(max_amplitude, min |param| / 10) over the non-zero parameters of the alive neurons."""
    values = np.abs(np.concatenate([W[alive].ravel(), H[alive].ravel()]))
    values = values[values > 0]
    return float(min(max_amplitude, values.min() / 10.0)) if values.size else float(max_amplitude)


def _rho_change(z: np.ndarray, dz: np.ndarray, activation: ReluLike) -> np.ndarray:
    """rho(z + dz) - rho(z), exact slope * dz when the kink is not crossed."""
    z_new = z + dz
    same_side = (z > 0) == (z_new > 0)
    slope = np.where(z > 0, float(activation.a_plus), float(activation.a_minus))
    return np.where(same_side, slope * dz, activation(z_new) - activation(z))


def _loss_changes(data, activation: ReluLike, residual: np.ndarray, dW: np.ndarray, dH: np.ndarray) -> np.ndarray:
    """Delta L for each sample of (dW, dH) (S, m, d), (S, m, d_out)."""
    z = data.X @ data.W.T  # (n, m)
    dz = np.einsum("kd,smd->skm", data.X, dW)
    z_new = z[None] + dz
    df = (np.einsum("skm,mo->sko", _rho_change(z[None], dz, activation), data.H)
          + np.einsum("skm,smo->sko", activation(z_new), dH))
    return np.mean(df * (2.0 * residual[None] + df), axis=(1, 2))


def perturbation_certificate(W, H, X, Y, activation, *, samples: int = 5000, seed: int = 0,
                             max_amplitude: float = 1e-5, amplitude=None, distribution: str = "uniform",
                             dead=None) -> PerturbationCertificate:
    """Perturb the non-dead parameters ``samples`` times and report the smallest loss change.

    amplitude: overrides the protocol's a (e.g. to probe a saddle the default amplitude misses).
    distribution: "uniform" (on [-a, a], the protocol) or "gaussian" (standard deviation a).
    dead: indices of neurons to leave alone; default: the dead ReLU neurons (w . x_k < 0 for all k)."""
    data = shallow_data(W, H, X, Y)
    activation = relu_like(activation)
    m = data.width
    require(isinstance(samples, (int, np.integer)) and samples >= 1, "samples", "an integer >= 1", samples)
    require(np.isfinite(max_amplitude) and max_amplitude > 0, "max_amplitude", "a finite number > 0", max_amplitude)
    require(distribution in ("uniform", "gaussian"), "distribution", "'uniform' or 'gaussian'", distribution)
    if dead is None:
        dead = dead_neurons(data.W, data.X, activation)
    dead = np.unique(np.asarray(dead, dtype=int))
    require(bool(np.all((dead >= 0) & (dead < m))), "dead", f"neuron indices in [0, {m})", tuple(dead.tolist()))
    alive = np.setdiff1d(np.arange(m), dead)
    if amplitude is None:
        amplitude = perturbation_amplitude(data.W, data.H, alive, max_amplitude)
    require(np.isfinite(amplitude) and amplitude > 0, "amplitude", "a finite number > 0", amplitude)

    rng = np.random.default_rng(seed)
    residual = network_output(data.W, data.H, data.X, activation) - data.Y
    mask = np.zeros((m, 1))
    mask[alive] = 1.0
    chunk = max(1, _CHUNK_ENTRIES // (data.X.shape[0] * m))
    changes, best = [], (np.inf, None, None)
    for first in range(0, samples, chunk):
        size = min(chunk, samples - first)
        shape_w, shape_h = (size,) + data.W.shape, (size,) + data.H.shape
        if distribution == "uniform":
            dW, dH = rng.uniform(-amplitude, amplitude, shape_w), rng.uniform(-amplitude, amplitude, shape_h)
        else:
            dW, dH = amplitude * rng.standard_normal(shape_w), amplitude * rng.standard_normal(shape_h)
        dW, dH = dW * mask, dH * mask
        delta = _loss_changes(data, activation, residual, dW, dH)
        changes.append(delta)
        j = int(np.argmin(delta))
        if delta[j] < best[0]:
            best = (float(delta[j]), dW[j], dH[j])
    changes = np.concatenate(changes)
    return PerturbationCertificate(float(changes.min()), int(np.sum(changes < 0)), int(samples), float(amplitude),
                                   float(np.mean(residual ** 2)), tuple(map(int, dead)), best[1], best[2])
