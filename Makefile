# Monitoramento MLOps — comandos do curso.
#   make lab    → prepara tudo e abre o JupyterLab em minhas_aulas/ (as aulas com as tarefas em branco)
#   make test   → instala o que falta e roda a suíte inteira
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Dois estágios: o do aluno (requirements.txt + kit) e o de quem testa/corrige (+ dev e instrutor).
STAMP     := $(VENV)/.curso
DEV_STAMP := $(VENV)/.dev
PIP       := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: help venv venv-dev system-deps prepare stack stack-down doctor lab test test-fast course notebooks bench clean exercises grade meus-exercicios site

help:
	@echo "Aluno:"
	@echo "  make lab             - cria .venv (só o curso), prepara dados/modelo, sobe a stack possível e abre o JupyterLab"
	@echo "  make venv            - só cria/atualiza o .venv do curso (requirements.txt + kit)"
	@echo "  make prepare         - dados + modelo + predições (só o que faltar)"
	@echo "  make stack           - sobe a stack de monitoramento no modo rápido das aulas"
	@echo "  make stack-down      - para a stack"
	@echo "  make doctor          - diagnóstico em pt-BR: por que meu painel está vazio?"
	@echo "  make course          - roda as aulas sem interface (papermill) numa pasta temporária e mostra o tempo de cada uma"
	@echo "  make minhas-aulas    - cria minhas_aulas/ com as aulas e as tarefas ✍️ Sua vez em branco (sem sobrescrever)"
	@echo "  make meus-exercicios - copia os exercícios para meus_exercicios/ (sem sobrescrever): é lá que você trabalha"
	@echo "  make clean           - apaga logs, relatórios e o estado da stack (.run/)"
	@echo "Mantenedor e instrutor:"
	@echo "  make venv-dev        - acrescenta ao .venv as dependências de desenvolvimento e do instrutor"
	@echo "  make system-deps     - instala Prometheus, Alertmanager e Chromium via apt (root, Debian/Ubuntu)"
	@echo "  make test [TEST_JOBS=n] - a suíte inteira, em paralelo (o mesmo comando do CI)"
	@echo "  make test-fast       - a suíte sem notebooks, navegador e stack (o laço de edição, < 2 min)"
	@echo "  make notebooks       - reexecuta notebooks/ e solutions/ no lugar (antes de um commit)"
	@echo "  make bench           - benchmarks (treino e custo da instrumentação)"
	@echo "  make site            - o site do curso (MyST/Jupyter Book 2, sem rede) em site/_build/html"
	@echo "  make exercises [FORCE=1] - regera exercises/ a partir de solutions/ (nbgrader)"
	@echo "  make grade SUBMISSIONS=pasta [GRADES=notas] [TIMEOUT=120] [JOBS=n] - corrige as entregas (uma subpasta por aluno)"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	@# Confere que cada pacote importado pelas aulas e exercícios está aqui (e, num venv novo, que nada de
	@# desenvolvimento veio junto).
	$(BIN)/python scripts/check_course_env.py $(if $(wildcard $(DEV_STAMP)),,--sem-dev)
	@# JupyterLab abre .md como página renderizada (o README é o mapa do curso), como no Binder.
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-instructor.txt
	$(PIP) -r requirements-dev.txt -r requirements-instructor.txt
	@# Ninguém corrige pelo JupyterLab (a correção é `make grade`): menus e extensão de servidor do nbgrader
	@# desligados. Para ligá-los: .venv/bin/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	$(BIN)/jupyter server extension disable --sys-prefix nbgrader >/dev/null 2>&1
	@touch $(DEV_STAMP)

venv: $(STAMP)

venv-dev: $(DEV_STAMP)

system-deps:
	@bash scripts/install_system_deps.sh

prepare: venv
	$(BIN)/python -m kit prepare

stack: venv
	@$(BIN)/python -m kit stack up --rapido || echo "A stack não subiu (veja a mensagem acima); seguindo sem ela."

stack-down: venv
	$(BIN)/python -m kit stack down

doctor: venv
	$(BIN)/python -m kit doctor

lab: prepare stack minhas-aulas
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/minhas_aulas/01_preparacao_ambiente.ipynb \
		--KernelManager.transport=ipc \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

# Testes em paralelo (pytest-xdist): cada processo tem KIT_HOME e portas próprios, e cada arquivo de teste
# roda inteiro num processo só (--dist loadfile: as fixtures de módulo — stack, lote de correção, navegador —
# sobem uma vez). Um processo a mais que os núcleos: boa parte da suíte espera (coletas, alertas, kernels).
# Os arquivos mais longos entram primeiro (tests/conftest.py, LONGEST_FIRST; --no-loadscope-reorder mantém a ordem).
# (--dist loadgroup não serve: com o pytest 9 o xdist 3.8 perde o grupo e a fixture roda em dois processos.)
TEST_JOBS ?= $(shell $(PYTHON) -c "import os; print((os.cpu_count() or 1) + 1)")
test: venv-dev system-deps
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=15

course: venv
	$(BIN)/python scripts/run_course.py

# Reexecuta os notebooks no lugar (saídas novas para o commit), num KIT_HOME limpo.
notebooks: venv
	KIT_HOME=$$(mktemp -d) $(BIN)/python scripts/run_course.py --atualizar
	KIT_HOME=$$(mktemp -d) $(BIN)/python scripts/run_course.py --atualizar --pasta solutions

# O laço de edição: sem os testes que sobem notebooks, navegador ou a stack inteira (< 2 min).
test-fast: venv-dev
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile -m "not slow"

# O site do curso a partir das aulas executadas do commit (nunca reexecutadas), sem rede: site/_build/html.
site: venv-dev
	$(BIN)/python scripts/build_site.py

bench: venv
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_instrumentation.py

clean:
	rm -rf .run outputs/*.csv logs/*.log logs/*.json

# --- Exercícios -------------------------------------------------------------------------
# Aluno: `make minhas-aulas` cria minhas_aulas/ (fora do git) com as aulas e as tarefas "Sua vez" em branco,
# sem sobrescrever nada (make lab chama). notebooks/ é a versão de referência, com as soluções e as saídas.
minhas-aulas: venv
	@$(BIN)/python -m kit minhas-aulas

# Aluno: `make meus-exercicios` copia exercises/ex*.ipynb para meus_exercicios/ (fora do git) sem
# sobrescrever nada; trabalhe lá — exercises/ é regerado pelo instrutor.
meus-exercicios:
	@mkdir -p meus_exercicios
	@for nb in exercises/ex*.ipynb; do \
		dest=meus_exercicios/$$(basename "$$nb"); \
		if [ -e "$$dest" ]; then echo "mantido (já existe, não sobrescrevo o seu trabalho): $$dest"; \
		else cp "$$nb" "$$dest" && echo "copiado: $$dest"; fi; \
	done
	@echo "Pronto: abra os notebooks de meus_exercicios/ no JupyterLab (make lab) e trabalhe neles."

# Instrutor
GRADES  ?= notas
TIMEOUT ?= 120
JOBS    ?=

exercises: venv-dev
	$(BIN)/python scripts/grading.py generate $(if $(FORCE),--force,)

grade: venv-dev
	@test -n "$(SUBMISSIONS)" || { echo "Use: make grade SUBMISSIONS=<pasta com uma subpasta por aluno>"; exit 2; }
	$(BIN)/python scripts/grading.py grade "$(SUBMISSIONS)" --output "$(GRADES)" --timeout $(TIMEOUT) \
		$(if $(JOBS),--jobs $(JOBS),)
