"""Rasa's graphs run in plain Python, node after node, instead of through dask.

Rasa 3.6 runs its model graph three times a message (NLU once, dialogue twice)
with dask's synchronous scheduler: it rebuilds the dask graph, orders it and
walks it each time, about 1.1 ms a message in `make profile`, for graphs of
a dozen nodes that never change. This runs the same nodes with the same
inputs: the order is worked out once for each set of targets and kept, each
node gets what dask would pass it (its parents' `(name, output)` pairs, the
given inputs as `(name, value)`, the bare name when nothing provides it), and
the result is the targets' outputs by name, as `DaskGraphRunner.run` returns.
Installed when the Rasa server imports this package, like action_results.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, List, MutableMapping, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

# Rasa's own run, for the tests that compare the two.
dask_run = DaskGraphRunner.run

Plan = List[Text]  # the nodes to call, each after the nodes it needs
_plans: MutableMapping[DaskGraphRunner, Dict[Tuple[Tuple[Text, ...], frozenset], Plan]] = weakref.WeakKeyDictionary()


def plan(schema: GraphSchema, targets: Tuple[Text, ...], given: frozenset) -> Plan:
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


def run_in_order(
    self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
) -> Dict[Text, Any]:
    """What `DaskGraphRunner.run` returns for these inputs and targets."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    given = frozenset(inputs or ())
    plans = _plans.setdefault(self, {})
    order = plans.get((run_targets, given))
    if order is None:
        order = plans[(run_targets, given)] = plan(self._graph_schema, run_targets, given)
    results: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
    try:
        for name in order:
            needs = self._graph_schema.nodes[name].needs.values()
            results[name] = self._instantiated_nodes[name](*(results.get(parent, parent) for parent in needs))
        return dict(results[target] for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def install() -> None:
    DaskGraphRunner.run = run_in_order
