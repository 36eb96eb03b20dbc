"""A API real, numa thread, sobre sockets reais (via kit.runner)."""
from __future__ import annotations

import time

import httpx
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kit import metrics, runner
from kit.api import create_app
from tests._tools import free_port

CLIENTE = {"pais": "Alemanha", "genero": "Feminino", "idade": 52, "anos_cliente": 2, "saldo_conta": 90000.0,
           "numero_produtos": 3, "cartao_credito": "Sim", "salario_estimado": 80000.0, "escore_credito": 610}


def _samples(api) -> dict[tuple, float]:
    """Lê /metrics pela rede, como o Prometheus faz."""
    text = httpx.get(f"{api.url}/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _known_ids(api, n):
    return list(api.app.state.service.predictions)[:n]


def test_counters_rise_by_exactly_n(api):
    ids = _known_ids(api, 7)
    before = _samples(api)
    with httpx.Client(base_url=api.url) as client:
        for i in ids:
            assert client.get(f"/churn/{i}").status_code == 200
        for _ in range(5):
            assert client.get("/churn/12345").status_code == 404
        for _ in range(3):
            assert client.get("/churn/abc").status_code == 422
        for _ in range(2):
            assert client.post("/predict", json=CLIENTE).status_code == 200
    after = _samples(api)
    ep = "/churn/{id_cliente}"
    delta = lambda name, **lb: _value(after, name, **lb) - _value(before, name, **lb)  # noqa: E731
    assert delta("api_requests_total", method="GET", endpoint=ep, status_code="200") == 7
    assert delta("api_requests_total", method="GET", endpoint=ep, status_code="404") == 5
    assert delta("api_requests_total", method="GET", endpoint=ep, status_code="422") == 3
    assert delta("api_requests_total", method="POST", endpoint="/predict", status_code="200") == 2
    assert delta("api_errors_total", method="GET", endpoint=ep, status_code="404") == 5
    assert delta("api_errors_total", method="GET", endpoint=ep, status_code="422") == 3
    assert delta("api_errors_total", method="GET", endpoint=ep, status_code="200") == 0
    assert delta("api_request_duration_seconds_count", method="GET", endpoint=ep) == 15
    assert delta("model_cache_hits_total") == 7
    assert delta("model_cache_misses_total") == 5
    served = sum(delta("model_predictions_total", level=lv) for lv in metrics.LEVELS)
    assert served == 9
    assert _value(after, "api_active_requests") == 1  # só o próprio GET /metrics em andamento


def test_unbounded_values_never_become_labels(api):
    with httpx.Client(base_url=api.url) as client:
        client.get("/churn/40000000")
        client.get("/caminho/qualquer/0")  # cria as séries de 'none' uma única vez
        client.get("/metrics")  # o próprio GET /metrics cria as séries dele depois de responder
        before = set(_samples(api))
        for i in range(300):
            client.get(f"/churn/{50_000_000 + i}")
            client.get(f"/caminho/qualquer/{i}")
    after = _samples(api)
    assert set(after) == before, set(after) ^ before
    label_values = {v for (_, labels) in after for (_, v) in labels}
    assert not any(str(50_000_000 + i) in label_values for i in range(300))
    assert not any("/caminho" in v for v in label_values)


def test_histogram_buckets_reach_past_two_seconds(api):
    buckets = {dict(labels).get("le") for (name, labels) in _samples(api) if name.endswith("_bucket")}
    assert {"2.0", "2.5", "5.0"} <= buckets


@pytest.mark.parametrize("path,status,fragment", [
    ("/churn/12345678", 404, "não está no lote"),
    ("/churn/abc", 422, "número inteiro"),
    ("/churn/0", 422, "maior que 0"),
    ("/churn/-3", 422, "maior que 0"),
    ("/churn/1.5", 422, "número inteiro"),
    ("/churn/999999999999999999999999", 422, "menor ou igual"),
    ("/churn/..%2F..%2Fetc%2Fpasswd", 404, "Rota não encontrada"),
    ("/churn/%00", 422, "número inteiro"),
    ("/nao/existe", 404, "Rota não encontrada"),
])
def test_bad_paths_get_portuguese_4xx(api, path, status, fragment):
    r = httpx.get(api.url + path)
    assert r.status_code == status
    body = r.json()
    assert fragment in body["mensagem"]
    assert body["request_id"]
    assert "Traceback" not in r.text and "/work/" not in r.text


@pytest.mark.parametrize("body,field", [
    ({k: v for k, v in CLIENTE.items() if k != "idade"}, "idade"),
    ({**CLIENTE, "idade": "velho"}, "idade"),
    ({**CLIENTE, "idade": 7}, "idade"),
    ({**CLIENTE, "pais": "Brasil"}, "pais"),
    ({**CLIENTE, "numero_produtos": 9}, "numero_produtos"),
    ({**CLIENTE, "saldo_conta": 1e300}, "saldo_conta"),
    ({**CLIENTE, "extra": 1}, "extra"),
    ({**CLIENTE, "id_cliente": -1}, "id_cliente"),
])
def test_predict_rejects_bad_bodies_naming_the_field(api, body, field):
    r = httpx.post(f"{api.url}/predict", json=body)
    assert r.status_code == 422
    assert field in {c["campo"] for c in r.json()["campos"]}


@pytest.mark.parametrize("raw,ctype", [
    (b'{"idade": NaN}', "application/json"),
    (b'{"saldo_conta": Infinity}', "application/json"),
    (b"{nao e json", "application/json"),
    (b"[]", "application/json"),
    (b"idade=3", "text/plain"),
])
def test_predict_malformed_json_is_422_not_500(api, raw, ctype):
    r = httpx.post(f"{api.url}/predict", content=raw, headers={"content-type": ctype})
    assert r.status_code == 422, r.text
    assert r.json()["erro"] == "entrada_invalida"


def test_predict_scores_one_customer(api):
    r = httpx.post(f"{api.url}/predict", json={**CLIENTE, "id_cliente": 12345678})
    assert r.status_code == 200
    body = r.json()
    assert 0 <= body["risco"] <= 1 and body["nivel"] in metrics.LEVELS and body["id_cliente"] == 12345678


def test_fault_injection_makes_5xx_and_latency(api):
    ep = "/churn/{id_cliente}"
    known = _known_ids(api, 1)[0]
    before = _samples(api)
    api.app.state.faults.error_rate = 1.0
    try:
        statuses = [httpx.get(f"{api.url}/churn/{known}").status_code for _ in range(4)]
    finally:
        api.app.state.faults.error_rate = 0.0
    assert statuses == [500] * 4
    after = _samples(api)
    assert (_value(after, "api_errors_total", method="GET", endpoint=ep, status_code="500")
            - _value(before, "api_errors_total", method="GET", endpoint=ep, status_code="500")) == 4
    r = httpx.post(f"{api.url}/admin/falhas", json={"latencia_s": 0.3, "taxa_erro": 0})
    assert r.status_code == 200
    try:
        start = time.perf_counter()
        assert httpx.get(f"{api.url}/churn/{known}").status_code == 200
        assert time.perf_counter() - start >= 0.3
    finally:
        httpx.post(f"{api.url}/admin/falhas", json={"latencia_s": 0, "taxa_erro": 0})


def test_degraded_without_model_or_predictions(tmp_path):
    app = create_app(models_dir=tmp_path / "vazio", predictions_path=tmp_path / "nada.csv")
    server = runner.start(port=free_port(), app=app)
    try:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "degradado"
        assert "python -m kit train" in health["como_resolver"]
        r = httpx.get(f"{server.url}/churn/12345678")
        assert r.status_code == 503 and "python -m kit predict" in r.json()["mensagem"]
        assert httpx.post(f"{server.url}/predict", json=CLIENTE).status_code == 503
        assert httpx.get(f"{server.url}/model").status_code == 503
    finally:
        server.stop()


def test_corrupt_model_artifact_is_degraded_not_a_crash(tmp_path, trained):
    from kit.config import settings

    models = tmp_path / "models"
    models.mkdir()
    (models / "modelo_v1.json").write_text((settings.models_dir / "modelo_v1.json").read_text())
    (models / "modelo_v1.joblib").write_bytes(b"isto nao e um modelo")
    app = create_app(models_dir=models)
    assert app.state.service.status == "degradado"
    assert "python -m kit train" in " ".join(app.state.service.problems)


def test_predictions_and_batch_snapshot_are_published(api):
    from kit.config import settings

    frame = pd.read_csv(settings.outputs_dir / "predicoes.csv")
    samples = _samples(api)
    assert _value(samples, "api_predictions_loaded") == len(frame) == 2000
    for level in metrics.LEVELS:
        assert _value(samples, "churn_predictions_by_level", level=level) == (frame["nivel"] == level).sum()
    assert _value(samples, "churn_predictions_high_risk") == (frame["nivel"] == "alto").sum()
    assert abs(_value(samples, "churn_prediction_score_avg") - frame["risco"].mean()) < 1e-9
    meta = api.app.state.service.meta
    assert _value(samples, "model_version_info", version=meta["version"], trained_at=meta["trained_at"]) == 1


def test_docs_and_openapi_still_served(api):
    assert httpx.get(f"{api.url}/docs").status_code == 200
    schema = httpx.get(f"{api.url}/openapi.json").json()
    assert {"/churn/{id_cliente}", "/predict", "/health"} <= set(schema["paths"])
