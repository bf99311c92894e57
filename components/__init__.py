"""Our NLU components; the Rasa server imports this package when it loads the model.

That import also installs two speed fixes for Rasa 3.6: the compiled check of
action-server replies (components/action_results.py) and the graph run node by
node without dask (components/graph_runner.py). And Rasa's log lines that
quote a sender id name the conversation by a tag instead (components/log_privacy.py).
"""

from components import action_results, graph_runner, log_privacy

action_results.install()
graph_runner.install()
log_privacy.hide_sender_ids()
