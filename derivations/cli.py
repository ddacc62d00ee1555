"""The ``gradflow`` command: list | derive | simulate | train | check | reproduce | bench | sweep | conjecture.

Every command takes --json.  Bad input exits with code 2 and one line naming the parameter
and the constraint; a diverging run exits with code 1 and names the step and quantity.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from gradflow import __version__
from gradflow.derivations import sweep_command
from gradflow.derivations.cli_tables import compare_table, simulation_table
from gradflow.derivations.contract import SMALL_WORK
from gradflow.derivations.output import dumps, shows_progress
from gradflow.derivations.registry import (checks, experiments, get_experiment, get_model, models,
                                           trainable_models)
from gradflow.derivations.report import prepare_output
from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.theory.errors import ParameterError, printable


JSON_HELP = "print the result as one JSON object (errors too)"
MODEL_HELP = "a model (`gradflow list` lists them)"
SET_HELP = "set one of the {}'s parameters (repeatable); `gradflow list NAME` lists them"


class _Parser(argparse.ArgumentParser):
    json_errors = False  # set by main when --json is among the arguments

    def error(self, message):  # one line, exit 2, no usage dump
        sys.exit(_fail(2, "usage", printable(message), "", _Parser.json_errors))


class _DeclaredHelp(argparse.Action):
    """``--help`` after a model or experiment name prints its declared parameters, methods and backends
    (generated from the declarations); without a name, the command's help and the list of names."""

    def __init__(self, option_strings, dest, lookup, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.lookup = lookup

    def __call__(self, parser, namespace, values, option_string=None):
        name = getattr(namespace, "name", None)
        table = self.lookup()
        if name in table:
            print(table[name].help_text())
        else:
            parser.print_help()
            print("\n" + "\n".join(f"  {n:16s} {item.summary}" for n, item in table.items()))
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradflow", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gradflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND",
                                title="commands", help="`gradflow COMMAND --help` for its options")

    p = sub.add_parser("list", help="models and experiments; with a NAME, its parameters, defaults and methods")
    p.add_argument("name", nargs="?", metavar="NAME", help="a model or experiment (default: list them all)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = sub.add_parser("derive", help="print the derivation of a model", add_help=False)
    p.add_argument("name", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("-h", "--help", action=_DeclaredHelp, lookup=models,
                   help="MODEL --help lists its parameters, methods and backends")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print a LaTeX document")
    fmt.add_argument("--markdown", action="store_true", help="print Markdown (the default)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = sub.add_parser("simulate", help="run a model's generated simulator", add_help=False)
    p.add_argument("name", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("-h", "--help", action=_DeclaredHelp, lookup=models,
                   help="MODEL --help lists its parameters, methods and backends")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP.format("MODEL"))
    p.add_argument("--method", help="default: the model's first method")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="steps of a discrete method (default: `gradflow list MODEL`)")
    length.add_argument("--t-end", type=float, dest="t_end",
                        help="end time of --method flow (default: `gradflow list MODEL`)")
    p.add_argument("--backend", choices=("auto", "cpu", "numpy", "cuda"), default="auto",
                   help="where the simulation runs; auto (default): numpy where the model offers it and the "
                        f"estimated work is at most {SMALL_WORK:.0e} operations (done before compiled kernels "
                        "would have loaded), else cpu (the generated, compiled kernels)")
    p.add_argument("--force", action="store_true", help="run work estimated beyond the limit (hours)")
    p.add_argument("--compare", action="store_true",
                   help="then hold the run against the model's derived laws and print the verdicts (JSON: "
                        "\"compare\"); exit 1 if one fails (`gradflow simulate MODEL --help` says what it compares)")
    p.add_argument("--json", action="store_true", help="print the full result (every record) as JSON")

    p = sub.add_parser("train", help="train a model to convergence (flow, then a polish)", add_help=False)
    p.add_argument("name", metavar="MODEL", help="a model that trains (`gradflow train --help` lists them)")
    p.add_argument("-h", "--help", action=_DeclaredHelp, lookup=trainable_models,
                   help="MODEL --help lists its parameters")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP.format("MODEL"))
    p.add_argument("--data", type=Path, metavar="F.npz", help="the training data instead of the model's own")
    p.add_argument("--init", type=Path, metavar="F.npz", help="the starting parameters")
    p.add_argument("--members", type=int, default=1, help="train an ensemble of this many members")
    p.add_argument("--method", default="flow", help="the dynamics of phase 1 (default flow)")
    p.add_argument("--out", type=Path, help="write result.npz and result.json into this folder")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = sub.add_parser("check", help="theory against simulation; exit 1 on any failure")
    p.add_argument("name", metavar="MODEL", help="a model name or 'all'")
    p.add_argument("--quick", action="store_true", help="the fast variant of each check (smaller, shorter runs)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = sub.add_parser("bench", help="side-by-side performance against peers")
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (about a minute)")
    p.add_argument("--cell", help="run only this benchmark cell (default: all)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = sub.add_parser("reproduce", help="write an experiment's report, figures, data and code", add_help=False)
    p.add_argument("name", metavar="EXPERIMENT", help="an experiment (`gradflow list` lists them)")
    p.add_argument("-h", "--help", action=_DeclaredHelp, lookup=experiments,
                   help="EXPERIMENT --help lists its parameters and backends")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP.format("EXPERIMENT"))
    p.add_argument("--out", default="results", help="the folder the report is written under (default results)")
    p.add_argument("--quick", action="store_true", help="a smaller, faster run; the report says so in its first line")
    p.add_argument("--backend", choices=("cpu", "cuda"), default="cpu", help="where the simulations run (default cpu)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    sweep_command.add_parsers(sub)
    p = sub.add_parser("conjecture", help="search a conjecture (TOML) for a counterexample; exit 1 when falsified")
    p.add_argument("file", nargs="?", metavar="FILE", help="a conjecture TOML file")
    p.add_argument("--example", metavar="NAME", help="a shipped example instead of FILE (--list-examples)")
    p.add_argument("--list-examples", action="store_true", dest="list_examples",
                   help="list the shipped example conjectures")
    p.add_argument("--budget", type=int, help="instances to try (default: the file's [search] budget)")
    p.add_argument("--seed", type=int, help="the search's seed (default: the file's)")
    p.add_argument("--max-time", type=float, dest="max_time", metavar="SECONDS", help="end the search after this")
    p.add_argument("--database", metavar="DIR", help="keep failures here; a re-run replays them first")
    p.add_argument("--at", action="append", default=[], metavar="KEY=VALUE",
                   help="evaluate the claim at this one instance (every parameter of the domain)")
    p.add_argument("--out", help="write the report folder (report.md, figures/, data.npz, metadata.json) here")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    return parser


def _list(args):
    if args.name is not None:
        return _list_one(args.name, args.json)
    if args.json:
        return {"models": {n: m.describe() for n, m in models().items()},
                "experiments": {n: e.describe() for n, e in experiments().items()}}
    lines = ["models:"] + [f"  {n:16s} {m.summary}" for n, m in models().items()]
    lines += ["experiments:"] + [f"  {n:16s} {e.summary}" for n, e in experiments().items()]
    print("\n".join(lines))


def _list_one(name: str, as_json: bool):
    """One model's or experiment's declarations: keys, kinds, defaults, constraints, meaning, methods
    and default lengths (a name may be both a model and an experiment)."""
    found = {kind: table[name] for kind, table in (("model", models()), ("experiment", experiments()))
             if name in table}
    if not found:
        raise ParameterError("NAME", "a model or experiment listed by `gradflow list`", name)
    if as_json:
        return {"name": name, **{kind: item.describe() for kind, item in found.items()}}
    print("\n\n".join(f"{kind} {item.help_text()}" for kind, item in found.items()))


def _derive(args):
    doc = get_model(args.name).derivation()
    if args.json:
        return {"model": args.name, "title": doc.title,
                "steps": [{"title": s.title, "latex": s.latex, "text": s.text, "checked_by": s.checked_by} for s in doc.steps]}
    print(doc.to_latex() if args.latex else doc.to_markdown())


def _simulate(args):
    from gradflow.derivations.warm_entries import find_entry

    entry = None if args.compare else find_entry(args.name)  # the entry's own module: no other family, no SymPy
    if entry is None:
        entry = get_model(args.name)
    settings = entry.parse_settings(args.set)
    if args.compare:
        entry.require_compare(args.method)  # before the work
    start = time.perf_counter()
    result = entry.simulate(settings, args.method, args.steps, args.t_end, args.backend,
                            progress=shows_progress(args.json), force=args.force)
    result["wall_time_s"] = time.perf_counter() - start
    verdicts = entry.compare(settings, args.method or entry.methods[0], result) if args.compare else []
    if args.json:
        if not args.compare:
            return result
        result["compare"] = {"passed": all(v.passed for v in verdicts), "verdicts": [v.to_dict() for v in verdicts]}
        _write(dumps(result) + "\n")
    else:
        print(simulation_table(result))
        if args.compare:
            print(compare_table(verdicts))
    return 1 if any(not v.passed for v in verdicts) else 0


def _train(args):
    table = trainable_models()
    if args.name not in table:
        raise ParameterError("MODEL", f"a model that trains: one of {', '.join(table)}", args.name)
    entry = table[args.name]
    settings = entry.parse_settings(args.set)
    out = prepare_output(args.out) if args.out is not None else None  # before the work
    result = entry.train(settings, data=args.data, init=args.init, members=args.members,
                         progress=shows_progress(args.json), method=args.method)
    folder = result.write(out) if out is not None else None
    if args.json:
        return dict(result.to_json(), **({"folder": str(folder)} if folder else {}))
    print(result.summary())
    if folder:
        print(f"wrote {folder}/ (result.npz, result.json)")


def _check(args):
    names = list(models()) if args.name == "all" else [get_model(args.name).name]
    verdicts = []
    for name in names:
        for verdict in checks(name, args.quick):
            verdicts.append((name, verdict))
            if not args.json:
                print(f"{name}: {verdict}", flush=True)
    failed = [v for _, v in verdicts if not v.passed]
    if args.json:
        print(dumps({"passed": not failed, "verdicts": [dict(v.to_dict(), model=n) for n, v in verdicts]}, indent=1))
    else:
        print(f"{len(verdicts) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _reproduce(args):
    experiment = get_experiment(args.name)
    settings = experiment.parse_settings(args.set)
    out = prepare_output(Path(args.out))  # before the work: a bad --out is known at once
    start = time.perf_counter()
    result = experiment.reproduce(settings, quick=args.quick, progress=shows_progress(args.json),
                                  backend=args.backend)
    result.timings["total"] = time.perf_counter() - start
    result.command = args.command_line
    folder = result.write(out)
    if args.json:
        return dict(result.to_json(), folder=str(folder))
    print(f"wrote {folder}/ (report.md, derivation.tex, figures/, data.npz, metadata.json, code/)")


def _bench(args):
    from gradflow.bench import run_bench

    report = run_bench(quick=args.quick, cell=args.cell, progress=shows_progress(args.json))
    if args.json:
        return report
    machine = report["machine"]
    cores = ", ".join(f"{library} {core}" for library, core in machine.get("blas_cores", {}).items() if core)
    print(f"machine: BLAS {machine['blas_gflops']:.1f} GFLOP/s (n = {machine['blas_size']}; OpenBLAS kernels: "
          f"{cores or 'unknown'}), exp {machine['exp_gelems_per_s']:.2f} Gelem/s")
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
        if "load" in cell:
            print(f"    load average {cell['load']['before']:.2f} before, {cell['load']['after']:.2f} after")
        if cell.get("notes", {}).get("load_differs"):
            print(f"    timed under different load (load average spread {cell['notes']['load_spread']:.2f}): "
                  "the ratios are not comparable")
        if "strategy" in cell.get("notes", {}):
            print(f"    strategy: {cell['notes']['strategy']['reason']}")
    return 0 if all(c["agree"] for c in report["cells"]) else 1


def _sweep(args):
    return sweep_command.run(args) if args.sweep_command == "run" else sweep_command.status(args)


def _conjecture(args):
    from gradflow.derivations import conjecture_command as command

    if args.list_examples:
        examples = command.list_examples()
        if args.json:
            return {"examples": examples}
        print("\n".join(f"  {e['name']:28s} {e['summary']}" for e in examples))
        return 0
    path = command.resolve(args.file, args.example)
    source = command.source_arguments(args.file, args.example)
    if args.at:
        conj, instance, outcome = command.run_at(path, args.at)
        if args.json:
            _write(dumps({"name": conj.name, "instance": instance, "outcome": outcome.to_dict()}) + "\n")
        else:
            print(f"{conj.name} at {', '.join(f'{k}={v!r}' for k, v in instance.items())}: {outcome}")
        return 1 if outcome.failed else 0
    if args.budget is not None and args.budget < 1:
        raise ParameterError("--budget", "an integer >= 1", args.budget)
    if args.seed is not None and args.seed < 0:
        raise ParameterError("--seed", "an integer >= 0", args.seed)
    out = prepare_output(Path(args.out)) if args.out else None
    conj, verdict, search = command.run_search(path, source, args.budget, args.seed, args.max_time, args.database,
                                               shows_progress(args.json))
    folder = command.write_report(conj, verdict, search, out) if out is not None else None
    if args.json:
        _write(dumps(dict(verdict.to_dict(), **({"folder": str(folder)} if folder else {}))) + "\n")
    else:
        print(verdict)
        if folder:
            print(f"wrote {folder}/ (report.md, figures/, data.npz, metadata.json, results.json)")
    return 1 if verdict.falsified else 0


COMMANDS = {"list": _list, "derive": _derive, "simulate": _simulate, "train": _train, "check": _check,
            "reproduce": _reproduce, "bench": _bench, "sweep": _sweep, "conjecture": _conjecture}


def _fail(code: int, kind: str, message: str, parameter: str, as_json: bool) -> int:
    """One line on stderr (or, with --json, one JSON object on stdout); the exit code."""
    if as_json:
        error = {"kind": kind, "message": message}
        if parameter:
            error["parameter"] = parameter
        _write(dumps({"error": error}) + "\n")
    else:
        sys.stderr.write(f"gradflow: {'error: ' if code == 2 else ''}{message}\n")
    return code


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv=None) -> int:
    """Exit codes: 0 done (also: no arguments, which prints the usage and the commands), 1 a run
    diverged, failed or ran out of memory, 2 bad input, 130 interrupted (Ctrl-C), 141 the output was
    closed early (``| head``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # a newcomer's first try: the usage and the command list, not an error
        _write(_parser().format_help())
        return 0
    as_json = _Parser.json_errors = "--json" in argv
    try:
        args = _parser().parse_args(argv)
        args.command_line = shlex.join(["gradflow", *argv])  # recorded in what the command writes
        result = COMMANDS[args.command](args)
        if isinstance(result, int):
            return result
        if result is not None:
            _write(dumps(result) + "\n")
        return 0
    except ParameterError as exc:
        return _fail(2, "parameter", str(exc), exc.parameter, as_json)
    except DivergenceError as exc:
        return _fail(1, "divergence", str(exc), "", as_json)
    except IntegrationError as exc:
        return _fail(1, "integration", str(exc), "", as_json)
    except MemoryError:
        return _fail(1, "memory", "out of memory: use smaller sizes or fewer recorded steps", "", as_json)
    except KeyboardInterrupt:
        return _fail(130, "interrupted", "interrupted", "", as_json)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except Exception as exc:
        if _caused_by_interrupt(exc):  # Ctrl-C arrived inside a call into compiled code, which then failed
            return _fail(130, "interrupted", "interrupted", "", as_json)
        raise


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _silence_stdout() -> None:
    """The reader closed the pipe: send what Python still wants to flush to /dev/null, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
