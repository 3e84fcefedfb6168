"""A client generated from the live document drives the casemanager and citizen flow, so a
breaking change in the contract (a renamed operation, a changed body, an undeclared status)
fails the build. openapi-python-client generates it during the test run (docs/clients.md)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.helpers import eva_bsn

PACKAGE = "loket_contract_client"


@pytest.fixture(scope="module")
def generated(api: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    work = tmp_path_factory.mktemp("client")
    (work / "openapi.json").write_text(json.dumps(api.get("/openapi.json").json()))
    (work / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    r = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json",
                        "--config", "config.yaml", "--meta", "none", "--output-path", PACKAGE],
                       cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Warning" not in r.stdout + r.stderr, r.stdout + r.stderr  # every schema understood
    sys.path.insert(0, str(work))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(work))
        for mod in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[mod]


def _client(gen: Callable[[str], ModuleType], api: TestClient, token: str) -> Any:
    """The generated AuthenticatedClient over the in-process gateway (a TestClient is an httpx.Client)."""
    client = gen("client").AuthenticatedClient(base_url="http://testserver/v1", token=token)
    client.set_httpx_client(TestClient(api.app, base_url="http://testserver/v1",
                                       headers={"Authorization": f"Bearer {token}"}))
    return client


def test_generated_client_completes_the_casemanager_and_citizen_flow(
        generated: Callable[[str], ModuleType], api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    m = generated("models")
    cm = _client(generated, api, mint(sub="cm-generated"))
    coordinator = _client(generated, api, mint(role="coordinator", sub="co-generated"))
    eva = eva_bsn(sandbox)
    citizen = _client(generated, api, mint(role="citizen", sub="burger-generated", bsn=eva))

    # The coordinator opens a case on a ground (an assignment with a reason) for the casemanager,
    # who reads the dossier: consent-only categories are refused.
    ground = m.GroundIn(type_=m.GroundInType.TOEWIJZING, casemanager="cm-generated",
                        reason="Melding aan de balie: de student vraagt hulp bij geldzaken.")
    case = generated("api.cases.create_case").sync(
        client=coordinator, body=m.CaseCreate(ground=ground, burgerservicenummer=eva, purpose="student_in_crisis"))
    assert isinstance(case, m.CasePublic), case
    dossier = generated("api.dossier.get_dossier").sync(case.id, client=cm)
    assert isinstance(dossier, m.DossierPublic)
    assert "duo.studieschuld" in {f"{r.agency}.{r.category}" for r in dossier.refused}

    # Asks Eva's consent; Eva sees the request and approves it.
    asked = generated("api.consent_requests.create_consent_request").sync(
        case.id, client=cm, body=m.ConsentRequestCreate(categories=["duo.studieschuld"], message="Mag ik dit zien?"))
    assert isinstance(asked, m.ConsentRequestPublic)
    mine = generated("api.consent_requests.list_my_consent_requests").sync(client=citizen)
    assert asked.id in [r.id for r in mine.items]
    answers = m.ConsentRequestAnswerAnswers.from_dict({"duo.studieschuld": "approve"})
    answered = generated("api.consent_requests.answer_consent_request").sync(
        asked.id, client=citizen, body=m.ConsentRequestAnswer(answers=answers))
    assert isinstance(answered, m.ConsentRequestPublic) and len(answered.consents_created) == 1

    # The next dossier includes it, citing her consent; the casemanager sees the answer.
    dossier = generated("api.dossier.get_dossier").sync(case.id, client=cm)
    assert {f.basis.id for f in dossier.fields if f.category == "studieschuld"} == set(answered.consents_created)
    listed = generated("api.consent_requests.list_consent_requests").sync(case.id, client=cm)
    assert listed.items[0].consents_created == answered.consents_created

    # Eva sees each look and downloads the proof of one.
    accesses = generated("api.accesses.list_my_accesses").sync(client=citizen, limit=50)
    reads = [a for a in accesses.items if a.case_id == case.id and a.kind == "dossier:read"]
    assert len(reads) == 2
    proof = generated("api.accesses.get_access_proof").sync(reads[0].index, client=citizen)
    assert isinstance(proof, m.ProofBundlePublic) and proof.to_dict()["format"] == "loket-audit-proof-v1"

    # Errors are typed: the shared Problem model, with invalidParams on a 400.
    other = _client(generated, api, mint(sub="cm-generated-other"))
    missing = generated("api.cases.get_case").sync(case.id, client=other)
    assert isinstance(missing, m.Problem) and missing.status == 404
    bad = generated("api.cases.create_case").sync(
        client=coordinator, body=m.CaseCreate(ground=ground, burgerservicenummer="123456789",
                                              purpose="student_in_crisis"))
    assert isinstance(bad, m.Problem) and bad.status == 400
    assert [p.name for p in bad.invalid_params] == ["burgerservicenummer"]
    assert "123456789" not in json.dumps(bad.to_dict())


def test_every_operation_has_a_function_named_for_it(generated: Callable[[str], ModuleType],
                                                      api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    for item in doc["paths"].values():
        for op in item.values():
            tag = op["tags"][0].replace("-", "_")
            snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in op["operationId"])
            module = generated(f"api.{tag}.{snake}")
            assert callable(module.sync_detailed), op["operationId"]
