"""Our NLU components; the Rasa server imports this package when it loads the model.

That import also installs the once-compiled check of action-server replies
(components/action_results.py), a speed fix for Rasa 3.6.
"""

from components import action_results

action_results.install()
