# API de churn do curso em contêiner — perfil opcional "api" do docker-compose.yml:
#   docker compose --profile api up -d --build
# Na primeira subida (volumes vazios) gera os dados, treina o modelo e prevê o
# lote (`python -m kit prepare` = train + predict, só o que faltar); depois só
# serve. Normalmente a API roda no notebook; use esta imagem quando quiser a API
# fora do Jupyter.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    API_BIND_HOST=0.0.0.0 \
    API_PORT=8000

WORKDIR /app

# 1) Dependências de terceiros numa camada própria (reaproveitada enquanto o
#    requirements.txt não muda). Linhas "-e ..." ficam para o passo 2.
COPY requirements.txt ./
RUN grep -v -E '^\s*-e\s' requirements.txt > /tmp/requirements-deps.txt \
    && pip install -r /tmp/requirements-deps.txt

# 2) O próprio kit, instalado em modo editável (pip install -e .).
COPY pyproject.toml README.md ./
COPY kit ./kit
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 1000 aluno \
    && mkdir -p data models logs outputs \
    && chown -R aluno:aluno /app

USER aluno
EXPOSE 8000

# Prepara dados/modelo/predições se faltarem (idempotente) e sobe a API.
CMD ["sh", "-c", "python -m kit prepare && exec python -m kit serve --host \"$API_BIND_HOST\" --port \"$API_PORT\""]
