"""Rasa's prediction graphs run in plain Python, node after node, instead of through dask.

Rasa 3.6 runs the model's graph three times a message (NLU once, dialogue
twice) with dask's synchronous scheduler: it rebuilds the dask graph, orders it
and walks it each time, about 1.1 ms a message in `make profile`, for graphs
of a dozen nodes that never change. This runner calls the same nodes with the
same inputs: the order is worked out once for each set of targets and kept,
each node gets what dask would pass it (its parents' `(name, output)` pairs,
the given inputs as `(name, value)`, the bare name when nothing provides it),
and the result is the targets' outputs by name, as `DaskGraphRunner.run`
returns. Only the Rasa server's model loading uses it (install() below):
training keeps Rasa's dask runner, so the trained model is Rasa's own.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Optional, Text, Tuple

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

Plan = List[Text]  # the nodes to call, each after the nodes it needs


def plan(schema: GraphSchema, targets: Tuple[Text, ...], given: FrozenSet[Text]) -> Plan:
    """The nodes `targets` need, in an order that calls each after its parents; given inputs are not called."""
    order: Plan = []
    seen = set()

    def visit(name: Text) -> None:
        if name in seen or name in given or name not in schema.nodes:
            return
        seen.add(name)
        for parent in schema.nodes[name].needs.values():
            visit(parent)
        order.append(name)

    for target in targets:
        visit(target)
    return order


class InOrderGraphRunner(DaskGraphRunner):
    """DaskGraphRunner whose `run` calls the nodes itself, in an order worked out once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Tuple[Text, ...], FrozenSet[Text]], Plan] = {}

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        """What `DaskGraphRunner.run` returns for these inputs and targets."""
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        given = frozenset(inputs or ())
        order = self._plans.get((run_targets, given))
        if order is None:
            order = self._plans[(run_targets, given)] = plan(self._graph_schema, run_targets, given)
        results: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name in order:
                needs = self._graph_schema.nodes[name].needs.values()
                results[name] = self._instantiated_nodes[name](*(results.get(parent, parent) for parent in needs))
            return dict(results[target] for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error


def install() -> None:
    # The Rasa server creates its tracker store (ours, in components/) before it
    # loads the model, so this is in place for the first load.
    rasa.core.processor.DaskGraphRunner = InOrderGraphRunner
