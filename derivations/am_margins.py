"""Experiment am-margins (associative_memory spec section 6): margins grow like log t.

Full logit-particle GD on a random orthonormal instance (N = 6, M = 4, Zipf(1)) for
eta in {0.5, 5, 50}, against the scalar margin map, the log law and the loss law; the flow
against the Lambert closed form out to t = 1e8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.grids import log_steps, log_times
from gradflow.theory.models import associative_memory as am

from .am_instances import memory_instance, zipf_probabilities
from .associative_memory import derivation, logit_particle_simulator, margin_flow_simulator, margin_map_simulator
from .report import Reproduction, pyplot


@dataclass(frozen=True)
class AmMargins:
    name: str = "am-margins"
    summary: str = "margins vs log t and eta t L vs t on an orthonormal memory (GD eta in {0.5, 5, 50} and flow)"
    N: int = 6
    M: int = 4
    zipf: float = 1.0
    etas: tuple = (0.5, 5.0, 50.0)
    seed: int = 0

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        from tqdm import tqdm

        plt = pyplot()

        timings = {}
        T = 2_000 if quick else 20_000
        N, M = self.N, self.M
        p = zipf_probabilities(N, self.zipf)
        inst = memory_instance(N, M, 8, p, self.seed, orthogonal=True)
        record = log_steps(T, 60)
        t = record.astype(float)

        start = time.perf_counter()
        particles, lanes = logit_particle_simulator(), margin_map_simulator()
        flow_lanes = margin_flow_simulator()
        timings["compile_or_load"] = time.perf_counter() - start

        arrays = {"t": t, "p": p, "etas": np.array(self.etas)}
        start = time.perf_counter()
        for eta in tqdm(self.etas, desc="am-margins GD", disable=not progress):
            run = particles.gd(inst.initial_logits, inst.data, inst.labels, eta, T, record)
            theory = lanes.iterate(np.zeros((N, 1)), np.c_[p, np.full(N, M), np.full(N, eta)], T, record)
            arrays[f"margins_eta{eta:g}"] = run.margins
            arrays[f"loss_eta{eta:g}"] = run.loss
            arrays[f"margin_map_eta{eta:g}"] = theory.states[:, :, 0]
        timings["gd_runs"] = time.perf_counter() - start

        # the flow of the full system (RK4 on the logits) and the scalar flow in log-time
        start = time.perf_counter()
        flow_times = np.unique(np.concatenate(([0.0], np.logspace(-2, np.log10(T), 60))))
        full_flow = particles.flow(inst.initial_logits, inst.data, inst.labels, flow_times, step=0.02)
        long_times = log_times(1e8, 1e-2, 20)
        scalar_flow = flow_lanes.integrate(np.zeros((N, 1)), np.c_[p, np.full(N, M)], long_times, "logtime",
                                           rtol=1e-12, atol=1e-14)
        timings["flow_runs"] = time.perf_counter() - start
        closed = numeric_function(derivation().results["solution"].explicit, (am.t, am.p, am.M))
        arrays.update(flow_t=flow_times, flow_margins=full_flow.margins, flow_loss=full_flow.loss,
                      long_t=long_times, long_margins=scalar_flow.states[:, :, 0],
                      lambert_long=closed(long_times[:, None], p[None, :], float(M)),
                      lambert_flow=closed(flow_times[:, None], p[None, :], float(M)))

        figures = self._figures(plt, arrays, T)
        report = self._report(arrays, T)
        doc = derivation()
        return Reproduction(
            self.name,
            {"N": N, "M": M, "zipf": self.zipf, "etas": list(self.etas), "T": T, "seed": self.seed, "quick": quick,
             "labels": inst.labels.tolist(), "p": p.tolist(), "d": 8},
            arrays, figures, report, doc.to_latex(), [particles.path, lanes.path, flow_lanes.path], timings, [self.seed],
        )

    def _figures(self, plt, a, T):
        N, M, p = self.N, self.M, a["p"]
        colors = plt.cm.viridis(np.linspace(0, 0.9, N))
        t = a["t"]
        fig_m, axes = plt.subplots(1, len(self.etas) + 1, figsize=(4.2 * (len(self.etas) + 1), 3.6), sharey=False)
        for ax, eta in zip(axes, self.etas):
            m = a[f"margins_eta{eta:g}"]
            for x in range(N):
                ax.plot(t[1:], m[1:, x], color=colors[x], lw=1.6, label=f"p={p[x]:.2f}")
                ax.plot(t[1:], np.log(eta * M * p[x] * t[1:]), color=colors[x], ls="--", lw=0.8)
                ax.plot(t[1:], np.log(np.exp(eta * p[x]) + eta * M * p[x] * (t[1:] - 1)), color="k", ls=":", lw=0.7)
            ax.set_xscale("log")
            ax.set_title(rf"GD, $\eta$ = {eta:g}")
            ax.set_xlabel("step t")
        axes[0].set_ylabel("margin m(x)")
        axes[0].legend(fontsize=7, title="solid: simulated\ndashed: log(eta M p t)\ndotted: log(e^{eta p} + eta M p (t-1))", title_fontsize=7)
        ax = axes[-1]
        lt = a["long_t"][1:]
        for x in range(N):
            ax.plot(lt, a["long_margins"][1:, x], color=colors[x], lw=1.6)
            ax.plot(lt, a["lambert_long"][1:, x], color="k", ls=":", lw=0.8)
        ax.plot(a["flow_t"][1:], a["flow_margins"][1:, 0], "o", ms=2.5, color="tab:red", label="full logit flow (x=0)")
        ax.set_xscale("log")
        ax.set_title("gradient flow vs Lambert form")
        ax.set_xlabel("time t")
        ax.legend(fontsize=7)
        fig_m.tight_layout()

        fig_l, ax = plt.subplots(figsize=(5.2, 3.6))
        for eta in self.etas:
            ax.plot(t[1:], eta * t[1:] * a[f"loss_eta{eta:g}"][1:], lw=1.6, label=rf"$\eta$ = {eta:g}")
        ax.axhline(N * (M - 1) / M, color="k", ls="--", lw=1, label="N(M-1)/M")
        ax.set_xscale("log")
        ax.set_xlabel("step t")
        ax.set_ylabel(r"$\eta\, t\, L(W_t)$")
        ax.legend(fontsize=8)
        fig_l.tight_layout()
        return {"margins": fig_m, "eta_t_loss": fig_l}

    def _report(self, a, T):
        N, M, p = self.N, self.M, a["p"]
        lines = [f"# {self.name}", "", self.summary, "",
                 f"N = {N}, M = {M}, p = Zipf({self.zipf:g}), d = 8, random orthonormal E and U (seed {self.seed}), "
                 f"W_0 = 0, T = {T} steps.", "",
                 "| eta | max abs(margins - scalar map) | eta T L(W_T) | N(M-1)/M | max abs(m_T - log(eta M p T)) "
                 "| max abs(m_T - log(e^{eta p} + eta M p (T-1))) |",
                 "|---|---|---|---|---|---|"]
        for eta in self.etas:
            m, ref = a[f"margins_eta{eta:g}"], a[f"margin_map_eta{eta:g}"]
            law = np.log(eta * M * p * T)
            uniform = np.log(np.exp(eta * p) + eta * M * p * (T - 1))
            lines.append(f"| {eta:g} | {np.max(np.abs(m - ref)):.2e} | {eta * T * a[f'loss_eta{eta:g}'][-1]:.4f} | "
                         f"{N * (M - 1) / M:.4f} | {np.max(np.abs(m[-1] - law)):.3e} | {np.max(np.abs(m[-1] - uniform)):.3e} |")
        err_long = np.max(np.abs(a["long_margins"] - a["lambert_long"]))
        err_flow = np.max(np.abs(a["flow_margins"] - a["lambert_flow"]))
        lines += ["", f"Gradient flow: log-time DOPRI5 vs Lambert closed form up to t = 1e8: max abs error {err_long:.2e}; "
                      f"full logit-particle RK4 flow vs Lambert up to t = {T}: {err_flow:.2e}.", "",
                  "Figures: `figures/margins.png` (margins against log t with the log law, flow against the Lambert form), "
                  "`figures/eta_t_loss.png` (eta t L approaching N(M-1)/M for every eta).", "",
                  "The log law needs eta M p t >> e^{eta p}: at eta = 50 the first step already gives m_1 = eta p (up to 20), "
                  "so by T the frequent inputs still sit on the plateau the uniform approximation describes, and "
                  "eta T L is still below its limit.", ""]
        return "\n".join(lines)


AM_MARGINS = AmMargins()
