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


ROLES = ("casemanager",) * 5 + ("citizen", "privacy_officer", "admin", "coordinator")


def generated(n: int = 5000, seed: int = 17) -> list[dict[str, Any]]:
    """``n`` pseudo-random inputs from a fixed seed: every purpose (and an unknown one), 0-4
    consents in every state on items in and outside the scope (bound to this case, another case,
    the case's team, another team or nobody; some declined), whole-scope and explicit requests
    (with duplicates and unknown categories), roles, teams, unassigned cases, every ground (and
    none, and one no purpose allows), the pilot switch, break-glass states and time boundaries,
    plus a few malformed shapes. Input ``i`` is the same on every run."""
    import random

    rng = random.Random(seed)
    data = load_policy_data()
    catalog = load_catalog()
    purposes = sorted(data.raw_purposes)
    catalog_keys = sorted((a, c) for a, agency in catalog.agencies.items() for c in agency.categories)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        purpose = rng.choice(purposes) if rng.random() < 0.95 else rng.choice(["onbekend_doel", "ander_doel"])
        scope = data.raw_purposes.get(purpose, {}).get("scope", {})
        scope_keys = sorted((a, c) for a in scope for c in scope[a])
        needs_consent = [k for k in scope_keys if "basis" not in scope[k[0]][k[1]]] or scope_keys or catalog_keys
        categories: list[tuple[str, str]] | None = None
        if rng.random() < 0.6:
            pool = scope_keys + rng.sample(catalog_keys, 3) + [("uwv", "onbekend"), ("nergens", "iets")]
            categories = [rng.choice(pool) for _ in range(rng.randint(1, 5))]
        consents = []
        for k in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
            agency, category = rng.choice(needs_consent) if rng.random() < 0.75 else rng.choice(catalog_keys)
            state = rng.choice(("valid", "valid", "expired", "not_yet_valid", "revoked", "edge_from", "edge_until"))
            # The recipient: this case, another case, the case's team, another team, or none.
            case_id, team = rng.choice(
                (("case-1", None),) * 3 + ((None, "team-a"), ("case-9", None), (None, "team-b"), (None, None))
            )
            c = consent(
                agency,
                category,
                purpose=purpose if rng.random() < 0.85 else rng.choice(purposes),
                id=f"k-{rng.randint(1, 5)}-{k}",
                explicit=rng.random() < 0.4,
                case_id=case_id,
                team=team,
                declined=rng.random() < 0.1,
            )
            c |= {
                "valid": {},
                "expired": {"valid_until_ns": NOW - rng.randint(1, HOUR)},
                "not_yet_valid": {"valid_from_ns": NOW + rng.randint(1, HOUR)},
                "revoked": {"revoked": True},
                "edge_from": {"valid_from_ns": NOW},
                "edge_until": {"valid_until_ns": NOW},
            }[state]
            consents.append(c)
        bg, just = rng.choice(((False, False),) * 6 + ((True, True), (True, False), (False, True)))
        role = rng.choice(ROLES)
        policy_input = make_input(
            purpose,
            categories,
            consents,
            role=role,
            casemanager="cm-001" if rng.random() < 0.9 else "cm-777",
            break_glass=bg,
            justification_given=just,
            time_ns=NOW + rng.choice((0, 0, 0, 1, -1, 10 * HOUR)),
            team=rng.choice(("team-a",) * 8 + ("team-b", None)),
            case_team=rng.choice(("team-a",) * 9 + (None,)),
            ground=rng.choice(("aanmelding", "aanmelding", "signaal", "toewijzing", None, "zelf")),
            pilot=rng.random() < 0.2,
        )
        roll = rng.random()
        if roll < 0.01:
            policy_input["consents"] = None
        elif roll < 0.02:
            policy_input["request"]["categories"] = "alles"
        elif roll < 0.03:
            policy_input["consents"] = [c | {"valid_until_ns": "morgen"} for c in consents] or [{"id": 1}]
        elif roll < 0.035:
            policy_input.pop(rng.choice(("subject", "case", "request", "time_ns")))
        out.append(policy_input)
    return out
