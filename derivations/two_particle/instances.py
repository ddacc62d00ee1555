"""A concrete two-particle instance: frequencies, embeddings, labels, and the maps between margins and W."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.models import two_particle as tp

KAPPA = 2.0  # ||u_0 - u_1||^2 with U = I (the oracles' constant, typed in by hand)


@dataclass(frozen=True)
class Instance:
    p1: float
    alpha: float
    labels: str

    def __post_init__(self):
        tp.validate(self.p1, self.alpha, labels=self.labels)

    @property
    def p(self) -> np.ndarray:
        return np.array([self.p1, 1.0 - self.p1])

    @property
    def E(self) -> np.ndarray:
        return np.array([[1.0, 0.0], [self.alpha, np.sqrt(max(0.0, 1.0 - self.alpha**2))]])

    @property
    def Kt(self) -> np.ndarray:
        """eps eps^T o E E^T = [[1, s alpha], [s alpha, 1]], s = -1 for opposite labels, +1 for same (by hand)."""
        s = -1.0 if self.labels == "opposite" else 1.0
        return np.array([[1.0, s * self.alpha], [s * self.alpha, 1.0]])

    @property
    def label_array(self) -> np.ndarray:
        return np.array(tp.LABELS[self.labels], dtype=np.int64)

    @property
    def eps(self) -> np.ndarray:
        return np.array(tp.signs(self.labels), dtype=float)

    @property
    def data(self) -> dict:
        """Arrays by the names of the generated W-space kernel (U = I)."""
        return {"E": self.E, "U": np.eye(2), "p": self.p[:, None], "Y": np.eye(2)[self.label_array]}

    def v_from_margins(self, margins) -> np.ndarray:
        """v = W^T (u_0 - u_1) with eps_x <v, e_x> = m_x (least squares when alpha = +-1)."""
        margins = np.atleast_2d(margins)
        return np.linalg.lstsq(self.E, (margins * self.eps).T, rcond=None)[0].T

    def weights_from_margins(self, margins) -> np.ndarray:
        """W reached by GD from W_0 = 0: sum_y s_y(x) stays 0 (U U^T = I), so W = (u_0 - u_1) v^T / 2."""
        v = self.v_from_margins(margins)
        return np.stack([v / 2, -v / 2], axis=1)  # (records, 2, 2): rows u_0^T W, u_1^T W

    def zero_one(self, margins) -> np.ndarray:
        """L01 with ties (m = 0, equal logits) going to class 0: label 0 is wrong iff m < 0, label 1 iff m <= 0."""
        margins = np.asarray(margins, dtype=float)
        wrong = np.where(self.label_array == 0, margins < 0, margins <= 0)
        return wrong.astype(float) @ self.p
