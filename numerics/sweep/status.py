"""What a store holds: tasks done / total, the failed tasks with their errors, the definition."""

from __future__ import annotations

import json

from gradflow.numerics.sweep import store as zstore
from gradflow.numerics.sweep.plan import Plan


def sweep_status(store: str) -> dict:
    definition = zstore.stored_definition(store)
    attrs = zstore.attributes(store)
    plan = Plan(definition)
    flags = zstore.done_flags(store)
    return {"store": str(store), "target": definition.target, "tasks": plan.tasks, "done": int(flags.sum()),
            "complete": bool(flags.all()), "members": definition.members, "failed": zstore.failures(store),
            "definition": json.loads(definition.to_json()), "gradflow_version": attrs.get("gradflow_version"),
            "code_hash": attrs.get("code_hash"), "derivation_hash": attrs.get("derivation_hash"),
            "created": attrs.get("created")}
