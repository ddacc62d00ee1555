"""``--data F.npz`` and ``--init F.npz`` of ``gradflow train mlp``: read, checked, never trusted.

Files are read with ``allow_pickle=False`` (an .npz can hold pickled objects, which would run code).

--data: ``X`` (N x D0), and ``Y`` (N x k_L targets) or ``y`` (N integer class labels 0..k_L-1, for a
softmax output); optional ``w`` (N sample weights >= 0).
--init: ``theta`` (P starting parameters, or E x P for an ensemble of E members).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradflow.derivations.mlp.layers import LayersSpec
from gradflow.theory.errors import ParameterError


@dataclass(frozen=True)
class TrainingData:
    X: np.ndarray
    Y: np.ndarray  # (N, k_L) float targets, or (N,) int64 labels
    weights: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


def _arrays(path: Path, option: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ParameterError(option, "an existing .npz file", str(path))
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ParameterError(option, "an .npz archive of named arrays (np.savez), not a single array",
                                 str(path))
        with archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ParameterError(option, f"a readable .npz file ({type(error).__name__}: {error})", str(path)) from None


def _finite(array: np.ndarray, option: str, name: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise ParameterError(option, f"{name} holding numbers (it holds {array.dtype})")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ParameterError(option, f"{name} finite (it is {array[where]} at index {where})")
    return array


def load_data(path: Path, spec: LayersSpec, option: str = "--data") -> TrainingData:
    """The arrays of ``path`` checked against the network ``spec``: shapes, finiteness, labels, weights."""
    arrays = _arrays(path, option)
    if "X" not in arrays:
        raise ParameterError(option, f"an .npz with X (N x D0) and Y or y (it has {', '.join(arrays) or 'nothing'})")
    X = _finite(np.asarray(arrays["X"]), option, "X")
    if X.ndim == 1 and spec.input_dim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != spec.input_dim or X.shape[0] < 1:
        raise ParameterError(option, f"X of shape (N, {spec.input_dim}) with N >= 1 for D0 = {spec.input_dim} "
                             f"(it has shape {X.shape})")
    n, k = X.shape[0], spec.output_dim
    if "y" in arrays and "Y" in arrays:
        raise ParameterError(option, "either Y (targets) or y (labels), not both")
    if "y" in arrays:
        if spec.loss != "nll":
            raise ParameterError(option, "Y (N x k_L targets) for a network without a softmax output (y holds labels)")
        labels = np.asarray(arrays["y"])
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise ParameterError(option, f"y of shape ({n},) holding integer labels (it has shape {labels.shape}, "
                                 f"dtype {labels.dtype})")
        out_of_range = (labels < 0) | (labels >= k)
        if out_of_range.any():
            i = int(np.argmax(out_of_range))
            raise ParameterError(option, f"labels in 0..{k - 1} for {k} classes (y[{i}] = {int(labels[i])})")
        Y = labels.astype(np.int64)
    elif "Y" in arrays:
        Y = _finite(np.asarray(arrays["Y"]), option, "Y")
        if Y.ndim == 1 and k == 1:
            Y = Y[:, None]
        if Y.shape != (n, k):
            raise ParameterError(option, f"Y of shape ({n}, {k}) for N = {n} and k_L = {k} (it has shape {Y.shape})")
        if spec.loss == "nll" and ((Y < 0).any() or not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-9)):
            raise ParameterError(option, "Y rows that are probabilities (>= 0, summing to 1) for a softmax output")
    else:
        raise ParameterError(option, "an .npz with Y (N x k_L targets) or y (N labels) besides X")
    weights = None
    if "w" in arrays:
        weights = _finite(np.asarray(arrays["w"]), option, "w")
        if weights.shape != (n,):
            raise ParameterError(option, f"w of shape ({n},) (it has shape {weights.shape})")
        if (weights < 0).any():
            i = int(np.argmax(weights < 0))
            raise ParameterError(option, f"sample weights w >= 0 (w[{i}] = {weights[i]})")
    return TrainingData(np.ascontiguousarray(X), np.ascontiguousarray(Y), weights)


def load_init(path: Path, n_params: int, members: int, option: str = "--init") -> np.ndarray:
    """``theta`` of ``path``: (P,) for one network (repeated for an ensemble) or (members, P)."""
    arrays = _arrays(path, option)
    if "theta" not in arrays:
        raise ParameterError(option, f"an .npz with theta (P = {n_params} parameters; it has "
                             f"{', '.join(arrays) or 'nothing'})")
    theta = _finite(np.asarray(arrays["theta"]), option, "theta")
    if theta.shape == (n_params,):
        return np.tile(theta, (members, 1)) if members > 1 else theta
    if theta.shape == (members, n_params) and members > 1:
        return theta
    shapes = f"({n_params},)" + (f" or ({members}, {n_params})" if members > 1 else "")
    raise ParameterError(option, f"theta of shape {shapes} for this network (it has shape {theta.shape})")
