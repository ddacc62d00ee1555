"""The CLI model ``expand-cluster``: Expand-and-Cluster on one EC-Toy-150 task.

``gradflow simulate expand-cluster --set activation=tanh,level=2,seed=0,rho=4`` trains N students of width
rho r* (``--method engine``: the MLP engine's Adam, then BFGS; ``code``: the reference Adam schedule
emulated), clusters them, assembles and fine-tunes the reconstruction, and compares it with the teacher.
``gradflow check expand-cluster`` runs the class derivation and the checks of ``checks``.
"""

from __future__ import annotations

from gradflow.derivations.contract import ModelEntry, Parameter
from gradflow.derivations.expand_cluster import checks
from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.numerics.expand_cluster.toy_tasks import TOY_ACTIVATIONS, TOY_LEVELS


class ExpandClusterEntry(ModelEntry):
    name = "expand-cluster"
    summary = ("Expand-and-Cluster: recover a network's width and weights from its input-output map by clustering "
               "overparameterised zero-loss students (one EC-Toy-150 task)")
    parameters = (
        Parameter("activation", "choice", "tanh", "one of " + ", ".join(TOY_ACTIVATIONS), "teacher activation",
                  choices=TOY_ACTIVATIONS),
        Parameter("level", "int", 1, "an integer in 1..5", "task level: (d, r*) = " + ", ".join(
            f"{k}: {v}" for k, v in TOY_LEVELS.items()), lambda v: v in TOY_LEVELS),
        Parameter("seed", "int", 0, "an integer >= 0", "task seed", lambda v: v >= 0),
        Parameter("rho", "int", 2, "an integer in [1, 16]", "student width / r*", lambda v: 1 <= v <= 16),
        Parameter("n_students", "int", 10, "an integer in [2, 100]", "students", lambda v: 2 <= v <= 100),
        Parameter("variant", "choice", "code", "code, robust or robust+fg",
                  "clustering variant (robust+fg: robust, the mean-ablation filter and the merge of split neurons)",
                  choices=("code", "robust", "robust+fg")),
        Parameter("maxtime", "float", 120.0, "a number > 0", "wall-time safety cap per training phase and student (s)",
                  lambda v: v > 0),
    )
    methods = ("engine", "code")
    default_length = {m: "the task's training schedule, capped by maxtime (--steps is not used)" for m in methods}
    backends = ("cpu",)
    cuda_methods = ()

    def derivation(self):
        return expand_cluster_derivation()

    def run(self, settings: dict, method: str, steps, t_end, backend: str, progress: bool) -> dict:
        import numpy as np

        from gradflow.numerics.expand_cluster.code_trainer import CodeSchedule
        from gradflow.numerics.expand_cluster.expansion import TrainerSettings, train_students
        from gradflow.numerics.expand_cluster.options import ClusteringOptions
        from gradflow.numerics.expand_cluster.pipeline import PipelineOptions, expand_and_cluster
        from gradflow.numerics.expand_cluster.toy_tasks import ToyTask, toy_success

        task = ToyTask(settings["activation"], settings["level"], settings["seed"])
        rho, cap = settings["rho"], settings["maxtime"]
        trainer = TrainerSettings(trainer=method, maxtime_ode=cap, maxtime_optim=cap,
                                  code=CodeSchedule(maxtime=cap * settings["n_students"]))
        network = task.network(rho * task.r_star)
        starts = np.array([task.student_init(rho, m) for m in range(settings["n_students"])])
        students = train_students(network, task.X, task.y, starts, trainer, progress=progress)
        options = PipelineOptions(clustering=ClusteringOptions(variant=settings["variant"]), finetune_maxtime_ode=cap,
                                  finetune_maxtime_optim=cap)
        result = expand_and_cluster(students, task.X, task.y, task.activation, options, teacher=task.teacher_weights())
        out = result.to_json(rho=rho, seeds=[settings["seed"]])
        if result.reconstruction is not None:
            (incoming, outgoing), = result.reconstruction.hidden()
            out["toy_success"] = toy_success(task, incoming, outgoing).to_json()
        return {"params": dict(settings), "method": method, "result": out}

    def checks(self, quick: bool = True) -> list:
        return checks.all_verdicts(expand_cluster_derivation(), quick)
