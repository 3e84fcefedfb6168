"""Every list pages the same way (cursor, limit, next_cursor, links) and, followed to its end,
returns every item exactly once, in its order — cases, consent requests (the case's and the
citizen's), accesses, the FG's log search and the break-glass queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from gateway.api.pagination import cut, encode_cursor
from tests.conftest import bearer
from tests.security.helpers import eva_bsn, open_case

JUSTIFICATION = "Dreigende uitzetting morgen, de burger is in het ziekenhuis en niet bereikbaar."


def follow(api: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[list[dict[str, Any]]]:
    """All pages of a GET list, by following links.next as a client would."""
    pages = []
    r = api.get(url, params={"limit": 2, **params}, headers=headers)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) >= {"items", "next_cursor", "links"} and len(body["items"]) <= 2
        pages.append(body["items"])
        if body["next_cursor"] is None:
            assert body["links"].get("next") is None
            return pages
        assert "cursor=" in body["links"]["next"]["href"] and "limit=2" in body["links"]["next"]["href"]
        r = api.get(body["links"]["next"]["href"], headers=headers)


def flat(pages: list[list[dict[str, Any]]], key: str = "id") -> list[Any]:
    return [item[key] for page in pages for item in page]


def test_cases_page_newest_first_each_once(api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-pages")
    opened = [open_case(api, tok, eva_bsn(sandbox)) for _ in range(5)]
    pages = follow(api, "/v1/cases", bearer(tok))
    assert len(pages) == 3 and flat(pages) == list(reversed(opened))


def test_consent_requests_page_for_the_case_and_the_citizen(api: TestClient, sandbox: Any,
                                                            mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-pages-cr")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    asked = []
    for _ in range(5):
        r = api.post(f"/v1/cases/{case_id}/consent-requests", json={"categories": ["duo.studieschuld"]},
                     headers=bearer(tok))
        assert r.status_code == 201, r.text
        asked.append(r.json()["id"])
    assert flat(follow(api, f"/v1/cases/{case_id}/consent-requests", bearer(tok))) == list(reversed(asked))
    citizen = bearer(mint(role="citizen", sub="burger-pages", bsn=eva_bsn(sandbox)))
    mine = flat(follow(api, "/v1/me/consent-requests", citizen, all="true"))
    assert len(mine) == len(set(mine)) and set(asked) <= set(mine)


def test_accesses_and_fg_search_page_on_the_log(api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-pages-log")
    case_id = open_case(api, tok, eva_bsn(sandbox))
    for _ in range(4):
        assert api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).status_code == 200
    citizen = bearer(mint(role="citizen", sub="burger-pages-log", bsn=eva_bsn(sandbox)))
    seen = flat(follow(api, "/v1/me/accesses", citizen), key="index")
    assert seen == sorted(set(seen), reverse=True) and len(seen) >= 5

    fg = bearer(mint(role="privacy_officer", sub="fg-pages"))
    body: dict[str, Any] = {"casemanager": "cm-pages-log", "limit": 2}
    indexes: list[int] = []
    while True:
        r = api.post("/v1/fg/search", json=body, headers=fg)
        assert r.status_code == 200, r.text
        indexes += [i["index"] for i in r.json()["items"]]
        if r.json()["next_cursor"] is None:
            break
        body["cursor"] = r.json()["next_cursor"]
    assert indexes == sorted(set(indexes), reverse=True) and len(indexes) == 4  # the 4 reads (a coordinator opened it)


def test_break_glass_queue_pages_both_ways(api: TestClient, sandbox: Any, mint: Callable[..., str]) -> None:
    tok = mint(sub="cm-pages-bg")
    for _ in range(3):
        case_id = open_case(api, tok, eva_bsn(sandbox), purpose="crisis_noodtoegang")
        r = api.post(f"/v1/cases/{case_id}/dossier/break-glass", json={"justification": JUSTIFICATION},
                     headers=bearer(tok))
        assert r.status_code == 200, r.text
    fg = bearer(mint(role="privacy_officer", sub="fg-pages-bg"))
    pending = flat(follow(api, "/v1/fg/break-glass", fg))
    everything = flat(follow(api, "/v1/fg/break-glass", fg, status="all"))
    assert len(pending) == len(set(pending)) >= 3
    assert sorted(everything) == sorted(set(everything)) and set(pending) <= set(everything)


def test_a_cursor_of_another_list_or_a_forged_one_is_400(api: TestClient, mint: Callable[..., str]) -> None:
    tok = bearer(mint(sub="cm-pages-bad"))
    for cursor in (encode_cursor("accesses", [3]), "bm90LWpzb24", "x" * 40):
        r = api.get("/v1/cases", params={"cursor": cursor}, headers=tok)
        assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "cursor", r.text
    r = api.get("/v1/cases", params={"limit": 201}, headers=tok)
    assert r.status_code == 400 and r.json()["invalidParams"][0] == {
        "name": "limit", "code": "maximum", "reason": r.json()["invalidParams"][0]["reason"]}


@given(keys=st.lists(st.integers(0, 10_000), unique=True, max_size=40), limit=st.integers(1, 7),
       descending=st.booleans())
def test_following_cursors_yields_each_item_once_in_order(keys: list[int], limit: int, descending: bool) -> None:
    items = [{"k": k} for k in keys]
    out: list[int] = []
    cursor = None
    while True:
        page, cursor = cut(items, list_name="t", key=lambda i: [i["k"]], cursor=cursor, limit=limit,
                           descending=descending)
        out += [i["k"] for i in page]
        if cursor is None:
            break
    assert out == sorted(keys, reverse=descending)
