"""Qualidade do modelo como o curso promete (treino real, dados reais do kit)."""
from __future__ import annotations

import json

import pytest

from kit import data, metrics, model

pytestmark = pytest.mark.slow


def _f2_gauges() -> dict:
    """{dataset: valor} do model_f2_score publicado agora."""
    return {labels["dataset"]: value for labels, value in
            ((sample.labels, sample.value) for family in metrics.model_f2_score.collect() for sample in family.samples)}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """v1 treinado no treino; avaliado nos lotes 1 e 2; v2 retreinado com o lote 2."""
    folder = tmp_path_factory.mktemp("models")
    v1 = model.train(models_dir=folder)
    m1, _ = model.load(models_dir=folder)
    fresh_drifted = data.make_frame(4000, seed=2024, drifted=True)  # clientes do "lote 2" nunca vistos
    result = {
        "folder": folder, "v1": v1,
        "b1": model.score(m1, data.load("novos_1")),
        "b2": model.score(m1, data.load("novos_2")),
        "fresh_v1": model.score(m1, fresh_drifted),
    }
    result["eval"] = model.evaluate("novos_2", models_dir=folder)
    result["f2_gauges_after_eval"] = _f2_gauges()
    result["v2"] = model.retrain("novos_2", models_dir=folder)
    m2, _ = model.load(models_dir=folder)
    result["fresh_v2"] = model.score(m2, fresh_drifted)
    result["f2_gauges_after_retrain"] = _f2_gauges()
    return result


def test_metadata_is_complete(story):
    meta = json.loads((story["folder"] / "modelo_v1.json").read_text())
    assert {"version", "trained_at", "duration", "samples", "f2", "auc", "threshold"} <= set(meta)
    assert meta["version"] == "v1" and meta["samples"] == 6000
    assert 0 < meta["threshold"] < 1 and meta["duration"] > 0
    assert (story["folder"] / "modelo_v1.joblib").exists()


def test_good_on_batch_1_bad_on_batch_2(story):
    assert story["b1"]["f2"] >= 0.75, story["b1"]
    assert story["b2"]["f2"] < 0.70, story["b2"]
    assert story["fresh_v1"]["f2"] < 0.70


def test_evaluate_publishes_current_f2(story):
    assert story["eval"]["f2"] == pytest.approx(story["b2"]["f2"], abs=1e-4)
    assert story["f2_gauges_after_eval"]["producao"] == pytest.approx(story["eval"]["f2"])
    assert story["f2_gauges_after_eval"]["teste"] == pytest.approx(story["v1"]["f2"])  # o teste não muda
    meta = json.loads((story["folder"] / "modelo_v1.json").read_text())
    assert meta["avaliacoes"][-1]["lote"] == "novos_2"


def test_retraining_on_batch_2_recovers(story):
    assert story["v2"]["version"] == "v2" and story["v2"]["samples"] == 8000
    assert story["fresh_v2"]["f2"] >= 0.75, story["fresh_v2"]
    assert story["fresh_v2"]["f2"] > story["fresh_v1"]["f2"] + 0.1
    # a v2 publica o F2 do teste dela; F2 de produção só quando os rótulos de um lote chegarem (sem série, não 0)
    assert story["f2_gauges_after_retrain"] == {"teste": pytest.approx(story["v2"]["f2"])}


def test_missing_model_says_what_to_run(tmp_path):
    with pytest.raises(model.ModeloAusente, match="python -m kit train"):
        model.load(models_dir=tmp_path)


def test_predict_batch_writes_csv(story, tmp_path):
    out = model.predict_batch("novos_1", output=tmp_path / "p.csv", models_dir=story["folder"])
    assert list(out.columns) == ["id_cliente", "risco", "nivel"]
    assert len(out) == 2000 and out["risco"].between(0, 1).all()
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "id_cliente,risco,nivel"
