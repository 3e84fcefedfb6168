"""data.loket.representation.decision is the same on regopy (how the gateway decides) and on a
real OPA server serving the same bundle, over a generated corpus of representation inputs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gateway.policy.bundle import PolicyBundle
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.opa import OpaServerPolicyEngine
from gateway.representation.policy import ENTRYPOINT

pytestmark = pytest.mark.opa

KINDS = [("ouder", "brp"), ("voogd", "brp"), ("geen_gezag", "brp"), ("bewindvoerder", "ccbr"), ("mentor", "ccbr"),
         ("curator", "ccbr"), ("gemachtigde", "machtigingen"), ("bewindvoerder", "machtigingen"), ("buurman", "brp")]
ACTIONS = ["inzien", "toestemming_geven", "verzoek_beantwoorden", "aanmelden", "verhuizen"]
DOMAINS = [None, "financieel", "zorg en behandeling", "persoonlijk"]
CLOCKS = ["2026-12-19", "2026-12-20", "2032-06-02", "1 december"]
SCOPES = [[], ["financieel"], ["zorg en behandeling", "financieel"]]
WINDOWS = [(None, None), ("2021-03-15", None), ("2017-06-01", "2021-03-14"), ("2027-01-01", "2028-01-01")]
BIRTHS = [None, "2008-12-20", "2014-06-02"]


def corpus() -> list[dict[str, Any]]:
    out = []
    for i, ((kind, source), action, domain, clock) in enumerate(itertools.product(KINDS, ACTIONS, DOMAINS, CLOCKS)):
        scope = SCOPES[i % len(SCOPES)]
        start, end = WINDOWS[(i // 3) % len(WINDOWS)]
        birth = BIRTHS[(i // 5) % len(BIRTHS)]
        out.append({"clock": clock, "action": action, "domain": domain,
                    "actor": {"kind": kind, "source": source, "scope": scope, "valid_from": start, "valid_until": end},
                    "subject": {"birth_date": birth}})
    return out


def test_regopy_and_the_opa_server_decide_every_representation_alike(
        bundle: PolicyBundle, opa_engine: OpaServerPolicyEngine) -> None:
    regopy = EmbeddedPolicyEngine(bundle, entrypoints=(ENTRYPOINT,))
    cases = corpus()
    outcomes = set()
    for value in cases:
        ours = regopy.query(ENTRYPOINT, value)
        theirs = opa_engine._client.query_rule(input_data=value, package_path="loket/representation",
                                               rule_name="decision", query_params={"strict-builtin-errors": "true"})
        assert ours == theirs["result"], value
        outcomes.add((ours["allow"], tuple(r["code"] for r in ours["reasons"])))
    assert len(cases) >= 500
    assert (True, ()) in outcomes and len(outcomes) >= 8  # allows and many different refusals
