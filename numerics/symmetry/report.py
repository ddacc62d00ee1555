"""What the Hessian at a permutation point looks like, measured, beside the bound claimed for it.

The claim under test: "at least n_{k+1} vanishing Hessian eigenvalues".  What holds generically is
dim ker H = n_{k+1} - rank(B) (B: the plateau matrix), at least one since B^T u-bar = 0; the claim
holds exactly when B = 0 (a single output, or zero residual).  Every number here is measured from the
dense Hessian, the plain NumPy B and the loss on the plateau; nothing is assumed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from gradflow.numerics.symmetry.backprop import RANK_TOLERANCE, plateau_matrix
from gradflow.numerics.symmetry.complex_step import complex_step_hessian
from gradflow.numerics.symmetry.neurons import neuron_indices, transposition
from gradflow.numerics.symmetry.plateau import plateau_gradient, plateau_point
from gradflow.numerics.symmetry.setup import build_permutation_point

ZERO_TOLERANCE = 1e-9  # |lambda| <= ZERO_TOLERANCE * max |lambda| counts as zero


@dataclass(frozen=True)
class PermutationPointReport:
    sizes: tuple
    P: int
    n_next: int
    L_red: float
    grad_norm: float  # |grad L(theta_P)|_2
    zero_count: int
    negative_count: int
    rank_B: int
    B_singular_values: tuple
    predicted_zero_count: int  # n_next - rank_B
    paper_bound: int  # n_next
    paper_claim_holds: bool  # zero_count >= paper_bound
    spectral_gap: float  # decades between the smallest non-zero |lambda| and the largest zero one
    max_antisym_residual: float  # max ||P v + v|| over eigenvectors of negative eigenvalues
    plateau_max_dev: float  # max |L - L_P| / L_P over the plateau offsets tried
    plateau_grad_error: float  # max |grad L - (B^T e, -B^T e)|_inf over the plateau offsets tried
    eigenvalues: tuple = ()
    teacher_seed: int | None = None  # the teacher that gave a clean reduced point
    hessian_check: float | None = None  # max |H - H_complex_step| / max |H| (None: not checked)
    plateau_profile: tuple = ()  # (s, (L - L_P) / L_P, |grad|_2) along e = s d, d the top left singular vector of B

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


def _spectrum_counts(eigenvalues, tolerance):
    scale = float(np.max(np.abs(eigenvalues)))
    zero = np.abs(eigenvalues) <= tolerance * scale
    nonzero = np.abs(eigenvalues[~zero])
    if zero.any() and nonzero.size:
        gap = float(np.log10(nonzero.min()) - np.log10(max(np.abs(eigenvalues[zero]).max(), 1e-300)))
    else:
        gap = float("inf")
    return int(zero.sum()), int(np.sum(eigenvalues < -tolerance * scale)), gap


def _plateau_checks(objective, theta_P, layer, i, j, B, n_offsets, seed):
    net = objective.network
    _, out_i = neuron_indices(net, layer, i)
    _, out_j = neuron_indices(net, layer, j)
    total = theta_P[out_i] + theta_P[out_j]
    rng = np.random.default_rng(seed)
    scale = max(float(np.linalg.norm(total)), 1.0)
    offsets = [-0.5 * total] + [rng.normal(0.0, scale, total.size) for _ in range(n_offsets)]
    loss_P = objective.loss(theta_P)
    dev, grad_error = 0.0, 0.0
    for e in offsets:
        loss, grad = objective.loss_and_gradient(plateau_point(net, theta_P, layer, i, j, e))
        dev = max(dev, abs(loss - loss_P) / max(abs(loss_P), 1e-300))  # a zero-loss point: absolute
        grad_error = max(grad_error, float(np.max(np.abs(grad - plateau_gradient(net, B, layer, i, j, e)))))
    return dev, grad_error


def _plateau_profile(objective, theta_P, layer, i, j, B, n_points: int = 21):
    """Loss and |grad| along the plateau e = s d (d: B's top left singular vector, e_1 when B = 0), s up
    to twice max(|u-bar|, 1): the loss stays put while |grad| = sqrt(2) |B^T d| |s| grows linearly."""
    net = objective.network
    _, out_i = neuron_indices(net, layer, i)
    _, out_j = neuron_indices(net, layer, j)
    scale = 2.0 * max(float(np.linalg.norm(theta_P[out_i] + theta_P[out_j])), 1.0)
    d = np.linalg.svd(B)[0][:, 0] if np.any(B) else np.eye(out_i.size)[0]
    loss_P = objective.loss(theta_P)
    s_values = np.linspace(-scale, scale, n_points)
    rows = [objective.loss_and_gradient(plateau_point(net, theta_P, layer, i, j, s * d)) for s in s_values]
    return (tuple(float(s) for s in s_values), tuple(float((loss - loss_P) / loss_P) for loss, _ in rows),
            tuple(float(np.linalg.norm(grad)) for _, grad in rows))


def analyse_permutation_point(objective, theta_P, layer: int, i: int, j: int, L_red: float, *,
                              n_offsets: int = 8, seed: int = 0, zero_tolerance: float = ZERO_TOLERANCE,
                              rank_tolerance: float = RANK_TOLERANCE,
                              check_hessian: bool = False) -> PermutationPointReport:
    """The report for the permutation point ``theta_P`` of neurons i, j (dense Hessian: small nets).
    ``check_hessian``: compare the generated Hessian with the complex-step one (P gradients)."""
    net = objective.network
    theta_P = np.asarray(theta_P, dtype=float)
    _, grad, H = objective.loss_gradient_hessian(theta_P)
    eigenvalues, vectors = np.linalg.eigh(H)
    zero_count, negative_count, gap = _spectrum_counts(eigenvalues, zero_tolerance)
    negative = vectors[:, eigenvalues < -zero_tolerance * np.max(np.abs(eigenvalues))]
    perm = transposition(net, layer, i, j)
    residual = float(np.max(np.linalg.norm(negative[perm] + negative, axis=0))) if negative.size else 0.0
    pm = plateau_matrix(objective, theta_P, layer, i, rank_tolerance)
    dev, grad_error = _plateau_checks(objective, theta_P, layer, i, j, pm.B, n_offsets, seed)
    n_next = net.layers[layer].width
    check = None
    if check_hessian:
        check = float(np.max(np.abs(H - complex_step_hessian(objective, theta_P))) / np.max(np.abs(H)))
    return PermutationPointReport(
        sizes=tuple(net.widths), P=net.n_params, n_next=n_next, L_red=float(L_red),
        grad_norm=float(np.linalg.norm(grad)), zero_count=zero_count, negative_count=negative_count,
        rank_B=pm.rank, B_singular_values=tuple(float(s) for s in pm.singular_values),
        predicted_zero_count=n_next - pm.rank, paper_bound=n_next, paper_claim_holds=zero_count >= n_next,
        spectral_gap=gap, max_antisym_residual=residual, plateau_max_dev=float(dev),
        plateau_grad_error=float(grad_error), eigenvalues=tuple(float(v) for v in eigenvalues),
        hessian_check=check, plateau_profile=_plateau_profile(objective, theta_P, layer, i, j, pm.B))


def permutation_point_report(sizes, seed: int = 0, *, check_hessian: bool = True,
                             **options) -> PermutationPointReport:
    """The whole experiment for a net of ``sizes`` (after duplication): ``build_permutation_point``
    (its options: layer, i, n_samples, restarts, activation, bias, teacher_std, seed_tries), then
    ``analyse_permutation_point``; ``teacher_seed`` says which teacher gave a clean point."""
    setup = build_permutation_point(sizes, seed, **options)
    report = analyse_permutation_point(setup.objective, setup.theta_P, setup.layer, setup.i, setup.j,
                                       setup.reduced.loss, seed=seed, check_hessian=check_hessian)
    return replace(report, teacher_seed=setup.teacher_seed)


__all__ = ["PermutationPointReport", "ZERO_TOLERANCE", "analyse_permutation_point", "permutation_point_report"]
