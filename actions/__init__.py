"""Custom actions for the JDM parent assistant (run by `rasa run actions`).

Importing the package checks every content file, so the action server
refuses to start on a broken file (the error names file, record and field).
"""

from jdm_content import validate_all

validate_all()
