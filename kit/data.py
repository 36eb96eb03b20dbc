"""Dados sintéticos de churn bancário (mesmo esquema do projeto original).

Não baixamos nada: as três tabelas são geradas na primeira vez que alguém pede
os dados, a partir de uma semente fixa (mesma semente ⇒ mesmos bytes).

- `dados_treino.csv`  — 6 000 clientes históricos, com o rótulo `saiu`.
- `dados_novos_1.csv` — 2 000 clientes novos, mesma distribuição do treino.
- `dados_novos_2.csv` — 2 000 clientes novos *com drift*: clientes mais jovens,
  mais espanhóis, e um motivo de saída que o treino nunca viu (uma fintech
  concorrente atraindo jovens na Espanha). A taxa de churn sobe e o modelo
  antigo erra justamente esses clientes — é a história da semana 5.

Os lotes novos trazem `saiu` porque, no curso, os rótulos "chegam" depois
(`python -m kit evaluate --lote novos_2`). A API e a predição nunca o usam.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kit.config import settings
from kit.errors import EntradaInvalida

FEATURES_NUM = ["idade", "anos_cliente", "saldo_conta", "numero_produtos", "salario_estimado", "escore_credito"]
FEATURES_CAT = ["pais", "genero", "cartao_credito"]
FEATURES = FEATURES_NUM + FEATURES_CAT
TARGET = "saiu"
ID = "id_cliente"
COLUMNS = [ID, "pais", "genero", "idade", "anos_cliente", "saldo_conta", "numero_produtos",
           "cartao_credito", "salario_estimado", "escore_credito", TARGET]

BATCHES = {"treino": ("dados_treino.csv", 6000), "novos_1": ("dados_novos_1.csv", 2000),
           "novos_2": ("dados_novos_2.csv", 2000)}
# Fração de valores ausentes por coluna (para a imputação ter o que fazer).
MISSING = {"idade": 0.02, "salario_estimado": 0.03, "escore_credito": 0.04, "pais": 0.01}


def _churn_logit(df: pd.DataFrame, drifted: bool) -> np.ndarray:
    """O processo gerador do rótulo: quem tende a sair, e por quê."""
    idade = df["idade"].to_numpy(float)
    produtos = df["numero_produtos"].to_numpy()
    z = (-4.6
         + 5.0 * np.exp(-((idade - 53.0) / 10.0) ** 2)            # meia-idade sai mais
         + 1.8 * (df["pais"] == "Alemanha").to_numpy()
         + 0.8 * (df["genero"] == "Feminino").to_numpy()
         + np.select([produtos == 1, produtos == 2, produtos == 3], [1.3, -1.9, 4.5], 6.5)
         + 0.7 * (df["saldo_conta"].to_numpy() > 0)
         - 0.005 * (df["escore_credito"].to_numpy() - 650.0)
         - 0.15 * df["anos_cliente"].to_numpy())
    if drifted:
        # Motivo novo: fintech concorrente atrai jovens clientes espanhóis.
        jovem_es = (df["pais"] == "Espanha").to_numpy() & (idade < 36)
        z = z + 4.5 * jovem_es
    return z


def make_frame(n: int, seed: int, drifted: bool = False, first_id: int = 0) -> pd.DataFrame:
    """Gera `n` clientes. `drifted=True` produz a distribuição do lote 2."""
    rng = np.random.default_rng(seed)
    paises = ["França", "Espanha", "Alemanha"]
    p_pais = [0.35, 0.45, 0.20] if drifted else [0.50, 0.25, 0.25]
    idade_media = 33.0 if drifted else 40.0
    df = pd.DataFrame({
        "pais": rng.choice(paises, size=n, p=p_pais),
        "genero": rng.choice(["Masculino", "Feminino"], size=n, p=[0.55, 0.45]),
        "idade": np.clip(rng.normal(idade_media, 10.0, n), 18, 92).round(),
        "anos_cliente": rng.integers(0, 11, n),
        "saldo_conta": np.where(rng.random(n) < 0.35, 0.0,
                                np.clip(rng.normal(120_000 if not drifted else 135_000, 30_000, n), 1_000, None)).round(2),
        "numero_produtos": rng.choice([1, 2, 3, 4], size=n, p=[0.50, 0.45, 0.035, 0.015]),
        "cartao_credito": rng.choice(["Sim", "Não"], size=n, p=[0.70, 0.30]),
        "salario_estimado": rng.uniform(11_000, 200_000, n).round(2),
        "escore_credito": np.clip(rng.normal(650, 95, n), 350, 850).round(),
    })
    prob = 1.0 / (1.0 + np.exp(-_churn_logit(df, drifted)))
    df[TARGET] = (rng.random(n) < prob).astype(int)
    for col, frac in MISSING.items():
        df.loc[rng.random(n) < frac, col] = np.nan
    df.insert(0, ID, _customer_ids(seed, first_id, n))
    df["idade"] = df["idade"].astype("Int64")
    df["escore_credito"] = df["escore_credito"].astype("Int64")
    return df[COLUMNS]


def _customer_ids(seed: int, first: int, n: int) -> np.ndarray:
    """Ids de 8 dígitos, únicos entre os três arquivos (o mesmo sorteio, fatias diferentes)."""
    rng = np.random.default_rng(seed + 1_000)
    pool = pd.unique(rng.integers(10_000_000, 100_000_000, 12_000))[:10_000]
    return pool[first:first + n]


def generate(folder: Path | None = None, seed: int | None = None) -> dict[str, Path]:
    """Gera (ou regera) os três CSVs em `folder` e devolve seus caminhos."""
    folder = Path(folder or settings.data_dir / "raw")
    seed = settings.seed if seed is None else seed
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "treino": make_frame(6000, seed, drifted=False, first_id=0),
        "novos_1": make_frame(2000, seed + 1, drifted=False, first_id=6000),
        "novos_2": make_frame(2000, seed + 2, drifted=True, first_id=8000),
    }
    paths = {}
    for name, frame in frames.items():
        path = folder / BATCHES[name][0]
        frame.to_csv(path, index=False, lineterminator="\n")
        paths[name] = path
    return paths


def ensure_data() -> dict[str, Path]:
    """Garante que os CSVs existem (gera na primeira vez) e devolve os caminhos."""
    folder = settings.data_dir / "raw"
    paths = {name: folder / fname for name, (fname, _) in BATCHES.items()}
    if not all(p.exists() for p in paths.values()):
        paths = generate(folder)
    return paths


def load(batch: str = "treino") -> pd.DataFrame:
    """Lê um lote: 'treino', 'novos_1' ou 'novos_2'."""
    if batch not in BATCHES:
        raise EntradaInvalida(f"Lote desconhecido: {batch!r}. Use um de: {', '.join(BATCHES)}.")
    return pd.read_csv(ensure_data()[batch])
