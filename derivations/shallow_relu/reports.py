"""The markdown reports of the reproductions, from their JSON-ready results."""

from __future__ import annotations


def training_report(name: str, r: dict, timings: dict) -> str:
    """relu-exp-a/b/c: the plateau table, one line per plateau, the first escape, the perturbation
    certificate, conservation and float32."""
    lines = [f"# {name}", "", f"GD stopped at iteration {r['last_iteration']} ({r['status']}), final loss "
             f"{r['final_loss']:.6g}; float64 kernel {timings['gd_float64']:.2f} s.", "",
             "| plateau | iterations | loss (measured) | exact loss | stationary | escape neurons | classification |",
             "|---|---|---|---|---|---|---|"]
    for k, p in enumerate(r["plateaus"]):
        lines.append(f"| {k + 1} | {p['start']}-{p['end']} | {p['loss']:.6g} | {p['loss_exact']} | {p['stationary']} | "
                     f"{p['escape_neurons']} | {p['classification']} |")
    lines += ["", *[_plateau_line(k, p) for k, p in enumerate(r["plateaus"])],
              "", f"First escape: measured {r['escape_time_measured']:.4g}, predicted ln(1/sigma)/(2 lambda*) = "
              f"{r['escape_time_predicted']:.4g} (lambda* = {r['lambda_star']:.6g}), time = lr x iterations.",
              f"Perturbation certificate at the final point: min Delta loss = {r['perturbation_min_delta']:.3g} over "
              f"samples of amplitude {r['perturbation_amplitude']:.2g} ({r['perturbation_decreases']} decreased).",
              f"Conservation drift max |(||w_i||^2 - ||h_i||^2)(t) - (0)| = {r['conservation_drift_max']:.3g}."]
    if r["float32"]:
        lines.append(f"float32: final loss {r['float32']['final_loss']:.6g}, plateaus "
                     f"{[round(v, 6) for v in r['float32']['plateaus']]}.")
    lines += ["", "Figure `figures/training.png`: loss with plateaus (shaded; dotted: exact plateau values), neuron "
              "angles, ||w_i|| and h_i over iterations.", ""]
    return "\n".join(lines)


def _plateau_line(k: int, p: dict) -> str:
    return (f"- plateau {k + 1}: {p['reason']} ({p['report_mode']}; {len(p['groups'])} group(s), "
            f"{p['zero_neurons']} zero and {p['dead_neurons']} dead neurons"
            + (f"; classification by kink tolerance {p['kink_sensitivity']}" if p["kink_sensitivity"] else "")
            + (f"; exact: {p['exact_reason']}" if p["exact_reason"] else "") + ")")


def sweep_report(name: str, summary: str, members: list, r: dict, fit) -> str:
    """relu-sigma-sweep: one row per (mu, seed) run, and the fitted slope against 1/(2 lambda*)."""
    lines = [f"# {name}", "", summary, "", "| mu | sigma | seed | measured T1 | predicted T1 | ratio |",
             "|---|---|---|---|---|---|"]
    for (mu, _), seed, s, tm, tp in zip(members, r["seed"], r["sigma"], r["escape_time_measured"],
                                        r["escape_time_predicted"]):
        lines.append(f"| {mu} | {s:.3g} | {seed} | {tm:.4g} | {tp:.4g} | {tm / tp:.3f} |")
    lines += ["", f"Fit of measured T1 against ln(1/sigma): {r['fit']}; theory slope 1/(2 lambda*) = "
              f"{fit.predicted_slope:.6g}.", ""]
    return "\n".join(lines)
