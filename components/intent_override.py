"""Overriding the classifier's intent from a component later in the pipeline."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, intent: str, confidence: float) -> None:
    """Make `intent` the prediction and the top of the ranking, keeping the rest of the ranking.

    The rest stays so that actions (the fallback's topic suggestions) and the
    logs can still see what the classifier thought.
    """
    top = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(top)] + ranking, add_to_output=True)
