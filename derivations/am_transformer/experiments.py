"""Experiment ``am-transformer``: a two-layer attention-only Transformer whose W_O^2 is an
associative memory.

Two-layer attention-only Transformer on the bigram-with-triggers task of Bietti et al. (2023),
"Birth of a Transformer" (gradflow.derivations.am_transformer.task).  Two modes:

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

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.am_transformer import figures
from gradflow.derivations.am_transformer.figures import run_key
from gradflow.derivations.am_transformer.model import import_torch, train_run
from gradflow.derivations.am_transformer.observables import count_increases, first_below, oscillations
from gradflow.derivations.am_transformer.task import make_task
from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.theory.latex import document


def _positive_ints(name, default, help_text):
    return Parameter(name, "int", default, "an integer >= 1", help_text, lambda v: v >= 1)


def _positive_list(name, kind, default, help_text):
    return Parameter(name, kind, default, "a comma list of numbers > 0", help_text,
                     lambda v: len(v) >= 1 and all(x > 0 for x in v))


@dataclass(frozen=True)
class AmTransformer(Experiment):
    name = "am-transformer"
    summary = ("2-layer attention-only Transformer on bigrams with triggers (needs torch): "
               "W_O^2 memory margins, large-step loss spikes")
    parameters = (
        Parameter("N", "int", 65, "an integer >= 2", "vocabulary size", lambda v: v >= 2),
        _positive_ints("k", 5, "number of trigger tokens (the k most frequent), below N"),
        _positive_ints("T", 256, "sequence length"),
        Parameter("alpha", "float", 0.5, "> 0", "Dirichlet concentration of the transition rows", lambda v: v > 0),
        Parameter("seed", "int", 0, ">= 0", "seed of the task; the runs use seed + 1", lambda v: v >= 0),
        _positive_ints("wo2_d", 64, "width d of the wo2 runs (only W_O^2 trained)"),
        _positive_list("wo2_etas", "floats", (20.0, 50.0, 100.0, 200.0), "SGD step sizes of the wo2 runs"),
        _positive_list("all_ds", "ints", (64, 128), "widths d of the runs that train everything"),
        _positive_list("all_etas", "floats", (2.0, 5.0, 10.0, 20.0), "SGD step sizes of those runs"),
        _positive_ints("steps", 600, "SGD steps per run"),
        _positive_ints("batch", 32, "sequences per SGD step"),
        _positive_ints("eval_batch", 32, "sequences of the fixed evaluation batch"),
    )

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

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        torch = import_torch()
        from tqdm import tqdm

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
            key = run_key(mode, d, eta)
            timings[key] = time.perf_counter() - start
            for name, arr in out.items():
                arrays[f"{name}_{key}"] = arr
            summary.append(self._summarise(out, mode, d, eta, run_seed, steps))
        bar.close()
        plots = {"loss": figures.losses(arrays, configs, self.thresholds), "margins": figures.margins(arrays, configs)}
        params = {"N": self.N, "k": self.k, "T": self.T, "alpha": self.alpha, "steps": steps, "batch": batch,
                  "eval_batch": eval_batch, "quick": quick,
                  "copy_loss_thresholds": list(self.thresholds), "rise_tol": self.rise_tol,
                  "configs": [list(c) for c in configs], "triggers": task.triggers.tolist(),
                  "torch": torch.__version__, "torch_threads": threads, "dtype": "float32", "device": "cpu",
                  "summary": summary}
        seeds = [self.seed, self.seed + 1]
        return Reproduction(self.name, params, arrays, plots, self._report(summary, params), DERIVATION_LATEX, [],
                            timings, seeds)

    def _summarise(self, out: dict, mode: str, d: int, eta: float, run_seed: int, steps: int) -> dict:
        mean_margin = out["margins"].mean(axis=1)
        ratio = out["loss"][1:] / out["loss"][:-1]
        return {"mode": mode, "d": d, "eta": eta, "seed": run_seed,
                "first_step_copy_loss_below": {f"{th:g}": first_below(out["copy_loss"], th) for th in self.thresholds},
                "loss_increases": count_increases(out["loss"], self.rise_tol),
                "copy_loss_increases": count_increases(out["copy_loss"], self.rise_tol),
                "max_loss_ratio": float(np.max(ratio)) if steps else 1.0,
                "margin_turns": oscillations(mean_margin),
                "final_loss": float(out["loss"][-1]), "final_copy_loss": float(out["copy_loss"][-1]),
                "final_mean_margin": float(mean_margin[-1]),
                "final_frac_positive_margins": float(np.mean(out["margins"][-1] > 0))}

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



DERIVATION_LATEX = document("am-transformer: the second layer's output matrix as an associative memory", r"""
Two-layer attention-only Transformer, $x_t = w_E(z_t) + p_t$,
\begin{align}
x^1_t &= x_t + W_O^1 W_V^1 \textstyle\sum_{s \le t} A^1_{ts} x_s, &
x^2_t &= x^1_t + W_O^2 W_V^2 \textstyle\sum_{s \le t} A^2_{ts} x^1_s, &
\xi_t &= W_U x^2_t .
\end{align}
These hold at every position $t$ of a sequence $z_1, z_2, \dots$, with causal attention weights
$A^l_{ts} \ge 0$, $\sum_{s \le t} A^l_{ts} = 1$ (a softmax over $s \le t$), for both layers $l = 1, 2$.
With the induction head fixed, $W_O^2$ is an associative memory and its margins are
\begin{equation}
m(y) = \bigl[W_U W_O^2 W_V^2 w_E(y)\bigr]_y - \max_{j \ne y} \bigl[W_U W_O^2 W_V^2 w_E(y)\bigr]_j .
\end{equation}
for every token $y$ of the vocabulary, the maximum over every other token $j \ne y$.
""")
