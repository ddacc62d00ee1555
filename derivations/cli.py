"""The ``gradflow`` command: list | derive | simulate | check | reproduce | bench.

Every command takes --json.  Bad input exits with code 2 and one line naming the parameter
and the constraint; a diverging run exits with code 1 and names the step and quantity.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

from gradflow import __version__
from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.theory.errors import ParameterError

from .base import parse_settings
from .registry import checks, experiments, get_experiment, get_model, models


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        sys.stderr.write(f"gradflow: error: {message}\n")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradflow", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gradflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="models and experiments")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("derive", help="print the derivation of a model")
    p.add_argument("model")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true")
    fmt.add_argument("--markdown", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("simulate", help="run a model's generated simulator")
    p.add_argument("model")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--method", default="gd")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int)
    length.add_argument("--t-end", type=float, dest="t_end")
    p.add_argument("--backend", choices=("cpu", "numpy", "cuda"), default="cpu")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("check", help="theory against simulation; exit 1 on any failure")
    p.add_argument("model", help="a model name or 'all'")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bench", help="side-by-side performance against peers (specs/performance.md)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cell")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("reproduce", help="write an experiment's report, figures, data and code")
    p.add_argument("experiment")
    p.add_argument("--out", default="results")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--backend", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--json", action="store_true")
    return parser


def _list(args):
    table = {"models": {n: m.summary for n, m in models().items()},
             "experiments": {n: e.summary for n, e in experiments().items()}}
    if args.json:
        return table
    lines = ["models:"] + [f"  {n:16s} {s}" for n, s in table["models"].items()]
    lines += ["experiments:"] + [f"  {n:16s} {s}" for n, s in table["experiments"].items()]
    print("\n".join(lines))


def _derive(args):
    doc = get_model(args.model).derivation()
    if args.json:
        return {"model": args.model, "title": doc.title,
                "steps": [{"title": s.title, "latex": s.latex, "text": s.text, "checked_by": s.checked_by} for s in doc.steps]}
    print(doc.to_latex() if args.latex else doc.to_markdown())


def _simulate(args):
    entry = get_model(args.model)
    settings = parse_settings(entry.keys, args.set)
    if args.method not in entry.methods:
        raise ParameterError("--method", f"one of {', '.join(entry.methods)} for {entry.name}", args.method)
    if args.steps is not None and args.steps < 0:
        raise ParameterError("--steps", "an integer >= 0", args.steps)
    if args.t_end is not None and not args.t_end > 0:
        raise ParameterError("--t-end", "a number > 0", args.t_end)
    if args.method == "flow" and args.steps is not None:
        raise ParameterError("--steps", "not used with --method flow (give --t-end)")
    if args.method != "flow" and args.t_end is not None:
        raise ParameterError("--t-end", "used only with --method flow (give --steps)")
    if args.backend == "cuda":
        _require_cuda_backend("cuda" in getattr(entry, "backends", ("cpu", "numpy")), entry.name, "cpu or numpy")
    start = time.perf_counter()
    result = entry.simulate(settings, args.method, args.steps, args.t_end, args.backend, progress=not args.json)
    result["wall_time_s"] = time.perf_counter() - start
    if args.json:
        return result
    _summarise(result)


def _summarise(result):
    print(f"parameters: {json.dumps(result['params'])}")
    t = result["t"]
    for key, value in result.items():
        if key in ("params", "t", "wall_time_s") or not isinstance(value, list) or not value:
            continue
        last = value[-1]
        shown = ", ".join(f"{v:.6g}" for v in last) if isinstance(last, list) else f"{last:.6g}"
        print(f"{key} at t = {t[-1]:g}: {shown}")
    print(f"wall time: {result['wall_time_s']:.3f} s")


def _check(args):
    names = list(models()) if args.model == "all" else [get_model(args.model).name]
    verdicts = []
    for name in names:
        for verdict in checks(name, args.quick):
            verdicts.append((name, verdict))
            if not args.json:
                print(f"{name}: {verdict}", flush=True)
    failed = [v for _, v in verdicts if not v.passed]
    if args.json:
        print(json.dumps({"passed": not failed, "verdicts": [dict(v.to_dict(), model=n) for n, v in verdicts]}, indent=1))
    else:
        print(f"{len(verdicts) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _reproduce(args):
    experiment = get_experiment(args.experiment)
    options = {}
    if args.backend != "cpu":
        _require_cuda_backend("backend" in inspect.signature(experiment.run).parameters, experiment.name, "cpu")
        options["backend"] = args.backend
    start = time.perf_counter()
    result = experiment.run(quick=args.quick, progress=not args.json, **options)
    result.timings["total"] = time.perf_counter() - start
    folder = result.write(Path(args.out))
    if args.json:
        return dict(result.to_json(), folder=str(folder))
    print(f"wrote {folder}/ (report.md, derivation.tex, figures/, data.npz, metadata.json, code/)")


def _require_cuda_backend(supported: bool, name: str, alternatives: str) -> None:
    """--backend cuda: the model or experiment must have a CUDA path, and a GPU (or the simulator) must exist."""
    if not supported:
        raise ParameterError("--backend", f"{alternatives} for {name} (cuda runs am-two-particle, am-orthogonal and "
                             "am-random --method gd, and am-phase)", "cuda")
    from gradflow.numerics.drivers.cuda import require_cuda

    require_cuda()


def _bench(args):
    from gradflow.bench import run_bench

    report = run_bench(quick=args.quick, cell=args.cell, progress=not args.json)
    if args.json:
        return report
    machine = report["machine"]
    print(f"machine: BLAS {machine['blas_gflops']:.1f} GFLOP/s (n = {machine['blas_size']}), "
          f"exp {machine['exp_gelems_per_s']:.2f} Gelem/s")
    for cell in report["cells"]:
        if cell.get("skipped"):
            print(f"{cell['name']}: skipped: {cell['skipped_implementations'].get('cell', '')}")
            continue
        times = ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in cell["times"].items())
        ratios = ", ".join(f"{k} {v:.2f}x" for k, v in cell["ratios"].items())
        ceiling = {"blas": "BLAS", "exp": "exp"}.get(cell.get("ceiling"), "BLAS")
        extra = f"; {cell['fraction_of_ceiling']:.0%} of the {ceiling} ceiling" if cell["fraction_of_ceiling"] else ""
        print(f"{cell['name']}: agree={cell['agree']} (max rel diff {cell['max_rel_diff']:.1e}); {times}")
        scaled = cell.get("scaled_implementations") or {}
        if scaled:
            print(f"    timed on fewer steps and scaled linearly: {', '.join(map(str, scaled))}")
        if ratios:
            print(f"    peer/gradflow: {ratios}{extra}")
        for impl, why in cell["skipped_implementations"].items():
            print(f"    skipped {impl}: {why}")
    return 0 if all(c["agree"] for c in report["cells"]) else 1


COMMANDS = {"list": _list, "derive": _derive, "simulate": _simulate, "check": _check, "reproduce": _reproduce,
            "bench": _bench}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = COMMANDS[args.command](args)
    except ParameterError as exc:
        sys.stderr.write(f"gradflow: error: {exc}\n")
        return 2
    except (DivergenceError, IntegrationError) as exc:
        sys.stderr.write(f"gradflow: {exc}\n")
        return 1
    if isinstance(result, int):
        return result
    if result is not None:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
