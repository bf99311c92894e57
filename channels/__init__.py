"""Input channels of the Rasa server (listed in credentials.yml)."""
