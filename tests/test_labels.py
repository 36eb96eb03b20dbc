"""Rótulos atrasados (kit.labels) e qualidade dos dados (kit.data_quality): junção, métricas e orçamento de séries."""
from __future__ import annotations

import random
import string

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sklearn.metrics import fbeta_score, precision_score, recall_score

from kit import _psi_file, data, data_quality, drift, labels, metrics, model
from kit.api import Cliente


@pytest.fixture(scope="module")
def logged(trained, tmp_path_factory):
    """O lote 2 previsto pela v1 e registrado num registro só deste módulo, e os 4 arquivos de rótulos dele."""
    folder = tmp_path_factory.mktemp("rotulos")
    estimator, meta = model.load(publish=False)
    frame = data.load("novos_2")
    predictions = model.predict_frame(estimator, frame)
    labels.log_batch(frame, predictions, "novos_2", meta["version"], estimator.predict(frame[data.FEATURES]),
                     path=folder / "registro.csv")
    files = labels.simulate_arrival("novos_2", n_files=4, coverage=0.8, folder=folder)
    return {"log": folder / "registro.csv", "files": files, "version": meta["version"]}


def _published(gauge, **labelset):
    return REGISTRY.get_sample_value(gauge._name, labelset)


def test_coverage_and_window_f2_after_k_of_n_files_equal_pandas_exactly(logged):
    join = labels.LabelJoin()
    join.load_log(logged["log"])
    log = pd.read_csv(logged["log"])
    version = logged["version"]
    assert _published(metrics.model_label_coverage, version=version) == 0.0
    assert _published(metrics.model_window_f2_score, version=version) is None  # sem rótulos, sem F2 (não 0)
    arrived = []
    for k, path in enumerate(logged["files"], start=1):
        report = join.receive(path)
        arrived.append(pd.read_csv(path))
        truth = pd.concat(arrived)
        rows = log.merge(truth, on=["id_cliente", "lote"], how="inner")
        assert report["aceitos"] == len(pd.read_csv(path)) and not report["problemas"]
        assert _published(metrics.model_label_coverage, version=version) == len(rows) / len(log), k
        assert _published(metrics.model_window_f2_score, version=version) == fbeta_score(
            rows["saiu"], rows["previsto"], beta=2), k
        assert _published(metrics.model_window_recall, version=version) == recall_score(rows["saiu"], rows["previsto"])
        assert _published(metrics.model_window_precision, version=version) == precision_score(
            rows["saiu"], rows["previsto"])
    assert len(rows) == 1600  # 4 de 4 arquivos: 80 % do lote


def test_predictions_in_the_log_match_the_model(logged):
    estimator, _ = model.load(publish=False)
    log = pd.read_csv(logged["log"])
    frame = data.load("novos_2")
    assert (log["previsto"].to_numpy() == estimator.predict(frame[data.FEATURES])).all()
    assert set(log.columns) == set(labels.LOG_COLUMNS) and (log["versao"] == logged["version"]).all()


def test_the_young_spanish_segment_is_the_worst_and_the_global_f2_hides_it(logged):
    join = labels.LabelJoin()
    join.load_log(logged["log"])
    for path in logged["files"]:
        join.receive(path)
    published = {(s.labels["pais"], s.labels["faixa_etaria"]): s.value
                 for family in REGISTRY.collect() if family.name == "model_segment_f2_score" for s in family.samples}
    worst = min(published, key=published.get)
    assert worst == ("Espanha", "ate_35")
    window_f2 = _published(metrics.model_window_f2_score, version=logged["version"])
    assert published[worst] < 0.5 < window_f2  # o alerta de segmento dispara; o mesmo limiar no global, não


BAD_FILES = [
    # (descrição, linhas do arquivo, resultado contado, trecho da mensagem em pt-BR)
    ("id desconhecido", {"id_cliente": [11111111], "saiu": [1], "lote": ["novos_2"]}, "id_desconhecido",
     "de clientes que o lote não tem"),
    ("lote nunca previsto", {"id_cliente": [11111111], "saiu": [0], "lote": ["novos_9"]}, "lote_desconhecido",
     "de lote nunca previsto"),
    ("valor inválido", {"id_cliente": [None], "saiu": [3], "lote": ["novos_2"]}, "valor_invalido",
     "fora de 0/1"),
    ("coluna errada", {"cliente": [1], "churn": [1]}, "arquivo_invalido", "faltam as colunas"),
    ("id absurdo", {"id_cliente": ["inf"], "saiu": [1], "lote": ["novos_2"]}, "valor_invalido", "sem id"),
]


@pytest.mark.parametrize("what, rows, result, fragment", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_label_files_are_counted_explained_and_lose_nothing(logged, tmp_path, what, rows, result, fragment):
    join = labels.LabelJoin()
    join.load_log(logged["log"])
    join.receive(logged["files"][0])
    before = (join.labels.copy(), _published(metrics.model_window_f2_score, version=logged["version"]))
    counter = metrics.model_labels_received_total.labels(result=result)
    counted = counter._value.get()
    path = tmp_path / "ruim.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    report = join.receive(path)
    assert fragment in report["mensagem"], report
    assert counter._value.get() == counted + 1
    assert report["aceitos"] == 0
    pd.testing.assert_frame_equal(join.labels, before[0])
    assert _published(metrics.model_window_f2_score, version=logged["version"]) == before[1]


def test_duplicate_labels_keep_the_first_and_are_counted(logged):
    join = labels.LabelJoin()
    join.load_log(logged["log"])
    first = pd.read_csv(logged["files"][0])
    join.receive(first)
    flipped = first.head(5).assign(saiu=lambda f: 1 - f["saiu"])  # chegam de novo, com o valor trocado
    report = join.receive(pd.concat([flipped, flipped.head(1)]))
    assert report["problemas"] == {"duplicado": 6} and "repetidos (vale o primeiro)" in report["mensagem"]
    kept = join.labels.set_index("id_cliente").loc[flipped["id_cliente"], "saiu"].to_numpy()
    assert (kept == first.head(5)["saiu"].to_numpy()).all()
    assert len(join.labels) == len(first)


def _hostile(rng: random.Random):
    choices = ["", " ", "Espanha ", "ESPANHA", "Brasil", "{}", '"}', "x" * 5000, "\u202eahnapsE", "\x00", None, 7]
    return rng.choice(choices + ["".join(rng.choices(string.printable, k=rng.randint(1, 40)))])


def _series_counts() -> dict[str, int]:
    return {family.name: len([s for s in family.samples if not s.name.endswith("_created")])
            for family in REGISTRY.collect() if family.name in metrics.SERIES_BUDGET}


def test_cardinality_budget_holds_under_random_ids_and_hostile_categories(tmp_path, logged, monkeypatch):
    rng, nprng = random.Random(7), np.random.default_rng(7)
    n = 10_000
    frame = pd.DataFrame({"id_cliente": nprng.integers(1, 10**11, n), "pais": [_hostile(rng) for _ in range(n)],
                          "idade": [rng.choice([-5, 0, 200, float("nan"), "trinta", None, 35, 36, 51]) for _ in range(n)]})
    for k, version in enumerate(["v1", "v2", "v3", "v4", "v5"]):  # mais versões que o orçamento
        labels.log_batch(frame, frame.assign(risco=nprng.random(n)), f"lote_{k}", version,
                         nprng.integers(0, 2, n), path=tmp_path / "registro.csv")
    join = labels.LabelJoin()
    join.load_log(tmp_path / "registro.csv")
    join.receive(pd.DataFrame({"id_cliente": frame["id_cliente"], "saiu": nprng.integers(0, 2, n), "lote": "lote_4"}))
    bodies = [{"pais": _hostile(rng), "genero": _hostile(rng), "idade": rng.choice([None, -1, 500, "x", 30]),
               _hostile(rng) or "campo": _hostile(rng), "cartao_credito": _hostile(rng)} for _ in range(2_000)]
    for body in bodies:
        try:
            data_quality.check_valid(Cliente.model_validate(body).model_dump())
        except ValidationError as exc:
            data_quality.check_rejected(exc.errors())
    segments = drift.segment_psi(frame.assign(idade=frame["idade"].astype(str)), frame.sample(frac=0.5, random_state=1))
    assert len(segments) == 16
    monkeypatch.setattr(_psi_file, "path", lambda: tmp_path / "drift.json")
    _psi_file.save("lote_hostil", {}, [[_hostile(rng), "ate_35", 9.0] for _ in range(500)]
                   + [[pais, band, float(v)] for (pais, band), v in segments["psi"].items()])
    _psi_file.publish_saved()  # um drift.json adulterado não cria séries novas
    counts = _series_counts()
    assert set(counts) == set(metrics.SERIES_BUDGET)
    over = {name: (n_series, metrics.SERIES_BUDGET[name]) for name, n_series in counts.items()
            if n_series > metrics.SERIES_BUDGET[name]}
    assert not over, f"séries acima do orçamento: {over}"
    assert metrics.SERIES_BUDGET["model_segment_f2_score"] == len(labels.COUNTRIES) * len(labels.AGE_BANDS)
    assert metrics.SERIES_BUDGET["data_quality_issues"] == len(data_quality.FEATURES) * len(metrics.DQ_ISSUES)
    assert counts["model_segment_labels"] == 16  # todos os segmentos apareceram, e nenhum além deles
    assert counts["data_drift_segment_psi"] == 16
    assert counts["model_label_coverage"] == metrics.MAX_VERSIONS  # 5 versões no registro, 3 publicadas


DQ_CASES = [
    # (corpo, (feature, problema) contado)
    ({"idade": None}, ("idade", "ausente")),
    ({"pais": "Brasil"}, ("pais", "categoria_nova")),
    ({"idade": 150}, ("idade", "fora_da_faixa")),
    ({"idade": 95}, ("idade", "fora_da_faixa")),           # aceito (≤ 120), mas fora do que o treino viu
    ({"saldo_conta": "muito"}, ("saldo_conta", "esquema")),
    ({"campo_extra": 1}, ("outro", "esquema")),
    ({"escore_credito": None, "genero": "X"}, ("genero", "categoria_nova")),
]


def test_data_quality_is_counted_at_predict_over_http(api):
    base = {"pais": "Espanha", "genero": "Feminino", "idade": 30, "anos_cliente": 1, "saldo_conta": 0.0,
            "numero_produtos": 1, "cartao_credito": "Sim", "salario_estimado": 40000.0, "escore_credito": 700}
    with httpx.Client(base_url=api.url) as client:
        for change, (feature, issue) in DQ_CASES:
            body = {k: v for k, v in {**base, **change}.items()}
            if change.get("idade", 0) is None:
                body.pop("idade")
            requests = metrics.data_quality_requests_total._value.get()
            issues = metrics.data_quality_issues_total.labels(feature=feature, issue=issue)
            counted = issues._value.get()
            status = client.post("/predict", json=body).status_code
            assert status in (200, 422), status
            assert metrics.data_quality_requests_total._value.get() == requests + 1, change
            assert issues._value.get() == counted + 1, change
        good = metrics.data_quality_issues_total.labels(feature="idade", issue="fora_da_faixa")._value.get()
        assert client.post("/predict", json=base).status_code == 200
        assert metrics.data_quality_issues_total.labels(feature="idade", issue="fora_da_faixa")._value.get() == good


@pytest.mark.parametrize("y, p", [([0, 0, 0], [0, 0, 0]), ([1, 0], [0, 0]), ([0, 0], [1, 0]), ([1, 1, 0, 1], [1, 0, 1, 1])])
def test_quality_equals_scikit_learn_in_the_corner_cases(y, p):
    rows = pd.DataFrame({"saiu": y, "previsto": p})
    assert labels.quality(rows) == {"f2": fbeta_score(y, p, beta=2, zero_division=0),
                                    "recall": recall_score(y, p, zero_division=0),
                                    "precisao": precision_score(y, p, zero_division=0)}


def test_a_label_file_reaches_the_running_api_through_admin_rotulos(api):
    from kit.config import settings

    folder = settings.outputs_dir / "rotulos"
    folder.mkdir(parents=True, exist_ok=True)
    served = pd.read_csv(settings.outputs_dir / "registro_predicoes.csv").query("lote == 'novos_1'").head(3)
    served[["id_cliente", "lote"]].assign(saiu=1).to_csv(folder / "chegou.csv", index=False)
    with httpx.Client(base_url=api.url) as client:
        first = client.post("/admin/rotulos", json={"arquivo": "chegou.csv"})
        again = client.post("/admin/rotulos", json={"arquivo": "chegou.csv"})
        outside = client.post("/admin/rotulos", json={"arquivo": "../predicoes.csv"})
        missing = client.post("/admin/rotulos", json={"arquivo": "nao_existe.csv"})
        nul = client.post("/admin/rotulos", json={"arquivo": "a\u0000b.csv"})
    assert first.status_code == 200 and first.json()["aceitos"] == 3, first.text
    assert again.json()["problemas"] == {"duplicado": 3}
    for refused in (outside, missing, nul):
        assert refused.status_code == 404 and "outputs/rotulos/" in refused.json()["mensagem"], refused.text
