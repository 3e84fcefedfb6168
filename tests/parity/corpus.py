"""The parity corpus: all purposes x consent states x requested categories x break-glass, plus
edge cases. Deterministic (no randomness) so a mismatch is reproducible by its index."""

from __future__ import annotations

import itertools
from typing import Any

from adapters.catalog import load_catalog
from gateway.policy import load_policy_data
from tests.policy.conftest import HOUR, NOW, consent, make_input

CONSENT_STATES = (
    "none",
    "valid",
    "expired",
    "not_yet_valid",
    "revoked",
    "wrong_purpose",
    "valid_explicit",
    "valid_and_revoked",
)
BREAK_GLASS = ((False, False), (True, True), (True, False))


def _consents(state: str, purpose: str, agency: str, category: str) -> list[dict[str, Any]]:
    c = consent(agency, category, purpose=purpose)
    return {
        "none": [],
        "valid": [c],
        "expired": [c | {"valid_until_ns": NOW - 1}],
        "not_yet_valid": [c | {"valid_from_ns": NOW + HOUR}],
        "revoked": [c | {"revoked": True}],
        "wrong_purpose": [c | {"purpose": "ander_doel"}],
        "valid_explicit": [c | {"explicit": True}],
        "valid_and_revoked": [c | {"id": "k-2", "revoked": True}, c | {"id": "k-9"}],
    }[state]


def corpus() -> list[dict[str, Any]]:
    data = load_policy_data()
    catalog = load_catalog()
    inputs: list[dict[str, Any]] = []
    purposes = sorted(data.raw_purposes) + ["onbekend_doel"]
    for purpose in purposes:
        scope = data.raw_purposes.get(purpose, {}).get("scope", {})
        # The consent-dependent item of this purpose (prefer a special category), if any.
        items = sorted(
            (a, c) for a, cats in scope.items() for c, i in cats.items() if "basis" not in i
        )
        specials = [i for i in items if catalog.agencies[i[0]].categories[i[1]].special]
        target = (specials or items or [("brp", "identiteit")])[0]
        outside = (
            ("cjib", "boetes")
            if ("cjib", "boetes") not in {(a, c) for a in scope for c in scope[a]}
            else ("uwv", "medisch")
        )
        requests: list[list[tuple[str, str]] | None] = [
            None,
            [target],
            [target, outside, ("uwv", "onbekend")],
        ]
        for state, req, (bg, just) in itertools.product(CONSENT_STATES, requests, BREAK_GLASS):
            inputs.append(
                make_input(
                    purpose,
                    req,
                    _consents(state, purpose, *target),
                    break_glass=bg,
                    justification_given=just,
                )
            )
    # Edge cases: roles, unassigned case, malformed shapes, boundaries, duplicates, odd types.
    base = make_input("schuldhulp_intake")
    inputs += [
        make_input(role="citizen"),
        make_input(role="privacy_officer"),
        make_input(role="admin"),
        make_input(casemanager="cm-999"),
        {},
        {"time_ns": NOW},
        base | {"consents": None},
        base | {"request": {"categories": "alles"}},
        base | {"request": {}},
        base | {"request": {"categories": [{"agency": 1, "category": "x"}]}},
        base | {"request": {"categories": []}},
        make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")] * 3),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage", valid_from_ns=NOW, valid_until_ns=NOW + 1)],
        ),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage", valid_from_ns=NOW - 1, valid_until_ns=NOW)],
        ),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage") | {"valid_until_ns": "morgen"}],
        ),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage") | {"revoked": "nee"}],
        ),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage", id="b"), consent("cak", "eigen_bijdrage", id="a")],
        ),
        make_input(
            "schuldhulp_intake",
            [("cak", "eigen_bijdrage")],
            [consent("cak", "eigen_bijdrage") | {"id": 7}],
        ),
        make_input(
            "ziekte_zw_wia_status",
            [("uwv", "medisch")],
            [consent("uwv", "medisch", purpose="ziekte_zw_wia_status") | {"explicit": "ja"}],
        ),
        make_input("schuldhulp_intake", time_ns=0),
        make_input("schuldhulp_intake", time_ns=2**62),
        make_input("Schuldhulp_Intake"),
        make_input("schuldhulp_intake") | {"extra": {"ignored": True}},
        make_input("crisis_noodtoegang", None, [], break_glass=True, justification_given=True)
        | {"request": {"break_glass": "true", "justification_given": True, "categories": None}},
    ]
    return inputs
