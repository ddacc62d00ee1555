"""``gradflow sweep run TARGET ...`` and ``gradflow sweep status STORE``: the command side of
numerics.sweep (targets come from the families' declarations).

Exit codes: 0 the sweep is complete, 1 it is incomplete (tasks failed: ``sweep status`` lists them),
2 bad input (one line naming it; nothing is written when the input is bad).
"""

from __future__ import annotations

import sys

from gradflow.derivations.output import shows_progress
from gradflow.derivations.registry import get_sweep_target, sweep_targets
from gradflow.theory.errors import ParameterError, require

# gradflow.numerics.sweep (Dask, xarray, Zarr) is imported by the functions that run or read a sweep: the
# ``gradflow`` command builds this parser on every call, a warm ``simulate`` included


def add_parsers(sub) -> None:
    p = sub.add_parser("sweep", help="run a grid sweep on Dask into a Zarr store; status of a store")
    inner = p.add_subparsers(dest="sweep_command", required=True, parser_class=type(p), metavar="ACTION",
                             help="run (or resume) a sweep, or show a store's status")
    r = inner.add_parser("run", help="run or resume a sweep")
    r.add_argument("target", metavar="TARGET", nargs="?", help="a sweep target (see `gradflow sweep run --list`)")
    r.add_argument("--axis", action="append", default=[], metavar="NAME=VALUES",
                   help="a:b:n (linear), a:b:logn (log-spaced) or v1,v2,...; repeat for more axes")
    r.add_argument("--seeds", type=int, help="seeds per grid point (default 1)")
    r.add_argument("--base-seed", type=int, dest="base_seed", help="base of the SeedSequence (default 0)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting of the target")
    r.add_argument("--store", help="the Zarr store (folder or fsspec URL); an existing one is resumed")
    r.add_argument("--scheduler", help="'serial' (in-process) or a Dask address tcp://host:port "
                                       "(default: $DASK_SCHEDULER_ADDRESS, else a local cluster)")
    r.add_argument("--workers", type=int, help="processes of the local cluster (default: one per core)")
    r.add_argument("--task-size", type=int, dest="task_size", help="members per task (default: the target's)")
    r.add_argument("--config", help="the sweep as a TOML file (command-line options override it)")
    r.add_argument("--list", action="store_true", help="list the sweep targets and their parameters")
    r.add_argument("--json", action="store_true", help="print the result as one JSON object (errors too)")
    s = inner.add_parser("status", help="tasks done / total, failed tasks, the definition")
    s.add_argument("store", metavar="STORE", help="the Zarr store of a sweep (folder or fsspec URL)")
    s.add_argument("--json", action="store_true", help="print the result as one JSON object (errors too)")


def _settings(target, texts) -> dict:
    from gradflow.numerics.sweep import parse_values

    settings = {}
    for text in texts:
        require("=" in text, "--set", "KEY=VALUE", text)
        key, value = (t.strip() for t in text.split("=", 1))
        require(key in target.settings, "--set", f"a setting of {target.name}: one of "
                f"{', '.join(target.settings) or '(none)'}", key)
        (number,) = parse_values(value, key) if "," not in value and ":" not in value else (None,)
        require(number is not None, key, "one number", value)
        if isinstance(target.settings[key], int):
            require(number == int(number), key, "an integer", value)
            number = int(number)
        settings[key] = number
    return settings


def _list_targets(as_json: bool):
    table = {name: {"summary": t.summary, "parameters": dict(t.parameters), "settings": dict(t.settings),
                    "members_per_task": t.members_per_task} for name, t in sweep_targets().items()}
    if as_json:
        return {"targets": table}
    for name, t in table.items():
        print(f"{name:18s} {t['summary']}\n{'':18s} axes (default): "
              f"{', '.join(f'{k}={v:g}' for k, v in t['parameters'].items())}; settings: "
              f"{', '.join(f'{k}={v}' for k, v in t['settings'].items()) or '(none)'}")


def run(args):
    from gradflow.numerics.sweep import as_axis, load_config, parse_axis, sweep, sweep_status

    if args.list:
        return _list_targets(args.json)
    config = load_config(args.config) if args.config else {}
    name = args.target or config.get("target")
    require(name is not None, "TARGET", f"given (one of {', '.join(sweep_targets())})")
    target = get_sweep_target(name)
    axes = {k: as_axis(k, v) for k, v in config.get("axes", {}).items()}
    for text in args.axis:
        axis = parse_axis(text)
        axes[axis.name] = axis
    settings = dict(config.get("settings", {}))
    settings.update(_settings(target, args.set))
    store = args.store or config.get("store")
    require(store is not None, "--store", "given (a folder or fsspec URL for the Zarr store)")

    def started(info):
        if not args.json:
            where = f"dashboard {info['dashboard']}; " if info["dashboard"] else ""
            stale = info["took_over_lock_of"]
            note = f" (took over the stale lock of pid {stale.get('pid')})" if stale else ""
            print(f"sweep {name}: {where}{info['pending']} of {info['tasks']} tasks to run{note}", file=sys.stderr,
                  flush=True)

    ds = sweep(target, axes, seeds=args.seeds if args.seeds is not None else config.get("seeds", 1), store=store,
               scheduler=args.scheduler, workers=args.workers,
               base_seed=args.base_seed if args.base_seed is not None else config.get("base_seed", 0),
               settings=settings, members_per_task=args.task_size or config.get("members_per_task"),
               progress=shows_progress(args.json), on_start=started)
    status = sweep_status(store)
    result = {"store": str(store), "target": name, "tasks": status["tasks"], "done": status["done"],
              "complete": status["complete"], "computed_now": int(ds.attrs["tasks_computed"]),
              "already_done": int(ds.attrs["tasks_already_done"]), "failed": status["failed"],
              "members": status["members"]}
    if args.json:
        print_json(result)
    else:
        print(f"{name}: {status['done']} of {status['tasks']} tasks done ({result['computed_now']} now, "
              f"{result['already_done']} before), {len(status['failed'])} failed; store {store}")
    if not status["complete"]:
        sys.stderr.write(f"gradflow: sweep incomplete: {status['tasks'] - status['done']} of {status['tasks']} tasks "
                         f"not done (gradflow sweep status {store} lists the failures)\n")
        return 1
    return 0


def status(args):
    from gradflow.numerics.sweep import sweep_status

    from gradflow.numerics.sweep.store import exists

    if not exists(args.store):
        raise ParameterError("STORE", "an existing sweep store (a Zarr folder written by gradflow sweep)", args.store)
    info = sweep_status(args.store)
    if args.json:
        print_json(info)
    else:
        d = info["definition"]
        axes = ", ".join(f"{k} ({len(v)})" for k, v in d["axes"])
        print(f"{info['target']}: {info['done']} of {info['tasks']} tasks done"
              f"{' (complete)' if info['complete'] else ''}; {info['members']} members; axes {axes}; "
              f"seeds {d['seeds']}; settings {d['settings']}; gradflow {info['gradflow_version']}, "
              f"code {info['code_hash']}, derivation {info['derivation_hash']}, created {info['created']}")
        for key, error in info["failed"].items():
            print(f"  failed {key}: {error}")
    return 0 if info["complete"] else 1


def print_json(obj) -> None:
    from gradflow.derivations.output import dumps

    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()
