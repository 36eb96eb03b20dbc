"""Rótulos que chegam depois: juntar com as predições servidas e medir a qualidade em janela.

Em produção ninguém sabe na hora se o cliente vai sair: o rótulo (`saiu`) chega semanas depois, aos
pedaços. Por isso:

1. cada predição é **registrada** com `id_cliente`, lote, versão do modelo, hora e o segmento do cliente
   (`python -m kit predict` acrescenta o lote em `outputs/registro_predicoes.csv`: `log_batch`);
2. o processo que serve (a API) guarda um `LabelJoin`: cada arquivo de rótulos que chega (`receive`) é
   conferido e juntado às predições; nada já juntado se perde quando um arquivo vem errado;
3. a cada chegada ele publica, por versão, a cobertura de rótulos e F2 / recall / precisão **na janela**
   (predições dos últimos `WINDOW_DAYS` dias), os proxies que existem antes de qualquer rótulo (risco
   médio, fração de risco alto) e o F2 por segmento país × faixa etária (valores fechados: no máximo
   4 × 4 séries, nunca um valor vindo do cliente).

    juntar = labels.LabelJoin()                 # a API tem um: app.state.service.labels
    juntar.load_log()                           # o registro de predições
    for arquivo in labels.simulate_arrival("novos_2", n_files=4):
        print(juntar.receive(arquivo)["mensagem"])
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from kit import data, metrics
from kit.config import settings

WINDOW_DAYS = 30
# F2 é da classe churn: com menos churners rotulados que isto num segmento ele varia demais para publicar.
MIN_SEGMENT_CHURNERS = 20
COUNTRIES, AGE_BANDS = metrics.SEGMENT_COUNTRIES, metrics.SEGMENT_AGE_BANDS
# A data de cada lote na história do curso (o lote 2 chega um mês depois do 1): é a hora registrada das
# predições de um lote, e a janela conta a partir da predição mais recente — a janela do lote 2 não tem o 1.
BATCH_DATES = {"novos_1": datetime(2026, 1, 5, tzinfo=timezone.utc), "novos_2": datetime(2026, 2, 9, tzinfo=timezone.utc)}
LOG_COLUMNS = ["id_cliente", "lote", "versao", "previsto_em", "risco", "previsto", "pais", "faixa_etaria"]
LABEL_COLUMNS = ("id_cliente", "saiu", "lote")


def log_path() -> Path:
    return settings.outputs_dir / "registro_predicoes.csv"


def country(values) -> pd.Series:
    """País como valor de label: um dos três do curso, senão "outro" (um valor hostil não vira série)."""
    values = pd.Series(values)
    return values.where(values.isin(COUNTRIES[:-1]), "outro").astype(str)


def age_band(values) -> pd.Series:
    """Faixa etária como valor de label: ate_35 | 36_50 | 51_mais | desconhecida."""
    idade = pd.to_numeric(pd.Series(values), errors="coerce")
    band = np.select([idade <= 35, idade <= 50, idade > 50], AGE_BANDS[:3], AGE_BANDS[3])
    return pd.Series(band, index=idade.index)


def log_batch(frame: pd.DataFrame, predictions: pd.DataFrame, batch: str, version: str, decisions,
              at: datetime | None = None, path: Path | None = None) -> pd.DataFrame:
    """Acrescenta ao registro as predições de um lote.

    `frame` tem as features (país e idade dão o segmento), `predictions` o risco e `decisions` a classe
    prevista (0/1, no limiar de F2 do modelo: `model.predict`). A hora registrada é `at`, ou a data do lote
    na história do curso (BATCH_DATES), ou agora.
    """
    at = at or BATCH_DATES.get(batch) or datetime.now(timezone.utc)
    rows = pd.DataFrame({
        "id_cliente": predictions["id_cliente"].to_numpy(), "lote": batch, "versao": version,
        "previsto_em": at.isoformat(timespec="seconds"), "risco": predictions["risco"].to_numpy(),
        "previsto": np.asarray(decisions, dtype=int),
        "pais": country(frame["pais"]).to_numpy(), "faixa_etaria": age_band(frame["idade"]).to_numpy()})
    path = Path(path or log_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, mode="a", header=not path.exists(), index=False, lineterminator="\n")
    return rows


def simulate_arrival(batch: str, n_files: int = 4, coverage: float = 0.8, folder: Path | None = None) -> list[Path]:
    """Os rótulos de `batch` chegando aos pedaços: `n_files` arquivos que cobrem `coverage` do lote.

    Determinístico (semente do kit): a mesma chamada gera os mesmos arquivos, na mesma ordem.
    """
    truth = data.load(batch)[[data.ID, data.TARGET]].assign(lote=batch)
    arrived = truth.sample(frac=coverage, random_state=settings.seed)
    folder = Path(folder or settings.outputs_dir / "rotulos")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, rows in enumerate(np.array_split(np.arange(len(arrived)), n_files), start=1):
        part = arrived.iloc[rows]
        path = folder / f"rotulos_{batch}_{k}de{n_files}.csv"
        part.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths


def quality(rows: pd.DataFrame) -> dict:
    """F2, recall e precisão das linhas rotuladas (`saiu` observado × `previsto`), classe churn.

    As mesmas contas do scikit-learn (`fbeta_score(beta=2)`, `recall_score`, `precision_score`, com
    `zero_division=0`), feitas direto nas contagens: a API refaz isto a cada arquivo de rótulos, para cada versão
    e segmento, e as funções do scikit-learn custam milissegundos cada só para validar a entrada.
    """
    y, p = rows["saiu"].to_numpy(dtype=int), rows["previsto"].to_numpy(dtype=int)
    tp, true_sum, pred_sum = float(np.sum((y == 1) & (p == 1))), float(np.sum(y == 1)), float(np.sum(p == 1))
    denom = 4.0 * true_sum + pred_sum
    return {"f2": (1 + 4.0) * tp / denom if denom else 0.0,
            "recall": tp / true_sum if true_sum else 0.0,
            "precisao": tp / pred_sum if pred_sum else 0.0}


class LabelJoin:
    """Predições registradas + rótulos recebidos, e as métricas que saem da junção."""

    def __init__(self, window_days: int = WINDOW_DAYS):
        self.window_days = window_days
        self.predictions = pd.DataFrame(columns=LOG_COLUMNS)
        self.labels = pd.DataFrame(columns=["id_cliente", "lote", "saiu"])
        self.counts = {result: 0 for result in metrics.LABEL_RESULTS}

    def load_log(self, path: Path | None = None) -> int:
        """(Re)lê o registro de predições; os rótulos já juntados ficam. Devolve quantas predições há."""
        try:
            log = pd.read_csv(path or log_path())
            self.predictions = log[LOG_COLUMNS].drop_duplicates(["id_cliente", "lote", "versao"], keep="last")
        except (OSError, KeyError, ValueError, pd.errors.ParserError):
            pass  # nenhum registro ainda (ou ilegível): fica o que já havia
        self.publish()
        return len(self.predictions)

    def _count(self, result: str, n: int) -> None:
        self.counts[result] += n
        metrics.model_labels_received_total.labels(result=result).inc(n)

    def receive(self, source) -> dict:
        """Confere e junta um arquivo (ou DataFrame) de rótulos. Devolve o que aconteceu, em pt-BR."""
        name = getattr(source, "name", "tabela")
        try:
            frame = source if isinstance(source, pd.DataFrame) else pd.read_csv(source)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            frame, problem = None, f"não consegui ler ({type(exc).__name__})"
        else:
            missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
            problem = f"faltam as colunas {missing} (o arquivo tem {list(frame.columns)})" if missing else ""
        if problem:
            self._count("arquivo_invalido", 1)
            return self._report(name, {"arquivo_invalido": 1}, 0,
                                f"Arquivo {name} recusado: {problem}. Envie um CSV com as colunas "
                                f"{', '.join(LABEL_COLUMNS)}; nenhum rótulo já juntado foi perdido.")
        frame = frame[list(LABEL_COLUMNS)].copy()
        frame["id_cliente"] = pd.to_numeric(frame["id_cliente"], errors="coerce")
        frame["saiu"] = pd.to_numeric(frame["saiu"], errors="coerce")
        ids = frame["id_cliente"]
        valid_id = ids.between(1, 99_999_999_999) & (ids == ids.round())  # NaN, inf, 1e30, 3.5 e negativos: não
        bad_value = ~valid_id | ~frame["saiu"].isin([0, 1])
        frame = frame[~bad_value].astype({"id_cliente": "int64", "saiu": "int64", "lote": str})
        known_batch = frame["lote"].isin(set(self.predictions["lote"]))
        predicted = pd.MultiIndex.from_frame(self.predictions[["lote", "id_cliente"]].astype({"lote": str}))
        keys = pd.MultiIndex.from_frame(frame[["lote", "id_cliente"]])
        known_id = known_batch & keys.isin(predicted)
        already = pd.MultiIndex.from_frame(self.labels[["lote", "id_cliente"]].astype({"lote": str, "id_cliente": "int64"}))
        duplicate = known_id & (keys.isin(already) | keys.duplicated())
        accepted = frame[known_id & ~duplicate]
        problems = {"valor_invalido": int(bad_value.sum()), "lote_desconhecido": int((~known_batch).sum()),
                    "id_desconhecido": int((known_batch & ~known_id).sum()), "duplicado": int(duplicate.sum())}
        for result, n in problems.items():
            if n:
                self._count(result, n)
        self._count("aceito", len(accepted))
        self.labels = pd.concat([self.labels, accepted[["id_cliente", "lote", "saiu"]]], ignore_index=True)
        self.publish()
        return self._report(name, {k: v for k, v in problems.items() if v}, len(accepted))

    def _report(self, name: str, problems: dict, accepted: int, message: str = "") -> dict:
        explain = {"valor_invalido": "sem id válido ou com `saiu` fora de 0/1", "lote_desconhecido": "de lote nunca previsto",
                   "id_desconhecido": "de clientes que o lote não tem", "duplicado": "repetidos (vale o primeiro)",
                   "arquivo_invalido": "arquivo recusado"}
        if not message:
            message = f"{name}: {accepted} rótulos juntados"
            if problems:
                message += "; ignorados: " + ", ".join(f"{n} {explain[k]}" for k, n in problems.items())
                message += ". Confira a origem desses rótulos; os já juntados continuam valendo."
        return {"arquivo": name, "aceitos": accepted, "problemas": problems, "mensagem": message}

    def joined(self) -> pd.DataFrame:
        """As predições da janela com o rótulo (NaN enquanto ele não chegou)."""
        preds = self.predictions.astype({"lote": str, "id_cliente": "int64"})
        when = pd.to_datetime(preds["previsto_em"], utc=True, format="ISO8601")
        window = preds[when >= when.max() - timedelta(days=self.window_days)] if len(preds) else preds
        labels = self.labels.astype({"lote": str, "id_cliente": "int64"})
        return window.merge(labels, on=["lote", "id_cliente"], how="left")

    def by_version(self) -> pd.DataFrame:
        """Por versão: predições, cobertura, F2/recall/precisão nos rotulados e os proxies."""
        rows = []
        for version, part in self.joined().groupby("versao", sort=False):
            labelled = part.dropna(subset=["saiu"])
            rows.append({"versao": version, "predicoes": len(part), "rotuladas": len(labelled),
                         "cobertura": len(labelled) / len(part), "risco_medio": float(part["risco"].mean()),
                         "fracao_risco_alto": float((part["risco"] >= settings.risk_high).mean()),
                         **(quality(labelled) if len(labelled) else {})})
        return pd.DataFrame(rows)

    def by_segment(self, version: str | None = None) -> pd.DataFrame:
        """F2 por país × faixa etária nos rotulados de uma versão (a mais nova se None)."""
        joined = self.joined()
        if joined.empty:
            return pd.DataFrame(columns=["pais", "faixa_etaria", "rotuladas", "churners", "f2", "recall"])
        version = version or _newest(joined["versao"])
        labelled = joined[(joined["versao"] == version)].dropna(subset=["saiu"])
        rows = [{"pais": p, "faixa_etaria": f, "rotuladas": len(part), "churners": int(part["saiu"].sum()),
                 **{k: v for k, v in quality(part).items() if k != "precisao"}}
                for (p, f), part in labelled.groupby(["pais", "faixa_etaria"])]
        return pd.DataFrame(rows, columns=["pais", "faixa_etaria", "rotuladas", "churners", "f2", "recall"])

    def publish(self) -> None:
        """Publica as métricas da junção (só .set(): é um retrato da janela)."""
        table = self.by_version()
        keep = list(table["versao"])[-metrics.MAX_VERSIONS:] if len(table) else []
        gauges = {"cobertura": metrics.model_label_coverage, "f2": metrics.model_window_f2_score,
                  "recall": metrics.model_window_recall, "precisao": metrics.model_window_precision,
                  "risco_medio": metrics.model_window_score_avg,
                  "fracao_risco_alto": metrics.model_window_high_risk_share}
        for column, gauge in gauges.items():
            gauge.clear()
            for row in table[table["versao"].isin(keep)].to_dict("records") if len(table) else []:
                if pd.notna(row.get(column, np.nan)):
                    gauge.labels(version=row["versao"]).set(row[column])
        metrics.model_segment_f2_score.clear()
        segments = self.by_segment().set_index(["pais", "faixa_etaria"])
        for pais in COUNTRIES:
            for band in AGE_BANDS:
                found = (pais, band) in segments.index
                metrics.model_segment_labels.labels(pais=pais, faixa_etaria=band).set(
                    segments.loc[(pais, band), "rotuladas"] if found else 0)
                if found and segments.loc[(pais, band), "churners"] >= MIN_SEGMENT_CHURNERS:
                    metrics.model_segment_f2_score.labels(pais=pais, faixa_etaria=band).set(
                        segments.loc[(pais, band), "f2"])


def _newest(versions: pd.Series) -> str:
    return max(versions.unique(), key=lambda v: int(str(v).lstrip("v")) if str(v).lstrip("v").isdigit() else -1)
