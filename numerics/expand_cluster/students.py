"""One hidden layer of N trained students as the arrays the clustering reads."""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require


def student_layer(net, thetas, layer: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``incoming`` (N, k, D) and ``outgoing`` (N, k, m) of hidden ``layer`` (1-based) for the flat
    parameter vectors ``thetas`` (N, P) of ``net``: row j of W_l ([w; b], bias last when the layer has
    one) and column j of W_{l+1} (the next layer's bias column excluded)."""
    require(isinstance(layer, (int, np.integer)) and 1 <= layer <= net.depth - 1, "layer",
            f"a hidden layer index in 1..{net.depth - 1}", layer)
    thetas = np.asarray(thetas, dtype=float)
    thetas = thetas[None] if thetas.ndim == 1 else thetas
    require(thetas.ndim == 2 and thetas.shape[1] == net.n_params, "thetas",
            f"an array (N, {net.n_params})", thetas.shape)
    weights = net.unflatten(thetas)
    width = net.layers[layer - 1].width
    incoming = np.array(weights[layer - 1])
    outgoing = np.transpose(weights[layer][:, :, :width], (0, 2, 1)).copy()
    return incoming, outgoing
