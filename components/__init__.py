"""Our NLU components; the Rasa server imports this package when it loads the model.

That import also installs two speed fixes for Rasa 3.6: the compiled check of
action-server replies (components/action_results.py) and the graph run node by
node without dask (components/graph_runner.py).
"""

from components import action_results, graph_runner

action_results.install()
graph_runner.install()
