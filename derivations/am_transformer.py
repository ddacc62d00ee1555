"""Experiment am-transformer (associative_memory spec section 7): a small Transformer check.

Two-layer attention-only Transformer on the bigram-with-triggers task of Bietti et al. (2023),
"Birth of a Transformer": vocabulary of 65 characters, sequences of 256 tokens, k trigger tokens
whose next token is fixed within a sequence (sampled per sequence).  All statistics are generated
from a fixed seed (Dirichlet transition matrix), never downloaded.

Frozen: token and positional embeddings, unembedding, W_V^1, W_V^2, W_O^1.  Two modes:

(a) ``wo2``: only W_O^2 is trained (d = 64, plain SGD, eta in {20, 50, 100, 200}); the attention
    patterns are fixed to an induction head (layer 1 attends to the previous token, layer 2
    attends from a token to the positions right after its earlier occurrences), so W_O^2 is an
    associative memory from W_V^2 w_E(y) to w_U(y).
(b) ``all``: W_QK^1, W_QK^2 (initialised at zero, i.e. uniform causal attention) and W_O^2
    (initialised at zero) are trained (d in {64, 128}, eta in {2, 5, 10, 20}).

Per step: loss on a fixed evaluation batch (all positions and copy positions: a trigger that has
already occurred in the sequence) and the memory margins of W_O^2,
m(y) = [W_U W_O^2 W_V^2 w_E(y)]_y - max_{j != y} [W_U W_O^2 W_V^2 w_E(y)]_j.

PyTorch is optional (``pip install 'gradflow[torch]'``); it is imported inside ``run``.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import ParameterError

from gradflow.derivations.report import Reproduction, pyplot

TORCH_MESSAGE = "run with PyTorch installed: pip install 'gradflow[torch]'"


def _import_torch():
    """Import torch lazily; a missing torch is a one-line ParameterError naming the [torch] extra."""
    if importlib.util.find_spec("torch") is None:
        raise ParameterError("am-transformer", TORCH_MESSAGE)
    return importlib.import_module("torch")


# ----------------------------------------------------------------------------------------------
# data (numpy only)


@dataclass(frozen=True)
class BigramTask:
    """Bigram statistics with k trigger tokens; everything derived from ``seed``."""

    marginal: np.ndarray  # (N,) distribution of the first token and of the trigger outputs
    transition: np.ndarray  # (N, N) rows: next-token distribution
    triggers: np.ndarray  # (k,) trigger token ids

    @property
    def N(self) -> int:
        return self.marginal.shape[0]


def make_task(N: int = 65, k: int = 5, seed: int = 0, alpha: float = 0.5) -> BigramTask:
    """Dirichlet(alpha) transition rows; marginal = stationary distribution; triggers = k most frequent."""
    if N < 2 or not 1 <= k < N:
        raise ParameterError("k", f"an integer in [1, {N - 1}]", k)
    rng = np.random.default_rng(seed)
    transition = rng.dirichlet(np.full(N, alpha), size=N)
    # stationary distribution by power iteration (rows are dense, so the chain mixes fast)
    pi = np.full(N, 1.0 / N)
    for _ in range(1000):
        nxt = pi @ transition
        if np.max(np.abs(nxt - pi)) < 1e-15:
            break
        pi = nxt
    pi = pi / pi.sum()
    triggers = np.sort(np.argsort(-pi, kind="stable")[:k])
    return BigramTask(pi, transition, triggers)


def _categorical(rng, probs_rows: np.ndarray) -> np.ndarray:
    """One sample per row of ``probs_rows`` by the inverse CDF."""
    cdf = np.cumsum(probs_rows, axis=1)
    u = rng.random((probs_rows.shape[0], 1)) * cdf[:, -1:]
    return np.minimum((u > cdf).sum(axis=1), probs_rows.shape[1] - 1)


def sample_batch(task: BigramTask, batch: int, T: int, rng: np.random.Generator):
    """Sequences (batch, T): bigram chain except that a trigger q_j is always followed by o_j,
    the outputs o_j drawn per sequence from the marginal.  Returns (tokens, outputs)."""
    k = task.triggers.shape[0]
    outputs = _categorical(rng, np.broadcast_to(task.marginal, (batch * k, task.N))).reshape(batch, k)
    trigger_slot = np.full(task.N, -1)
    trigger_slot[task.triggers] = np.arange(k)
    z = np.empty((batch, T), dtype=np.int64)
    z[:, 0] = _categorical(rng, np.broadcast_to(task.marginal, (batch, task.N)))
    rows = np.arange(batch)
    for t in range(1, T):
        prev = z[:, t - 1]
        nxt = _categorical(rng, task.transition[prev])
        slot = trigger_slot[prev]
        is_trig = slot >= 0
        nxt[is_trig] = outputs[rows[is_trig], slot[is_trig]]
        z[:, t] = nxt
    return z, outputs


def copy_mask(task: BigramTask, z: np.ndarray) -> np.ndarray:
    """(batch, T-1) boolean: position t predicts z[t+1], z[t] is a trigger that occurred before t
    (so its output is in the context and an induction head can copy it)."""
    is_trig = np.isin(z, task.triggers)
    B, T = z.shape
    seen_before = np.zeros_like(is_trig)
    for q in task.triggers:
        occ = z == q
        earlier = np.cumsum(occ, axis=1) - occ  # occurrences strictly before t
        seen_before |= occ & (earlier > 0)
    return (is_trig & seen_before)[:, : T - 1]


def memory_margins(W_U: np.ndarray, W_O2: np.ndarray, W_V2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """m(y) = [W_U W_O2 W_V2 w_E(y)]_y - max_{j != y} [...]_j for every token y.

    W_U: (N, d) unembedding rows, W_O2, W_V2: (d, d), E: (N, d) embedding rows."""
    scores = E @ W_V2.T @ W_O2.T @ W_U.T  # (N_in, N_out): row y = logits of memory output for input y
    n = scores.shape[0]
    correct = scores[np.arange(n), np.arange(n)]
    others = scores.copy()
    others[np.arange(n), np.arange(n)] = -np.inf
    return correct - others.max(axis=1)


def first_below(values: np.ndarray, threshold: float) -> int:
    """First index with values <= threshold, or -1."""
    hits = np.flatnonzero(values <= threshold)
    return int(hits[0]) if hits.size else -1


def count_increases(values: np.ndarray, rel_tol: float = 1e-6) -> int:
    """Number of steps where the fixed-batch loss went up by more than a factor 1 + rel_tol."""
    v = np.asarray(values, dtype=float)
    return int(np.sum(v[1:] > v[:-1] * (1.0 + rel_tol)))


def oscillations(values: np.ndarray) -> int:
    """Number of sign changes of the increments (turning points) of a curve."""
    inc = np.sign(np.diff(np.asarray(values, dtype=float)))
    inc = inc[inc != 0]
    return int(np.sum(inc[1:] != inc[:-1]))


# ----------------------------------------------------------------------------------------------
# model (torch, imported lazily)


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


# ----------------------------------------------------------------------------------------------
# experiment


def _key(mode, d, eta):
    return f"{mode}_d{d}_eta{eta:g}"


@dataclass(frozen=True)
class AmTransformer:
    name: str = "am-transformer"
    summary: str = ("2-layer attention-only Transformer on bigrams with triggers (needs torch): "
                    "W_O^2 memory margins, large-step loss spikes")
    N: int = 65
    k: int = 5
    T: int = 256
    alpha: float = 0.5
    seed: int = 0
    wo2_d: int = 64
    wo2_etas: tuple = (20.0, 50.0, 100.0, 200.0)
    all_ds: tuple = (64, 128)
    all_etas: tuple = (2.0, 5.0, 10.0, 20.0)
    steps: int = 600
    batch: int = 32
    eval_batch: int = 32
    quick_steps: int = 150
    quick_batch: int = 16
    quick_wo2_etas: tuple = (20.0, 200.0)
    quick_all_ds: tuple = (64,)
    quick_all_etas: tuple = (2.0, 20.0)
    thresholds: tuple = (1.0, 0.5)  # copy-loss thresholds (nats)
    rise_tol: float = 0.01  # a loss increase counts when L_{t+1} > (1 + rise_tol) L_t

    def configs(self, quick: bool):
        wo2 = self.quick_wo2_etas if quick else self.wo2_etas
        ds = self.quick_all_ds if quick else self.all_ds
        etas = self.quick_all_etas if quick else self.all_etas
        return [("wo2", self.wo2_d, e) for e in wo2] + [("all", d, e) for d in ds for e in etas]

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        torch = _import_torch()
        from tqdm import tqdm

        plt = pyplot()

        torch.set_default_dtype(torch.float32)
        threads = torch.get_num_threads()
        timings = {}
        steps = self.quick_steps if quick else self.steps
        batch = self.quick_batch if quick else self.batch
        eval_batch = self.quick_batch if quick else self.eval_batch
        task = make_task(self.N, self.k, self.seed, self.alpha)
        configs = self.configs(quick)
        arrays = {"step": np.arange(steps + 1), "marginal": task.marginal, "transition": task.transition,
                  "triggers": task.triggers}
        summary = []
        bar = tqdm(total=steps * len(configs), desc="am-transformer", disable=not progress)
        for mode, d, eta in configs:
            start = time.perf_counter()
            run_seed = self.seed + 1  # same frozen weights, data stream and eval batch for every (mode, d, eta)
            out = train_run(task, mode, d, eta, steps, batch, self.T, run_seed, eval_batch, torch, bar)
            key = _key(mode, d, eta)
            timings[key] = time.perf_counter() - start
            for name, arr in out.items():
                arrays[f"{name}_{key}"] = arr
            mean_margin = out["margins"].mean(axis=1)
            ratio = out["loss"][1:] / out["loss"][:-1]
            summary.append({"mode": mode, "d": d, "eta": eta, "seed": run_seed,
                            "first_step_copy_loss_below": {f"{th:g}": first_below(out["copy_loss"], th)
                                                           for th in self.thresholds},
                            "loss_increases": count_increases(out["loss"], self.rise_tol),
                            "copy_loss_increases": count_increases(out["copy_loss"], self.rise_tol),
                            "max_loss_ratio": float(np.max(ratio)) if steps else 1.0,
                            "margin_turns": oscillations(mean_margin),
                            "final_loss": float(out["loss"][-1]), "final_copy_loss": float(out["copy_loss"][-1]),
                            "final_mean_margin": float(mean_margin[-1]),
                            "final_frac_positive_margins": float(np.mean(out["margins"][-1] > 0))})
        bar.close()
        figures = self._figures(plt, arrays, configs)
        params = {"N": self.N, "k": self.k, "T": self.T, "alpha": self.alpha, "steps": steps, "batch": batch,
                  "eval_batch": eval_batch, "quick": quick,
                  "copy_loss_thresholds": list(self.thresholds), "rise_tol": self.rise_tol,
                  "configs": [list(c) for c in configs], "triggers": task.triggers.tolist(),
                  "torch": torch.__version__, "torch_threads": threads, "dtype": "float32", "device": "cpu",
                  "summary": summary}
        seeds = [self.seed, self.seed + 1]
        return Reproduction(self.name, params, arrays, figures, self._report(summary, params), _LATEX, [],
                            timings, seeds)

    def _figures(self, plt, a, configs):
        groups = {}
        for mode, d, eta in configs:
            groups.setdefault((mode, d), []).append(eta)
        step = a["step"]
        fig_l, axes = plt.subplots(2, len(groups), figsize=(4.6 * len(groups), 6.4), squeeze=False)
        fig_m, axm = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.4), squeeze=False)
        for j, ((mode, d), etas) in enumerate(groups.items()):
            colors = plt.cm.plasma(np.linspace(0, 0.85, len(etas)))
            title = f"train W_O^2 only (induction head fixed), d={d}" if mode == "wo2" else f"train all, d={d}"
            for c, eta in zip(colors, etas):
                key = _key(mode, d, eta)
                axes[0, j].plot(step, a[f"loss_{key}"], color=c, lw=1.2, label=rf"$\eta$={eta:g}")
                axes[1, j].plot(step, a[f"copy_loss_{key}"], color=c, lw=1.2, label=rf"$\eta$={eta:g}")
                m = a[f"margins_{key}"]
                axm[0, j].plot(step, m.mean(axis=1), color=c, lw=1.4, label=rf"$\eta$={eta:g} mean")
                trig = a["triggers"]
                for y in range(min(3, m.shape[1])):
                    axm[0, j].plot(step, m[:, trig[y] if y < len(trig) else y], color=c, lw=0.5, alpha=0.6)
            for th in self.thresholds:
                axes[1, j].axhline(th, color="k", ls=":", lw=0.8)
            for ax, lab in ((axes[0, j], "loss (all positions)"), (axes[1, j], "loss (copy positions)")):
                ax.set_yscale("log")
                ax.set_ylabel(lab)
                ax.set_xlabel("SGD step")
                ax.legend(fontsize=7)
            axes[0, j].set_title(title, fontsize=9)
            axm[0, j].set_title(title, fontsize=9)
            axm[0, j].set_xlabel("SGD step")
            axm[0, j].set_ylabel("memory margin of W_O^2 (thin: 3 triggers)")
            axm[0, j].axhline(0, color="k", lw=0.6)
            axm[0, j].legend(fontsize=7)
        fig_l.tight_layout()
        fig_m.tight_layout()
        return {"loss": fig_l, "margins": fig_m}

    def _report(self, summary, p):
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Bigram task with triggers (Bietti et al. 2023): N = {p['N']} tokens, sequences of T = {p['T']}, "
                 f"transition rows ~ Dirichlet({p['alpha']:g}) (seed {self.seed}), first token and trigger outputs from "
                 f"the stationary distribution, k = {p['k']} triggers = the most frequent tokens {p['triggers']}; each "
                 "trigger's next token is drawn once per sequence.  Online plain SGD (no momentum) on the mean "
                 f"next-token cross-entropy, batch {p['batch']}, {p['steps']} steps, float32 CPU torch "
                 f"{p['torch']}.  Losses are measured every step on a fixed evaluation batch of {p['eval_batch']} "
                 "sequences, so a loss increase is an optimiser effect and not batch noise.  Copy positions: a "
                 "trigger whose output already occurred in the sequence.", "",
                 "Model: x_t = w_E(z_t) + p_t; x1 = x + W_O1 W_V1 (A1 x); x2 = x1 + W_O2 W_V2 (A2 x1); "
                 "logits = W_U x2.  Embeddings, positions, W_U, W_V1, W_V2, W_O1 are frozen N(0, 1/d) matrices.", "",
                 "Mode `wo2` (only W_O2 trained, from 0): A1 is fixed to the previous token and A2 attends uniformly "
                 "from position t to the positions s <= t with z_{s-1} = z_t (rows without such s output 0).  "
                 "This is the zero-temperature limit of the induction head that training builds (Bietti et al. 2023, Sec. 6): "
                 "with W_QK1 = beta * sum_t p_t p_{t-1}^T and beta -> infinity, layer 1 attends to the previous "
                 "token and writes W_O1 W_V1 w_E(z_{s-1}) into position s; with W_QK2 = beta * sum_y w_E(y) "
                 "(W_O1 W_V1 w_E(y))^T and beta -> infinity (sum over all tokens y; near-orthogonal random "
                 "embeddings), layer 2 at t picks exactly the s whose previous token equals z_t.  Fixing the limit removes the attention "
                 "dynamics, so at a copy position A2 x1 "
                 "contains w_E(o) for the trigger's output o, and the only trainable map W_O2 must send "
                 "W_V2 w_E(o) to w_U(o): it is an associative memory, with memory margin "
                 "m(y) = [W_U W_O2 W_V2 w_E(y)]_y - max_{j != y} [W_U W_O2 W_V2 w_E(y)]_j.", "",
                 "Mode `all`: W_QK1, W_QK2 (scores x_t^T W_QK x_s, causal softmax) and W_O2 trained from 0 "
                 "(uniform attention at the start).", "",
                 "| mode | d | eta | " + " | ".join(f"first step copy loss <= {th:g}" for th in self.thresholds)
                 + f" | loss increases (> {100 * self.rise_tol:g}%) | copy-loss increases | largest loss ratio "
                 "L_{t+1}/L_t | mean-margin turning points | final loss | final copy loss | final mean margin "
                 "| share of margins > 0 |",
                 "|---|---|---|" + "---|" * len(self.thresholds) + "---|---|---|---|---|---|---|---|"]
        for s in summary:
            firsts = " | ".join(str(v) if v >= 0 else "not reached" for v in s["first_step_copy_loss_below"].values())
            lines.append(f"| {s['mode']} | {s['d']} | {s['eta']:g} | {firsts} | "
                         f"{s['loss_increases']} | {s['copy_loss_increases']} | {s['max_loss_ratio']:.3g} | "
                         f"{s['margin_turns']} | {s['final_loss']:.4f} | {s['final_copy_loss']:.4f} | "
                         f"{s['final_mean_margin']:.3f} | {s['final_frac_positive_margins']:.2f} |")
        lines += ["", "Figures: `figures/loss.png` (loss on all and on copy positions per eta, log scale), "
                      "`figures/margins.png` (thick: mean memory margin of W_O2 over all 65 tokens; thin: the margins of "
                      "three trigger tokens, which are the most frequent tokens and hence the most frequent outputs).",
                  "", "The all-position loss has a floor (the bigram entropy cannot be learned by attention alone), "
                      "so the copy loss is the quantity the memory controls.", ""]
        return "\n".join(lines)


_LATEX = r"""\section*{am-transformer}
Two-layer attention-only Transformer, $x_t = w_E(z_t) + p_t$,
\begin{align}
x^1_t &= x_t + W_O^1 W_V^1 \textstyle\sum_{s \le t} A^1_{ts} x_s, &
x^2_t &= x^1_t + W_O^2 W_V^2 \textstyle\sum_{s \le t} A^2_{ts} x^1_s, &
\xi_t &= W_U x^2_t .
\end{align}
With the induction head fixed, $W_O^2$ is an associative memory and its margins are
\begin{equation}
m(y) = \bigl[W_U W_O^2 W_V^2 w_E(y)\bigr]_y - \max_{j \ne y} \bigl[W_U W_O^2 W_V^2 w_E(y)\bigr]_j .
\end{equation}
"""

AM_TRANSFORMER = AmTransformer()
EXPERIMENTS = (AM_TRANSFORMER,)
