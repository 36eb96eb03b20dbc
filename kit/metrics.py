"""O contrato de métricas do curso, definido uma única vez.

Dashboards, regras de alerta, notebooks, exercícios e testes usam exatamente
estes nomes (DESIGN §6). Para mudar um nome, mude aqui — e procure o nome
antigo em `monitoring/`.

Regras de ouro:
- nunca use um id de cliente (ou qualquer valor sem limite) como valor de label;
- `endpoint` é o *template* da rota (`/churn/{id_cliente}`), nunca o caminho real;
- as séries que os painéis esperam são criadas com 0 no início (painel mostra 0,
  não "No data").

Para criar a sua própria métrica num notebook use `counter()`, `gauge()`,
`histogram()`, `summary()` ou `info()`: pedir duas vezes a mesma métrica devolve
o mesmo objeto (rodar a célula de novo não quebra com "Duplicated timeseries").

Vários workers (`python -m kit serve --workers N`, kit.workers): com PROMETHEUS_MULTIPROC_DIR
definido, cada processo grava seus valores em arquivos nessa pasta e o /metrics soma tudo. Cada
gauge diz como juntar os valores dos processos (`multiprocess_mode`, o motivo ao lado de cada um).
"""
from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info, Summary, disable_created_metrics, generate_latest

from kit.config import settings
# As métricas HTTP da API (prometheus_client puro, o que a aula 3 mostra) e os buckets delas.
from kit.instrumentation import LATENCY_BUCKETS, api_errors_total, api_request_duration_seconds, api_requests_total

# Sem as séries *_created: o /metrics fica mais fácil de ler (o Prometheus não precisa delas).
disable_created_metrics()

LEVELS = ("baixo", "medio", "alto")
_KINDS = {"counter": Counter, "gauge": Gauge, "histogram": Histogram, "summary": Summary, "info": Info}
_SUFFIXES = ("_total", "_created", "_info", "_bucket", "_count", "_sum")


class MetricaEmConflito(ValueError):
    """Já existe uma métrica com esse nome, mas de outro tipo ou com outras labels."""


def _base_name(name: str) -> str:
    for suffix in ("_total", "_info"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _get_or_create(kind: str, name: str, documentation: str, labelnames=(), registry=REGISTRY, **kwargs):
    cls = _KINDS[kind]
    base = _base_name(name)
    existing = registry._names_to_collectors.get(base) or registry._names_to_collectors.get(name)
    if existing is not None:
        same_type = type(existing) is cls
        same_labels = tuple(getattr(existing, "_labelnames", ())) == tuple(labelnames)
        if same_type and same_labels:
            return existing
        raise MetricaEmConflito(
            f"Já existe a métrica '{name}' como {type(existing).__name__} com labels "
            f"{list(getattr(existing, '_labelnames', ()))}; você pediu {cls.__name__} com labels "
            f"{list(labelnames)}. Escolha outro nome (ex.: '{base}_v2') ou use as mesmas labels."
        )
    return cls(base, documentation, labelnames=tuple(labelnames), registry=registry, **kwargs)


def counter(name, documentation, labelnames=(), registry=REGISTRY):
    """Counter idempotente (só sobe; use rate()/increase() no PromQL)."""
    return _get_or_create("counter", name, documentation, labelnames, registry)


def gauge(name, documentation, labelnames=(), registry=REGISTRY, multiprocess_mode="all"):
    """Gauge idempotente (sobe e desce; use o valor direto no PromQL).

    `multiprocess_mode` só vale com vários workers: como juntar o valor de cada processo
    ("livesum", "livemax", "livemostrecent"...; "live" = só processos vivos).
    """
    return _get_or_create("gauge", name, documentation, labelnames, registry, multiprocess_mode=multiprocess_mode)


def histogram(name, documentation, labelnames=(), buckets=Histogram.DEFAULT_BUCKETS, registry=REGISTRY):
    """Histogram idempotente (percentis com histogram_quantile + sum by (le))."""
    return _get_or_create("histogram", name, documentation, labelnames, registry, buckets=buckets)


def summary(name, documentation, labelnames=(), registry=REGISTRY):
    """Summary idempotente (média via _sum/_count; não agrega percentis entre processos)."""
    return _get_or_create("summary", name, documentation, labelnames, registry)


def info(name, documentation, registry=REGISTRY):
    """Info idempotente (metadados como versão; exposto como <nome>_info com valor 1)."""
    return _get_or_create("info", name, documentation, (), registry)


def unregister(name: str, registry=REGISTRY) -> bool:
    """Remove uma métrica criada num notebook (útil para recomeçar um exemplo)."""
    collector = registry._names_to_collectors.get(_base_name(name)) or registry._names_to_collectors.get(name)
    if collector is None:
        return False
    registry.unregister(collector)
    return True


def exposition(registry=REGISTRY) -> str:
    """O texto que o Prometheus lê em /metrics."""
    return generate_latest(registry).decode("utf-8")


# --- API (instrumentação HTTP: api_requests_total, _duration_seconds e _errors_total em kit.instrumentation) ---
# Com vários workers, cada gauge escolhe como juntar os processos (multiprocess_mode):
# - em andamento: a SOMA dos workers vivos (as requisições de um worker morto morreram com ele);
api_active_requests = gauge("api_active_requests", "Requisições em andamento neste instante.",
                            multiprocess_mode="livesum")
# - predições na memória: o MÍNIMO entre os vivos (um worker sem lote já deixa a API degradada);
api_predictions_loaded = gauge("api_predictions_loaded", "Predições em lote carregadas na memória da API.",
                               multiprocess_mode="livemin")
# - retratos (lote, modelo, drift): todo worker publica o mesmo número — somar multiplicaria por N;
#   vale o valor mais recente entre os vivos.
SNAPSHOT = "livemostrecent"

# --- Modelo servido -----------------------------------------------------------
model_predictions_total = counter("model_predictions_total", "Predições servidas pela API, por nível.", ("level",))
model_cache_hits_total = counter("model_cache_hits_total", "Consultas /churn/{id} achadas no lote em memória.")
model_cache_misses_total = counter("model_cache_misses_total", "Consultas /churn/{id} de clientes fora do lote.")

# --- Negócio (retrato do lote carregado: só .set()) ----------------------------
churn_predictions_high_risk = gauge("churn_predictions_high_risk", "Clientes do lote com risco alto.",
                                    multiprocess_mode=SNAPSHOT)
churn_predictions_by_level = gauge("churn_predictions_by_level", "Clientes do lote por nível de risco.", ("level",),
                                   multiprocess_mode=SNAPSHOT)
churn_prediction_score_avg = gauge("churn_prediction_score_avg", "Risco médio de churn do lote.",
                                   multiprocess_mode=SNAPSHOT)

# --- Treino / qualidade do modelo carregado ------------------------------------
model_training_duration_seconds = gauge("model_training_duration_seconds", "Duração do treino do modelo carregado.",
                                        multiprocess_mode=SNAPSHOT)
# `dataset`: "teste" = os 20 % separados no treino; "producao" = o último lote rotulado de produção avaliado com
# este modelo (só existe depois de uma avaliação). O alerta ModelF2Low lê só "producao": retreinar e publicar um F2
# de teste alto não apaga a queda vista em produção.
DATASETS = ("teste", "producao")
model_f2_score = gauge("model_f2_score", "F2 (classe churn) do modelo servido, por conjunto avaliado.", ("dataset",),
                       multiprocess_mode=SNAPSHOT)
model_auc_score = gauge("model_auc_score", "AUC-ROC do modelo servido, por conjunto avaliado.", ("dataset",),
                        multiprocess_mode=SNAPSHOT)
model_training_samples = gauge("model_training_samples", "Amostras usadas no treino do modelo carregado.",
                               multiprocess_mode=SNAPSHOT)
# Info não funciona com vários workers (o valor fica num dicionário do processo, fora dos arquivos):
# lá a versão vira um Gauge de valor 1 com as mesmas labels e a mesma exposição. "livemax": uma série
# por versão servida por algum worker vivo (dois workers em versões diferentes = duas séries).
if settings.multiprocess_dir:
    model_version_info = Gauge("model_version_info", "Versão do modelo servido.", ("version", "trained_at"),
                               multiprocess_mode="livemax")
else:
    model_version_info = info("model_version_info", "Versão do modelo servido.")

# --- Drift ----------------------------------------------------------------------
data_drift_psi = gauge("data_drift_psi", "PSI de cada feature: lote novo vs treino.", ("feature",),
                       multiprocess_mode=SNAPSHOT)

# --- Rótulos atrasados e qualidade em janela (semana 5; quem publica: kit.labels) ------------------
# `version`: só as últimas MAX_VERSIONS versões do registro de predições (valores limitados).
MAX_VERSIONS = 3
LABEL_RESULTS = ("aceito", "id_desconhecido", "duplicado", "lote_desconhecido", "valor_invalido", "arquivo_invalido")
model_labels_received_total = counter(
    "model_labels_received_total", "Rótulos recebidos, por resultado da junção com as predições.", ("result",))
model_label_coverage = gauge("model_label_coverage", "Fração das predições da janela que já têm rótulo, por versão.",
                             ("version",), multiprocess_mode=SNAPSHOT)
model_window_f2_score = gauge("model_window_f2_score", "F2 nas predições rotuladas da janela, por versão.",
                              ("version",), multiprocess_mode=SNAPSHOT)
model_window_recall = gauge("model_window_recall", "Recall nas predições rotuladas da janela, por versão.",
                            ("version",), multiprocess_mode=SNAPSHOT)
model_window_precision = gauge("model_window_precision", "Precisão nas predições rotuladas da janela, por versão.",
                               ("version",), multiprocess_mode=SNAPSHOT)
# Proxies: existem antes de qualquer rótulo (só dependem das predições).
model_window_score_avg = gauge("model_window_score_avg", "Risco médio previsto na janela, por versão.",
                               ("version",), multiprocess_mode=SNAPSHOT)
model_window_high_risk_share = gauge("model_window_high_risk_share",
                                     "Fração das predições da janela com risco alto, por versão.",
                                     ("version",), multiprocess_mode=SNAPSHOT)
# Segmentos: país × faixa etária, valores fechados — 16 séries no máximo (kit.labels os calcula).
SEGMENT_LABELS = ("pais", "faixa_etaria")
SEGMENT_COUNTRIES = ("França", "Espanha", "Alemanha", "outro")
SEGMENT_AGE_BANDS = ("ate_35", "36_50", "51_mais", "desconhecida")
model_segment_f2_score = gauge(
    "model_segment_f2_score", "F2 da versão mais nova por segmento (só com churners rotulados suficientes).",
    SEGMENT_LABELS, multiprocess_mode=SNAPSHOT)
model_segment_labels = gauge("model_segment_labels", "Predições rotuladas por segmento (versão mais nova).",
                             SEGMENT_LABELS, multiprocess_mode=SNAPSHOT)

data_drift_segment_psi = gauge("data_drift_segment_psi", "Termo de cada segmento no PSI da mistura de segmentos "
                               "(lote novo vs treino).", SEGMENT_LABELS, multiprocess_mode=SNAPSHOT)

# --- Qualidade dos dados em POST /predict (quem conta: kit.data_quality) ----------------------------
DQ_ISSUES = ("ausente", "fora_da_faixa", "categoria_nova", "esquema")
data_quality_requests_total = counter("data_quality_requests_total", "Corpos de POST /predict conferidos.")
data_quality_issues_total = counter(
    "data_quality_issues_total", "Problemas de qualidade nos dados de POST /predict, por feature e tipo.",
    ("feature", "issue"))

# Orçamento de séries da semana 5 (tests/test_labels.py confere com ids aleatórios e categorias hostis):
# segmentos = 4 países × 4 faixas; qualidade = (9 features + id_cliente + outro) × 4 problemas.
SERIES_BUDGET = {"model_segment_f2_score": 16, "model_segment_labels": 16, "data_drift_segment_psi": 16,
                 "data_quality_issues": 44,
                 **{name: MAX_VERSIONS for name in ("model_label_coverage", "model_window_f2_score", "model_window_recall",
                                                     "model_window_precision", "model_window_score_avg",
                                                     "model_window_high_risk_share")},
                 "model_labels_received": len(LABEL_RESULTS)}

# As labels do Info: as chaves do dicionário que publish_model() publica.
MODEL_VERSION_KEYS = ("version", "trained_at")


def _contract(*collectors) -> dict[str, tuple[str, tuple[str, ...]]]:
    """{nome exposto: (tipo, labels)} lido dos próprios objetos (o cliente acrescenta _total e _info)."""
    out = {}
    for metric in collectors:
        suffix = {"counter": "_total", "info": "_info"}.get(metric._type, "")
        if metric is model_version_info:  # Info (ou, com vários workers, o Gauge que faz o papel dele)
            out["model_version_info"] = ("info", MODEL_VERSION_KEYS)
            continue
        out[metric._name + suffix] = (metric._type, tuple(metric._labelnames))
    return out


CONTRACT = _contract(
    api_requests_total, api_request_duration_seconds, api_errors_total, api_active_requests,
    api_predictions_loaded, model_predictions_total, model_cache_hits_total, model_cache_misses_total,
    churn_predictions_high_risk, churn_predictions_by_level, churn_prediction_score_avg,
    model_training_duration_seconds, model_f2_score, model_auc_score, model_training_samples, model_version_info,
    data_drift_psi, model_labels_received_total, model_label_coverage, model_window_f2_score, model_window_recall,
    model_window_precision, model_window_score_avg, model_window_high_risk_share, model_segment_f2_score,
    model_segment_labels, data_drift_segment_psi, data_quality_requests_total, data_quality_issues_total,
)


def init_series() -> None:
    """Cria com 0 as séries que os painéis esperam (painel mostra 0, não 'No data')."""
    for level in LEVELS:
        model_predictions_total.labels(level=level)
        churn_predictions_by_level.labels(level=level)
    for method, endpoint in (("GET", "/churn/{id_cliente}"), ("POST", "/predict")):
        api_requests_total.labels(method=method, endpoint=endpoint, status_code="200")
        api_requests_total.labels(method=method, endpoint=endpoint, status_code="500")  # taxa de 5xx = 0, não vazio
        api_errors_total.labels(method=method, endpoint=endpoint, status_code="500")
        api_request_duration_seconds.labels(method=method, endpoint=endpoint)
    api_errors_total.labels(method="GET", endpoint="/churn/{id_cliente}", status_code="404")
    for result in LABEL_RESULTS:
        model_labels_received_total.labels(result=result)
    data_quality_requests_total.inc(0)


def publish_model(meta: dict) -> None:
    """Publica as métricas do modelo carregado (quem carrega o modelo chama isto)."""
    model_training_duration_seconds.set(meta.get("duration", 0.0))
    model_training_samples.set(meta.get("samples", 0))
    model_f2_score.labels(dataset="teste").set(meta.get("f2", 0.0))
    model_auc_score.labels(dataset="teste").set(meta.get("auc", 0.0))
    production = (meta.get("avaliacoes") or [None])[-1]
    for gauge_, key in ((model_f2_score, "f2"), (model_auc_score, "auc")):
        if production:
            gauge_.labels(dataset="producao").set(production[key])
        elif ("producao",) in gauge_._metrics:  # modelo novo, ainda sem rótulos de produção: sem série (não 0)
            gauge_.remove("producao")
    labels = {key: str(meta.get(key, "")) for key in MODEL_VERSION_KEYS}
    if settings.multiprocess_dir:  # vários workers: publicado uma vez, ao subir (recarregar = reiniciar workers)
        model_version_info.labels(**labels).set(1)
    else:
        model_version_info.info(labels)


def publish_batch(risks, high: float, medium: float) -> dict:
    """Publica o retrato do lote de predições (só .set(): é um retrato, não um contador)."""
    import numpy as np

    risks = np.asarray(risks, dtype=float)
    counts = {
        "baixo": int((risks < medium).sum()),
        "medio": int(((risks >= medium) & (risks < high)).sum()),
        "alto": int((risks >= high).sum()),
    }
    for level, value in counts.items():
        churn_predictions_by_level.labels(level=level).set(value)
    churn_predictions_high_risk.set(counts["alto"])
    churn_prediction_score_avg.set(float(risks.mean()) if len(risks) else 0.0)
    return counts


init_series()
