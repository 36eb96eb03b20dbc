"""Sua vez 7.2 (vários workers): referência → ok; intocada → todo; respostas plausíveis erradas → dica."""
from __future__ import annotations

import pytest

from kit import tasks
from kit.tasks import week7

REF = {"api_active_requests": "livesum", "api_predictions_loaded": "livemin",
       "churn_predictions_high_risk": "livemostrecent"}


def test_reference_matches_kit_metrics_and_is_ok():
    assert week7.reference_modes() == REF
    assert week7.multiprocess_modes(dict(REF)) == REF
    assert tasks.outcomes["7.2"].status == "ok"


@pytest.mark.parametrize("untouched", [None, ...])
def test_untouched_is_todo(untouched):
    assert week7.multiprocess_modes(untouched) == REF
    assert tasks.outcomes["7.2"].status == "todo"


@pytest.mark.parametrize("change, hint", [
    ({"api_active_requests": "sum"}, "'sum' mostraria 6, e o certo é 4"),            # conta o worker morto
    ({"churn_predictions_high_risk": "livesum"}, "'livesum' mostraria 700"),        # soma cópias do lote
    ({"api_predictions_loaded": "livemax"}, "'livemax' mostraria 2000, e o certo é 0"),  # esconde o degradado
    ({"api_active_requests": "soma"}, "não é um multiprocess_mode"),
])
def test_plausible_wrong_answers_get_a_hint(change, hint):
    assert week7.multiprocess_modes({**REF, **change}) == REF
    outcome = tasks.outcomes["7.2"]
    assert outcome.status == "wrong" and hint in outcome.message, outcome.message
