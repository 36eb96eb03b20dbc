"""kit.drift: PSI por feature, a tabela do lote e o PSI gravado que a API publica."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kit import _psi_file, data, drift, metrics


def _gauge(feature: str) -> float:
    return metrics.data_drift_psi.labels(feature=feature)._value.get()


def test_psi_is_zero_for_the_same_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(40, 10, 5000))
    assert drift.psi(reference, reference.copy()) == pytest.approx(0, abs=1e-9)
    small = drift.psi(reference, reference + 1)
    large = drift.psi(reference, reference + 10)
    assert 0 < small < drift.PSI_MODERATE < drift.PSI_SIGNIFICANT < large


def test_psi_counts_missing_values_and_new_categories():
    present = pd.Series([1.0, 2.0, 3.0, 4.0] * 250)
    with_gaps = present.copy()
    with_gaps[: len(with_gaps) // 3] = np.nan  # um terço ausente: faixa própria, não descartada
    assert drift.psi(present, with_gaps) > drift.PSI_SIGNIFICANT
    countries = pd.Series(["França"] * 500 + ["Espanha"] * 500)
    assert drift.psi(countries, pd.Series(["França"] * 500 + ["Alemanha"] * 500)) > drift.PSI_SIGNIFICANT


def test_check_finds_the_drift_of_batch_2_and_not_of_batch_1(kit_home):
    stable = drift.check("novos_1")["psi"]
    assert (stable["situacao"] != "drift").all(), stable
    result = drift.check("novos_2")
    table = result["psi"]
    assert list(table["psi"]) == sorted(table["psi"], reverse=True)
    assert table.iloc[0]["feature"] == "idade" and table.iloc[0]["situacao"] == "drift"
    assert _gauge("idade") == pytest.approx(table.iloc[0]["psi"])
    saved = json.loads(_psi_file.path().read_text(encoding="utf-8"))
    assert saved["lote"] == "novos_2" and saved["psi"]["idade"] == pytest.approx(table.iloc[0]["psi"])


def test_the_saved_psi_is_published_again_by_whoever_loads_it(kit_home):
    drift.check("novos_2")
    expected = json.loads(_psi_file.path().read_text(encoding="utf-8"))["psi"]
    for feature in expected:
        metrics.data_drift_psi.labels(feature=feature).set(0)
    assert drift.publish_saved() == pytest.approx(expected)
    assert _gauge("idade") == pytest.approx(expected["idade"])


@pytest.mark.parametrize("content", ["", "{não é json", "[]", '{"psi": 3}', '{"psi": {"idade": "alto"}}'])
def test_a_corrupted_saved_psi_publishes_nothing(kit_home, content):
    _psi_file.path().parent.mkdir(parents=True, exist_ok=True)
    _psi_file.path().write_text(content, encoding="utf-8")
    metrics.data_drift_psi.labels(feature="idade").set(-1)
    assert _psi_file.publish_saved() == {}
    assert _gauge("idade") == -1  # nada foi escrito por cima


def test_drift_methods_side_by_side_agree_on_age_and_disagree_where_the_lesson_says(kit_home):
    treino, lote1, lote2 = (data.load(b) for b in ("treino", "novos_1", "novos_2"))
    table2 = drift.compare_methods(treino, lote2).set_index("feature")
    assert table2.loc["idade", "psi"] > 0.2 and table2.loc["idade", "ks_pvalor"] < 1e-6
    assert table2.loc["idade", "wasserstein_dp"] > 0.1 and table2.loc["pais", "jensen_shannon"] > 0.1
    # saldo: PSI só "moderado", mas o KS dá p ≈ 0 e a regra do Evidently marca drift
    assert 0.1 < table2.loc["saldo_conta", "psi"] < 0.2 and table2.loc["saldo_conta", "ks_pvalor"] < 1e-6
    rule2 = drift.evidently_rule(treino, table2.reset_index()).to_numpy()
    assert set(table2.index[rule2]) == {"idade", "pais", "saldo_conta"}
    table1 = drift.compare_methods(treino, lote1)
    assert (table1["psi"] < 0.1).all() and not drift.evidently_rule(treino, table1).any()
    assert drift.evidently_report(treino, lote2) is None or hasattr(drift.evidently_report(treino, lote2), "dict")


def test_segment_psi_points_at_the_young_spanish_customers(kit_home):
    treino = data.load("treino")
    segments = drift.segment_psi(treino, data.load("novos_2"))
    assert len(segments) == 16 and segments.index[0] == ("Espanha", "ate_35")
    assert segments.iloc[0]["participacao_lote"] > 3 * segments.iloc[0]["participacao_treino"]
    assert (drift.segment_psi(treino, data.load("novos_1"))["psi"] < 0.02).all()
