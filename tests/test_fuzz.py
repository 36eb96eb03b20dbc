"""Fuzzing da API real: o schemathesis gera requisições a partir do próprio OpenAPI dela.

Duas partes:

1. Fuzzing guiado pelo esquema (schemathesis 4 + hypothesis), pela rede, contra a API
   numa thread (kit.runner). Dados válidos (modo positivo) e inválidos (modo negativo)
   para cada operação; nenhuma resposta 5xx, nenhuma resposta fora do que o OpenAPI
   documenta (status, content-type, corpo), e todo corpo de erro em pt-BR, sem
   traceback nem caminho de arquivo. Determinístico (derandomize) e limitado a
   ~50 exemplos por operação e modo.
2. Casos extremos escritos à mão (ids que estouram, unicode, truques de caminho,
   corpos enormes, tipos errados...) que o gerador dificilmente acerta.

Por que não `schema.parametrize()`/`schemathesis.pytest.from_fixture`: o carregamento
preguiçoso do schemathesis 4.32 usa `request.node._nodeid`, que o pytest 9.2 não tem
mais ('Function' object has no attribute '_nodeid'). Aqui cada operação vira um teste
hypothesis com a estratégia da própria operação (`operation.as_strategy`) — a mesma
geração e as mesmas verificações (`case.call_and_validate`) do plugin.
"""
from __future__ import annotations

import http.client
import json
import re
from collections import Counter

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.errors import FailureGroup

from kit.api import MAX_BODY_BYTES

CLIENTE = {"pais": "Espanha", "genero": "Masculino", "idade": 41, "anos_cliente": 7, "saldo_conta": 1500.5,
           "numero_produtos": 2, "cartao_credito": "Não", "salario_estimado": 52000.0, "escore_credito": 700}

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (método, rota, modos). Fora do fuzzing: GET /metrics (texto do Prometheus, coberto em test_api)
# e o modo positivo de POST /admin/falhas (ligaria latência de até 30 s e erros de propósito).
OPERATIONS = [
    ("GET", "/", (POSITIVE,)),
    ("GET", "/health", (POSITIVE,)),
    ("GET", "/churn/{id_cliente}", (POSITIVE, NEGATIVE)),
    ("POST", "/predict", (POSITIVE, NEGATIVE)),
    ("GET", "/model", (POSITIVE,)),
    ("GET", "/admin/falhas", (POSITIVE,)),
    ("POST", "/admin/falhas", (NEGATIVE,)),
    ("POST", "/admin/recarregar", (POSITIVE,)),
    ("POST", "/admin/rotulos", (POSITIVE, NEGATIVE)),
]
NOT_FUZZED = {"GET /metrics"}
EXAMPLES = 50

# Sem schemathesis.toml, sem cache em disco, semente fixa.
CONFIG = SchemathesisConfig.from_dict({"seed": 20240917, "cache": {"enabled": False}})
# derandomize: a mesma sequência de exemplos a cada execução do mesmo código (o hypothesis também
# aproveita literais dos módulos do projeto, então mudar o código pode mudar os exemplos);
# database=None: nenhum exemplo guardado entre execuções.
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), print_blob=False,
                         phases=(Phase.explicit, Phase.generate, Phase.shrink))

# Sinais de vazamento de detalhes internos num corpo de resposta.
_LEAKS = re.compile(r'Traceback|File "|site-packages|\.py\b|(?<![\w.])/(?:work|tmp|root|home|usr|opt|var|etc)/'
                    r"|\b(?:Error|Exception)\b")
# Mensagens em inglês que o FastAPI/Starlette/pydantic mandam se ninguém traduzir.
_ENGLISH = re.compile(r"\b(?:the|error|field required|not found|there was|parsing|too large|invalid|"
                      r"value is not|input should|method not allowed)\b", re.IGNORECASE)


def assert_clean_error(status: int, text: str, content_type: str) -> dict:
    """Erro 4xx/5xx: JSON {erro, mensagem (pt-BR), request_id}, sem traceback nem caminho de arquivo."""
    assert content_type.startswith("application/json"), (status, content_type, text[:200])
    body = json.loads(text)
    assert {"erro", "mensagem", "request_id"} <= set(body), body
    message = body["mensagem"]
    assert isinstance(message, str) and len(message) > 10, body
    assert not _ENGLISH.search(message), f"mensagem em inglês: {message!r}"
    assert not _LEAKS.search(text), f"detalhe interno no corpo: {text[:300]!r}"
    return body


@pytest.fixture(scope="module", autouse=True)
def _hypothesis_home(tmp_path_factory):
    """O hypothesis guarda um cache (constantes do código) em .hypothesis/: numa pasta temporária, não no repo."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def api(module_api):
    """Uma API para o módulo inteiro (o fuzzing faz centenas de requisições)."""
    return module_api


@pytest.fixture(scope="module")
def schema(api):
    """O OpenAPI lido da API no ar, como um cliente de verdade leria."""
    return schemathesis.openapi.from_url(f"{api.url}/openapi.json", config=CONFIG)


@pytest.fixture(autouse=True)
def _faults_off(api):
    yield
    api.app.state.faults.latency_s = api.app.state.faults.error_rate = 0.0


def test_every_operation_in_the_schema_is_fuzzed(schema):
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels - NOT_FUZZED == {f"{method} {path}" for method, path, _ in OPERATIONS}


def test_error_responses_are_documented_with_the_real_error_body(schema):
    """422/404/503 devolvem {erro, mensagem, request_id}: é isso que o OpenAPI tem de dizer."""
    raw = schema.raw_schema
    for method, path, status in [("get", "/churn/{id_cliente}", "404"), ("get", "/churn/{id_cliente}", "422"),
                                 ("get", "/churn/{id_cliente}", "503"), ("post", "/predict", "422"),
                                 ("post", "/predict", "413"), ("post", "/predict", "400")]:
        content = raw["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/ErroResposta"}, (method, path, status, content)
    error = raw["components"]["schemas"]["ErroResposta"]
    assert {"erro", "mensagem", "request_id"} <= set(error["required"])
    assert "HTTPValidationError" not in json.dumps(raw["paths"]), "422 documentado com o corpo padrão do FastAPI"


@pytest.mark.parametrize("method,path,mode", [(m, p, mode) for m, p, modes in OPERATIONS for mode in modes],
                         ids=lambda v: getattr(v, "value", v))
def test_fuzz_operation(api, schema, method, path, mode):
    operation = schema[path][method]
    statuses: Counter = Counter()
    faults = api.app.state.faults

    with requests.Session() as session:  # keep-alive: centenas de requisições sem abrir conexão a cada uma

        @given(case=operation.as_strategy(generation_mode=mode))
        @FUZZ_SETTINGS
        def run(case):
            # Checagens padrão do schemathesis: not_a_server_error, status_code_conformance,
            # content_type_conformance, response_schema_conformance, response_headers_conformance,
            # negative_data_rejection, positive_data_acceptance...
            response = case.call_and_validate(session=session)
            statuses[response.status_code] += 1
            if response.status_code >= 400:
                assert_clean_error(response.status_code, response.content.decode("utf-8"),
                                   response.headers.get("content-type", [""])[0])
            # Dado inválido nunca muda o estado da API.
            assert (faults.latency_s, faults.error_rate) == (0.0, 0.0)

        run()

    assert statuses, "o hypothesis não gerou nenhum caso"
    assert not any(code >= 500 for code in statuses), statuses
    if mode is NEGATIVE:
        assert set(statuses) <= {400, 404, 405, 413, 422}, statuses
        assert sum(statuses.values()) >= EXAMPLES // 2, statuses  # o modo negativo gerou casos de verdade
    if (method, path, mode) == ("POST", "/predict", POSITIVE):
        assert statuses[200] >= EXAMPLES // 2, statuses  # clientes válidos são pontuados


def test_the_checks_are_really_on(api, schema):
    """Canário: um 5xx e um corpo de erro fora do esquema documentado reprovam de verdade."""
    case = schema["/churn/{id_cliente}"]["GET"].Case(path_parameters={"id_cliente": 12345678})
    api.app.state.faults.error_rate = 1.0
    with pytest.raises(FailureGroup) as info:
        case.call_and_validate()
    assert "Server error" in str(info.value)
    api.app.state.faults.error_rate = 0.0
    wrong_shape = schemathesis.Response(  # o 404 padrão do FastAPI, que a API não devolve mais
        status_code=404, headers={"content-type": ["application/json"]}, content=b'{"detail": "Not Found"}',
        request=requests.Request("GET", f"{api.url}/churn/12345678").prepare(), elapsed=0.01, verify=True)
    with pytest.raises(FailureGroup) as info:
        case.validate_response(wrong_shape)
    assert "Response violates schema" in str(info.value) and "mensagem" in str(info.value)


# --- Casos escritos à mão ---------------------------------------------------------------------

@pytest.mark.parametrize("raw_id,status,fragment", [
    (str(10**30), 422, "menor ou igual a 99999999999"),
    (str(2**63), 422, "menor ou igual"),           # estoura int64
    (str(2**64 + 1), 422, "menor ou igual"),
    ("99999999999", 404, "não está no lote"),       # o maior id aceito: válido, só desconhecido
    ("100000000000", 422, "menor ou igual"),        # um acima do limite
    ("-99999999999999999999", 422, "maior que 0"),
    ("-0", 422, "maior que 0"),
    ("00000000", 422, "maior que 0"),
    ("1e3", 422, "número inteiro"),
    ("12.5", 422, "número inteiro"),
    ("NaN", 422, "número inteiro"),
    ("-inf", 422, "número inteiro"),
    ("0x10", 422, "número inteiro"),
    ("١٢٣", 422, "número inteiro"),                 # dígitos arábicos
    ("１２３", 422, "número inteiro"),               # dígitos de largura total
    ("๑๒๓", 422, "número inteiro"),                 # dígitos tailandeses
    ("%F0%9F%98%80", 422, "número inteiro"),       # emoji
    ("12%00", 422, "número inteiro"),
    ("%ff%fe", 422, "número inteiro"),             # UTF-8 inválido
    ("1" * 5000, 422, "grande demais"),
    ("9" * 20000, 422, "grande demais"),
    ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, "Rota não encontrada"),
    ("a/b/c", 404, "Rota não encontrada"),
])
def test_bad_customer_ids_get_portuguese_4xx(api, raw_id, status, fragment):
    r = httpx.get(f"{api.url}/churn/{raw_id}", timeout=10)
    assert r.status_code == status, r.text[:300]
    body = assert_clean_error(r.status_code, r.text, r.headers["content-type"])
    assert fragment in body["mensagem"]
    assert raw_id[:50] not in body["mensagem"] or raw_id.isdigit()  # não ecoa lixo de volta


def _raw_get(api, path: str) -> tuple[int, dict, str]:
    """GET com o caminho exatamente como escrito (o httpx resolveria '..' antes de enviar)."""
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/churn/..%2F", "/churn/..", "/churn/%2e%2e/", "/churn/../../etc/passwd",
                                  "/churn/%00", "/churn/" + "7" * 100_000])
def test_path_tricks_never_escape_the_api(api, path):
    """Nada de 200 fora da rota, nada de redirecionar para outro host; no fim, um 4xx em pt-BR."""
    for _ in range(3):
        status, headers, text = _raw_get(api, path)
        if status not in (301, 302, 307, 308):
            break
        location = headers.get("location", "")
        assert location.startswith(api.url + "/"), f"redireciona para fora da API: {location}"
        path = location[len(api.url):]
    assert 400 <= status < 500, (status, text[:200])
    assert_clean_error(status, text, headers.get("content-type", ""))


def test_long_path_sent_in_pieces_gets_the_same_answer(api):
    """Um caminho de 100 KB que chega aos pedaços (rede lenta, máquina ocupada) tem a mesma resposta pt-BR.

    Com o limite padrão do h11 (16 KB por evento incompleto) o servidor cortava o pedido com um 400 em
    inglês e resetava a conexão — só quando os bytes chegavam em partes, por isso falhava às vezes.
    """
    import socket
    import time

    request = ("GET /churn/" + "7" * 100_000 + " HTTP/1.1\r\nHost: teste\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as sock:
        for start in range(0, len(request), 4096):
            sock.sendall(request[start:start + 4096])
            time.sleep(0.002)  # cada pedaço chega num evento separado do servidor
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 422"), head[:200]
    assert "grande demais" in json.loads(body)["mensagem"]


@pytest.mark.parametrize("body,fields", [
    ({}, {"pais", "genero", "idade", "anos_cliente", "saldo_conta", "numero_produtos", "cartao_credito",
          "salario_estimado", "escore_credito"}),
    ({**CLIENTE, "nome": "Maria da Silva"}, {"nome"}),
    ({**CLIENTE, "__proto__": {"admin": True}}, {"__proto__"}),
    ({**CLIENTE, "idade": 41.5}, {"idade"}),
    ({**CLIENTE, "idade": "41"}, {"idade"}),           # número como texto: o OpenAPI diz integer
    ({**CLIENTE, "numero_produtos": True}, {"numero_produtos"}),  # true não é 1
    ({**CLIENTE, "saldo_conta": False}, {"saldo_conta"}),
    ({**CLIENTE, "idade": 10**30}, {"idade"}),
    ({**CLIENTE, "pais": None}, {"pais"}),
    ({**CLIENTE, "pais": ["França"]}, {"pais"}),
    ({**CLIENTE, "genero": "masculino"}, {"genero"}),
    ({**CLIENTE, "cartao_credito": 1}, {"cartao_credito"}),
    ({**CLIENTE, "saldo_conta": "muito"}, {"saldo_conta"}),
    ({**CLIENTE, "saldo_conta": "NaN"}, {"saldo_conta"}),
    ({**CLIENTE, "salario_estimado": -0.01}, {"salario_estimado"}),
    ({**CLIENTE, "escore_credito": -1e308}, {"escore_credito"}),
    ({**CLIENTE, "id_cliente": 10**30}, {"id_cliente"}),
    ({**CLIENTE, "id_cliente": 0}, {"id_cliente"}),
    ({**CLIENTE, "id_cliente": 1.5}, {"id_cliente"}),
    ({**CLIENTE, "id_cliente": "١٢٣"}, {"id_cliente"}),
])
def test_predict_bad_fields_are_named_in_portuguese(api, body, fields):
    r = httpx.post(f"{api.url}/predict", json=body, timeout=30)
    assert r.status_code == 422, r.text
    data = assert_clean_error(r.status_code, r.text, r.headers["content-type"])
    assert {c["campo"] for c in data["campos"]} == fields
    assert "Maria" not in r.text  # o valor enviado (dado pessoal) não volta no erro


@pytest.mark.parametrize("raw,status", [
    (b'{"salario_estimado": -Infinity}', 422),
    (b'{"idade": 1' + b"0" * 5000 + b"}", 400),  # inteiro com 5 000 dígitos (limite do Python)
    (b"[" * 100_000 + b"]" * 100_000, 400),       # aninhamento profundo
    (b'{"pais": "Fran\xe7a"}', 400),           # latin-1: bytes que não são UTF-8
    (b"", 422),                                    # corpo vazio
    (b"null", 422),
    (b'"texto"', 422),
])
def test_predict_unparseable_bodies_are_4xx_in_portuguese(api, raw, status):
    r = httpx.post(f"{api.url}/predict", content=raw, headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == status, r.text[:300]
    assert_clean_error(r.status_code, r.text, r.headers["content-type"])


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "application/xml",
                                   "multipart/form-data; boundary=x", None])
def test_predict_wrong_content_type_is_422(api, ctype):
    headers = {"content-type": ctype} if ctype else {}
    r = httpx.post(f"{api.url}/predict", content=json.dumps(CLIENTE).encode(), headers=headers, timeout=30)
    assert r.status_code == 422, r.text
    assert_clean_error(r.status_code, r.text, r.headers["content-type"])


@pytest.mark.parametrize("body", [{"latencia_s": True}, {"taxa_erro": "1"}, {"taxa_erro": 2},
                                  {"latencia_s": -1}, {"desligar": True}, [0.5]])
def test_invalid_fault_settings_are_rejected_and_change_nothing(api, body):
    r = httpx.post(f"{api.url}/admin/falhas", json=body, timeout=30)
    assert r.status_code == 422, r.text
    assert_clean_error(r.status_code, r.text, r.headers["content-type"])
    assert httpx.get(f"{api.url}/admin/falhas", timeout=30).json() == {"latencia_s": 0.0, "taxa_erro": 0.0}


def test_wrong_method_is_405_in_portuguese(api):
    r = httpx.put(f"{api.url}/predict", json=CLIENTE, timeout=30)
    assert r.status_code == 405
    assert_clean_error(r.status_code, r.text, r.headers["content-type"])


def _big_body() -> bytes:
    body = json.dumps({**CLIENTE, "lixo": "x" * (5 * 1024 * 1024)}).encode()
    assert len(body) > 5_000_000 > MAX_BODY_BYTES
    return body


def test_huge_body_is_413_fast_and_the_api_keeps_serving(api):
    big = _big_body()
    with httpx.Client(base_url=api.url, timeout=30) as client:
        r = client.post("/predict", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text[:300]
        body = assert_clean_error(r.status_code, r.text, r.headers["content-type"])
        assert body["erro"] == "corpo_grande_demais" and "KB" in body["mensagem"]
        assert r.elapsed.total_seconds() < 10  # recusado sem ler o corpo: nada de travar
        # Uma lista de 20 000 clientes (~4 MB) também é recusada antes de virar objetos Python.
        r = client.post("/predict", json=[CLIENTE] * 20_000)
        assert r.status_code == 413
        assert client.post("/predict", json=CLIENTE).status_code == 200
        assert client.get("/health").json()["status"] == "ok"


def test_huge_chunked_body_without_content_length_is_413(api):
    """Sem Content-Length (envio em pedaços) o limite vale do mesmo jeito: conta os bytes que chegam."""
    big = _big_body()

    def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    r = httpx.post(f"{api.url}/predict", content=chunks(), headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 413, r.text[:300]
    assert_clean_error(r.status_code, r.text, r.headers["content-type"])
    assert httpx.post(f"{api.url}/predict", json=CLIENTE, timeout=30).status_code == 200


def test_body_just_under_the_limit_is_still_validated(api):
    """O limite não atrapalha corpos normais: perto do limite, o erro é o de validação (422)."""
    body = json.dumps({**CLIENTE, "lixo": "x" * (MAX_BODY_BYTES - 1000)}).encode()
    assert len(body) <= MAX_BODY_BYTES
    r = httpx.post(f"{api.url}/predict", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 422 and "lixo" in r.json()["mensagem"]
