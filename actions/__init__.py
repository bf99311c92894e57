"""Custom actions for the JDM parent assistant (run by `rasa run actions`)."""
