"""The two-layer attention-only Transformer in PyTorch (imported lazily: ``pip install 'gradflow[torch]'``).

x_t = w_E(z_t) + p_t; x1 = x + W_O1 W_V1 (A1 x); x2 = x1 + W_O2 W_V2 (A2 x1); logits = W_U x2.
Frozen: token and positional embeddings, unembedding, W_V^1, W_V^2, W_O^1.  Mode ``wo2`` trains W_O^2
only, with the attention fixed to an induction head; mode ``all`` also trains W_QK^1 and W_QK^2
(from zero: uniform causal attention).
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from gradflow.derivations.am_transformer.observables import memory_margins
from gradflow.derivations.am_transformer.task import copy_mask, sample_batch
from gradflow.theory.errors import ParameterError

TORCH_MESSAGE = "run with PyTorch installed: pip install 'gradflow[torch]'"


def import_torch():
    """Import torch lazily; a missing torch is a one-line ParameterError naming the [torch] extra."""
    if importlib.util.find_spec("torch") is None:
        raise ParameterError("am-transformer", TORCH_MESSAGE)
    return importlib.import_module("torch")


def _attention_hard(torch, z):
    """Induction-head patterns: A1[t, s] = 1{s = t-1} (s = 0 for t = 0);
    A2[t, s] uniform over s <= t, s >= 1 with z[s-1] = z[t] (rows without a match are zero)."""
    B, T = z.shape
    idx = torch.arange(T)
    A1 = torch.zeros(T, T)
    A1[idx, torch.clamp(idx - 1, min=0)] = 1.0
    prev = torch.cat([torch.full((B, 1), -1, dtype=z.dtype), z[:, :-1]], dim=1)  # z[s-1]
    match = (prev[:, None, :] == z[:, :, None]) & (idx[None, :] <= idx[:, None])[None]
    match = match.float()
    A2 = match / match.sum(-1, keepdim=True).clamp(min=1.0)
    return A1.expand(B, T, T), A2


def _causal_softmax(torch, scores):
    T = scores.shape[-1]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


def _forward(torch, frozen, trained, z, mode):
    """Logits (B, T, N).  x = w_E(z_t) + p_t; x1 = x + W_O1 W_V1 (A1 x); x2 = x1 + W_O2 W_V2 (A2 x1);
    logits = W_U x2."""
    E, P, U, V1, O1, V2 = (frozen[k] for k in ("E", "P", "U", "V1", "O1", "V2"))
    T = z.shape[1]
    x = E[z] + P[:T]
    if mode == "wo2":
        A1, A2 = frozen["_attn"]
        x1 = x + (A1 @ x) @ (O1 @ V1).T
    else:
        A1 = _causal_softmax(torch, x @ trained["QK1"] @ x.transpose(1, 2))
        x1 = x + (A1 @ x) @ (O1 @ V1).T
        A2 = _causal_softmax(torch, x1 @ trained["QK2"] @ x1.transpose(1, 2))
    x2 = x1 + (A2 @ x1) @ (trained["O2"] @ V2).T
    return x2 @ U.T


def _losses(torch, logits, z, cmask):
    """(mean CE over all next-token positions, mean CE over copy positions)."""
    F = torch.nn.functional
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), z[:, 1:].reshape(-1), reduction="none")
    cm = cmask.reshape(-1)
    return ce.mean(), (ce[cm].mean() if bool(cm.any()) else ce.new_tensor(float("nan")))


def _frozen_params(torch, N, d, T, seed):
    g = torch.Generator().manual_seed(seed)

    def gauss(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float32) / np.sqrt(d)

    # entries N(0, 1/d): embeddings are near unit norm and near orthogonal (Bietti et al. 2023)
    return {"E": gauss(N, d), "P": gauss(T, d), "U": gauss(N, d), "V1": gauss(d, d) * 1.0, "O1": gauss(d, d),
            "V2": gauss(d, d)}


def train_run(task, mode, d, eta, steps, batch, T, seed, eval_batch, torch, progress_bar=None):
    """One SGD run; returns dict of per-step arrays (length steps + 1, index = step)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    frozen = _frozen_params(torch, task.N, d, T, seed)
    trained = {"O2": torch.zeros(d, d, requires_grad=True)}
    if mode == "all":
        trained["QK1"] = torch.zeros(d, d, requires_grad=True)
        trained["QK2"] = torch.zeros(d, d, requires_grad=True)
    ev_rng = np.random.default_rng(seed + 10_000)
    z_ev_np, _ = sample_batch(task, eval_batch, T, ev_rng)
    z_ev = torch.from_numpy(z_ev_np)
    cm_ev = torch.from_numpy(copy_mask(task, z_ev_np))
    attn_ev = _attention_hard(torch, z_ev) if mode == "wo2" else None
    E_np, U_np, V2_np = (frozen[k].numpy() for k in ("E", "U", "V2"))

    loss, copy_loss, train_loss, margins = [], [], [], []

    def evaluate():
        with torch.no_grad():
            fr = dict(frozen, _attn=attn_ev)
            lo, lc = _losses(torch, _forward(torch, fr, trained, z_ev, mode), z_ev, cm_ev)
        loss.append(float(lo))
        copy_loss.append(float(lc))
        margins.append(memory_margins(U_np, trained["O2"].detach().numpy(), V2_np, E_np))

    evaluate()
    train_loss.append(np.nan)
    for _ in range(steps):
        z_np, _ = sample_batch(task, batch, T, rng)
        z = torch.from_numpy(z_np)
        cm = torch.from_numpy(copy_mask(task, z_np))
        fr = dict(frozen, _attn=_attention_hard(torch, z) if mode == "wo2" else None)
        lo, _ = _losses(torch, _forward(torch, fr, trained, z, mode), z, cm)
        grads = torch.autograd.grad(lo, list(trained.values()))
        with torch.no_grad():
            for p, g in zip(trained.values(), grads):
                p -= eta * g  # plain SGD, no momentum
        train_loss.append(float(lo.detach()))
        evaluate()
        if progress_bar is not None:
            progress_bar.update(1)
    return {"loss": np.array(loss), "copy_loss": np.array(copy_loss), "train_loss": np.array(train_loss),
            "margins": np.array(margins)}
