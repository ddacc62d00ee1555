"""Transitional: the families not yet moved into a folder of their own, seen through the contract.

Removed once every family exports a Family of contract entries and experiments.
"""

from __future__ import annotations

import inspect

from gradflow.derivations.contract import Experiment, Family, ModelEntry, Parameter


class _Entry(ModelEntry):
    def __init__(self, old):
        self.old = old
        self.name, self.summary, self.methods = old.name, old.summary, tuple(old.methods)
        self.backends = tuple(getattr(old, "backends", ("cpu", "numpy")))
        self.parameters = tuple(Parameter(k.name, k.kind, k.default, k.constraint, "", k.check, k.choices)
                                for k in old.keys)

    def derivation(self):
        return self.old.derivation()

    def run(self, settings, method, steps, t_end, backend, progress):
        return self.old.simulate(settings, method, steps, t_end, backend, progress=progress)

    def checks(self, quick=True):
        return self.old.checks(quick=quick)


class _Experiment(Experiment):
    def __init__(self, old):
        self.old = old
        self.name, self.summary = old.name, old.summary
        self.backends = ("cpu", "cuda") if "backend" in inspect.signature(old.run).parameters else ("cpu",)

    def run(self, quick=False, progress=False, backend="cpu"):
        options = {"backend": backend} if backend != "cpu" else {}
        return self.old.run(quick=quick, progress=progress, **options)


def _family(name, entries=(), experiments=(), contributed=None):
    return Family(name, tuple(_Entry(e) for e in entries), tuple(_Experiment(e) for e in experiments),
                  contributed or {})


def _families():
    from gradflow.derivations import am_transformer, binary_memory, deep_linear, two_particle

    return (
        _family("two_particle", two_particle.ENTRIES, two_particle.EXPERIMENTS),
        _family("binary_memory", (), binary_memory.EXPERIMENTS, binary_memory.CHECKS),
        _family("am_transformer", (), am_transformer.EXPERIMENTS),
        _family("deep_linear", deep_linear.ENTRIES),
    )


FAMILIES = _families()
