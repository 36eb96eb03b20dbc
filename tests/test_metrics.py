import importlib

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from kit import metrics


def _families():
    return {f.name: f for f in text_string_to_metric_families(metrics.exposition())}


def test_whole_contract_is_exposed_with_type_and_labels():
    metrics.publish_model({"version": "vX", "trained_at": "t", "f2": 0.8, "auc": 0.9})
    metrics.data_drift_psi.labels(feature="idade").set(0.01)
    # semana 5: as séries por versão e por segmento só existem depois de uma junção de rótulos (kit.labels)
    for gauge in (metrics.model_label_coverage, metrics.model_window_f2_score, metrics.model_window_recall,
                  metrics.model_window_precision, metrics.model_window_score_avg, metrics.model_window_high_risk_share):
        gauge.labels(version="vX").set(0.5)
    metrics.model_segment_f2_score.labels(pais="Espanha", faixa_etaria="ate_35").set(0.3)
    metrics.model_segment_labels.labels(pais="Espanha", faixa_etaria="ate_35").set(300)
    metrics.data_drift_segment_psi.labels(pais="Espanha", faixa_etaria="ate_35").set(0.2)
    metrics.data_quality_issues_total.labels(feature="idade", issue="ausente")
    families = _families()
    for name, (kind, labels) in metrics.CONTRACT.items():
        family_name = name.removesuffix("_total")
        assert family_name in families, name
        family = families[family_name]
        # No formato texto do Prometheus um Info é exposto como gauge "<nome>_info" de valor 1.
        assert family.type == ("gauge" if kind == "info" else kind), (name, family.type)
        sample_labels = {k for s in family.samples for k in s.labels} - {"le"}
        assert sample_labels == set(labels), (name, sample_labels)


def test_expected_series_start_at_zero():
    text = metrics.exposition()
    for level in metrics.LEVELS:
        assert f'model_predictions_total{{level="{level}"}}' in text
        assert f'churn_predictions_by_level{{level="{level}"}}' in text
    assert 'api_errors_total{endpoint="/churn/{id_cliente}",method="GET",status_code="500"}' in text


def test_helpers_are_idempotent_and_clash_in_portuguese():
    registry = CollectorRegistry()
    first = metrics.counter("consultas_por_pais_total", "doc", ("pais",), registry=registry)
    again = metrics.counter("consultas_por_pais_total", "doc", ("pais",), registry=registry)
    assert first is again
    with pytest.raises(metrics.MetricaEmConflito, match="Já existe a métrica"):
        metrics.gauge("consultas_por_pais_total", "doc", registry=registry)
    with pytest.raises(metrics.MetricaEmConflito, match="labels"):
        metrics.counter("consultas_por_pais_total", "doc", ("regiao",), registry=registry)
    assert metrics.unregister("consultas_por_pais_total", registry=registry)
    assert metrics.counter("consultas_por_pais_total", "doc", registry=registry) is not first


def test_reimport_does_not_duplicate():
    before = metrics.api_requests_total
    reloaded = importlib.reload(metrics)
    assert reloaded.api_requests_total is before
    assert reloaded.exposition().count("# TYPE api_requests_total counter") == 1
