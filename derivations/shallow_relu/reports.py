"""The markdown reports of the reproductions, from their JSON-ready results.

Numbers are written with 4 significant digits; neurons are numbered from 0 in the table and in the
text alike; every measured number that has a prediction is followed by the verdict and, where they
differ, the reason.
"""

from __future__ import annotations

import math

ESCAPE_DROP = 0.05  # the first escape is timed at the first 5% loss drop (measured_escape_time)
ESCAPE_SLOPE_TOLERANCE = 0.05  # relative error of the fitted slope accepted by the escape-slope check


def training_report(name: str, r: dict, timings: dict) -> str:
    """relu-exp-a/b/c: the plateau table, one line per plateau, the first escape, the perturbation
    certificate, conservation and float32."""
    lines = [f"# {name}", "", f"GD stopped at iteration {r['last_iteration']} ({r['status']}), final loss "
             f"{r['final_loss']:.4g}; float64 kernel {timings['gd_float64']:.2f} s.  Neurons are numbered from 0.",
             "", "| plateau | iterations | loss (measured) | exact loss | stationary | escape neurons | classification |",
             "|---|---|---|---|---|---|---|"]
    for k, p in enumerate(r["plateaus"]):
        escape = ", ".join(str(i) for i in p["escape_neurons"]) or "none"
        lines.append(f"| {k + 1} | {p['start']}-{p['end']} | {p['loss']:.4g} | {_exact_loss(p)} | {p['stationary']} | "
                     f"{escape} | {p['classification']} |")
    lines += ["", *[_plateau_line(k, p) for k, p in enumerate(r["plateaus"])], "", escape_sentence(r),
              f"Perturbation certificate at the final point: min Delta loss = {r['perturbation_min_delta']:.4g} over "
              f"samples of amplitude {r['perturbation_amplitude']:.2g} ({r['perturbation_decreases']} decreased).",
              f"Conservation drift max |(||w_i||^2 - ||h_i||^2)(t) - (0)| = {r['conservation_drift_max']:.4g}."]
    if r["float32"]:
        lines.append(f"float32: final loss {r['float32']['final_loss']:.4g}, plateaus "
                     f"{', '.join(f'{v:.4g}' for v in r['float32']['plateaus'])}.")
    lines += ["", "Figures: `figures/training.png` (loss with the plateaus shaded; dotted: each plateau's exact "
              "loss, its value and classification in the legend), `figures/neuron_angles.png`, "
              "`figures/neuron_norms.png` (||w_i||) and `figures/neuron_outputs.png` (h_i), over iterations on a "
              "log axis.", ""]
    return "\n".join(lines)


def _exact_loss(p: dict) -> str:
    if p["loss_exact"] is None:
        return "none"
    return p["loss_exact"] if len(p["loss_exact"]) <= 16 else f"{p['loss_exact_float']:.4g} (exact in results.json)"


def _plateau_line(k: int, p: dict) -> str:
    return (f"- plateau {k + 1}: {p['reason']} ({p['report_mode']}; {len(p['groups'])} group(s), "
            f"{p['zero_neurons']} zero and {p['dead_neurons']} dead neurons"
            + (f"; classification by kink tolerance {p['kink_sensitivity']}" if p["kink_sensitivity"] else "")
            + (f"; exact: {p['exact_reason']}" if p["exact_reason"] else "") + ")")


def offset_of_the_drop(r: dict) -> float:
    """The part of the O(1) term that timing a loss drop of ``escape_drop`` adds: ln(drop) / (4 lambda*)
    (the loss falls like sigma^2 e^(4 lambda* t) while the escaping neurons grow)."""
    return math.log(r["escape_drop"]) / (4 * r["lambda_star"])


def escape_sentence(r: dict) -> str:
    """The first escape time of one run against the law's leading term, with what a single run can tell."""
    measured, predicted = r["escape_time_measured"], r["escape_time_predicted"]
    if not math.isfinite(measured):
        return (f"First escape: not reached (the loss never fell by {r['escape_drop']:.0%}); predicted leading term "
                f"ln(1/sigma)/(2 lambda*) = {predicted:.4g} (lambda* = {r['lambda_star']:.4g}).")
    return (f"First escape (time = lr x iterations, at the first {r['escape_drop']:.0%} loss drop): measured "
            f"{measured:.4g}, the law's leading term ln(1/sigma)/(2 lambda*) = {predicted:.4g} (lambda* = "
            f"{r['lambda_star']:.4g}); difference {measured - predicted:.4g}.  Verdict: not a test of the law on its "
            f"own: the law T_1 = ln(1/sigma)/(2 lambda*) + O(1) fixes the slope in ln(1/sigma), not the O(1) term, "
            f"which holds the gap: timing a {r['escape_drop']:.0%} drop contributes ln({r['escape_drop']:g})/(4 lambda*)"
            f" = {offset_of_the_drop(r):.4g}, the rest comes from the initial overlap with the escape direction and "
            f"the end of the escape.  "
            f"The slope is tested across sigma by relu-sigma-sweep and by `gradflow check relu`.")


def fit_sentence(r: dict, runs: int) -> str:
    """The fitted escape law of a sigma sweep as a sentence, with its verdict against 1/(2 lambda*)."""
    fit = r["fit"]
    agrees = fit["relative_error"] <= ESCAPE_SLOPE_TOLERANCE
    return (f"Fitted law (least squares over {runs} runs): T_1 = {fit['slope']:.4g} ln(1/sigma) "
            f"{'-' if fit['intercept'] < 0 else '+'} {abs(fit['intercept']):.4g}.  The slope against the predicted "
            f"1/(2 lambda*) = {fit['predicted_slope']:.4g}: relative error {fit['relative_error']:.4g}, verdict: "
            f"{'agrees' if agrees else 'disagrees'} (tolerance {ESCAPE_SLOPE_TOLERANCE:g}).  The intercept is the "
            f"O(1) term the law leaves open; ln({r['escape_drop']:g})/(4 lambda*) = {offset_of_the_drop(r):.4g} of "
            f"it comes from timing a {r['escape_drop']:.0%} loss drop, the rest from the initial overlap with the "
            f"escape direction and the end of the escape.  So the ratio measured/predicted of one run is "
            f"{'below' if fit['intercept'] < 0 else 'above'} 1 and tends to 1 only as sigma -> 0.")


def sweep_report(name: str, summary: str, members: list, r: dict, fit) -> str:
    """relu-sigma-sweep: one row per (mu, seed) run, and the fitted slope against 1/(2 lambda*)."""
    lines = [f"# {name}", "", summary, "", "| mu | sigma | seed | measured T1 | predicted T1 | ratio |",
             "|---|---|---|---|---|---|"]
    for (mu, _), seed, s, tm, tp in zip(members, r["seed"], r["sigma"], r["escape_time_measured"],
                                        r["escape_time_predicted"]):
        lines.append(f"| {mu} | {s:.4g} | {seed} | {tm:.4g} | {tp:.4g} | {tm / tp:.4g} |")
    lines += ["", fit_sentence(r, len(members)), ""]
    return "\n".join(lines)
