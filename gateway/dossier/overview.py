"""The case overview, action first: what needs doing now, computed only from what the decision
disclosed. Pure: disclosed values, refusals and what was already asked in; sections out.

It never widens disclosure: a rule that reads a field the decision did not disclose simply
does not fire, and the overview says which organisations' data it could not see and why. The
ranking rules are data beside this module (overview_rules.json), tested on their own.

Sections, in this order: deadlines and threats; open arrears per agency with the total; who may
act for the citizen (representatives: not yet in Loket); per agency the line for professionals;
what was already asked (consent requests, agency requests), so nobody asks twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

FieldKey = tuple[str, str]  # (agency, field path)


@lru_cache(maxsize=1)
def load_rules() -> Mapping[str, Any]:
    rules: Mapping[str, Any] = json.loads(
        resources.files("gateway.dossier").joinpath("overview_rules.json").read_text("utf-8"))
    return rules


@dataclass(frozen=True)
class AskedBefore:
    """A request already made in this case (to the citizen or to an agency)."""

    what_nl: str
    status_nl: str
    agency: str | None = None
    request_type: str | None = None
    status: str | None = None  # sent | accepted | refused | failed | open | answered
    until: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ActionItem:
    rule: str
    rank: int
    agency: str
    organisation: str
    title_nl: str
    why_nl: str
    next_nl: str
    amount: Decimal | None = None
    when: date | None = None
    suggest: str | None = None  # a request type the casemanager can send from here
    note_nl: str | None = None  # e.g. an agency's refusal of an earlier request


@dataclass(frozen=True)
class ArrearsLine:
    agency: str
    organisation: str
    label_nl: str
    amount: Decimal
    months: int | None = None


@dataclass(frozen=True)
class NotSeen:
    organisation: str
    what_nl: str
    reason_nl: str


@dataclass(frozen=True)
class Contact:
    agency: str
    organisation: str
    name: str
    phone: str
    hours: str


@dataclass(frozen=True)
class Overview:
    actions: tuple[ActionItem, ...]
    arrears: tuple[ArrearsLine, ...]
    arrears_total: Decimal
    representatives_nl: str
    contacts: tuple[Contact, ...]
    asked: tuple[AskedBefore, ...]
    not_seen: tuple[NotSeen, ...]
    sections: tuple[str, ...] = field(default=("acties", "achterstanden", "vertegenwoordiging",
                                               "contact", "gevraagd"))


def money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def euro(amount: Decimal | None) -> str:
    """``€ 1.234,50`` as Dutch readers write it."""
    if amount is None:
        return ""
    whole, cents = f"{amount.quantize(Decimal('0.01')):,.2f}".split(".")
    return f"€ {whole.replace(',', '.')},{cents}"


def date_nl(d: date | None) -> str:
    from gateway.oversight.access_log import MONTHS_NL

    return "" if d is None else f"{d.day} {MONTHS_NL[d.month - 1]} {d.year}"


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _fill(text: str, **values: str) -> str:
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


def _paused(asked: Sequence[AskedBefore], agency: str) -> AskedBefore | None:
    return next((a for a in asked if a.agency == agency and a.request_type == "pause_collection"
                 and a.status == "accepted"), None)


def _refused_earlier(asked: Sequence[AskedBefore], agency: str, rtype: str | None) -> AskedBefore | None:
    return next((a for a in asked if a.agency == agency and a.request_type == rtype and a.status == "refused"),
                None)


def _items_of_rule(rule: Mapping[str, Any], values: Mapping[FieldKey, Any], asked: Sequence[AskedBefore],
                   organisation: Callable[[str], str], today: date, horizon_days: int) -> list[ActionItem]:
    agency = str(rule["agency"])

    def get(path: str) -> Any:
        return values.get((agency, path))

    base = {"rule": str(rule["id"]), "agency": agency, "organisation": organisation(agency)}
    out: list[ActionItem] = []
    if "list" in rule:  # one item per matching list element (signals)
        spec = rule["list"]
        kinds = _list(get(spec["kind"]))
        amounts = _list(get(spec.get("amount", ""))) if spec.get("amount") else []
        dates = _list(get(spec.get("date", ""))) if spec.get("date") else []
        if get(spec["kind"]) is None:
            return []
        for i, kind in enumerate(kinds):
            if str(kind) not in rule["match"]:
                continue
            amount = money(amounts[i]) if i < len(amounts) else None
            when = _date(dates[i]) if i < len(dates) else None
            fill = {"amount": euro(amount), "kind": str(kind), "date": date_nl(when)}
            out.append(ActionItem(**base, rank=int(rule["rank"]), title_nl=_fill(rule["title_nl"], **fill),
                                  why_nl=rule["why_nl"], next_nl=rule["next_nl"], amount=amount, when=when,
                                  suggest=rule.get("suggest")))
        return out
    if rule.get("unless") and get(rule["unless"]) is True:
        return []
    amount = money(get(rule["amount"])) if rule.get("amount") else None
    when = None
    if "amount" in rule and "flag" not in rule:
        if amount is None or amount < Decimal(str(rule.get("min_amount", 0))):
            return []
    if "flag" in rule and get(rule["flag"]) is not True:
        return []
    if "date" in rule:
        when = _date(get(rule["date"]))
        if when is None or not 0 <= (when - today).days <= horizon_days:
            return []
    texts = rule
    rank = int(rule["rank"])
    paused = _paused(asked, agency) if rule.get("when_paused") else None
    if paused is not None:
        texts = {**rule, **rule["when_paused"]}
        rank = int(rule["when_paused"]["rank"])
    fill = {"amount": euro(amount), "date": date_nl(when), "until": date_nl(_date(paused.until)) if paused else ""}
    suggest = texts.get("suggest")
    refused = _refused_earlier(asked, agency, suggest)
    return [ActionItem(**base, rank=rank, title_nl=_fill(texts["title_nl"], **fill), why_nl=texts["why_nl"],
                       next_nl=texts["next_nl"], amount=amount, when=when, suggest=suggest,
                       note_nl=(f"Eerder gevraagd en geweigerd: {refused.reason}" if refused and refused.reason
                                else None))]


def action_items(values: Mapping[FieldKey, Any], asked: Sequence[AskedBefore], organisation: Callable[[str], str],
                 today: date, rules: Mapping[str, Any] | None = None) -> list[ActionItem]:
    """Deadlines and threats, most urgent first: by the rule's rank, then the earliest date."""
    rules = rules or load_rules()
    items: list[ActionItem] = []
    for rule in rules["rules"]:
        items.extend(_items_of_rule(rule, values, asked, organisation, today, int(rules.get("horizon_days", 183))))
    return sorted(items, key=lambda i: (i.rank, i.when or date.max, i.title_nl))


def arrears(values: Mapping[FieldKey, Any], organisation: Callable[[str], str],
            rules: Mapping[str, Any] | None = None) -> tuple[list[ArrearsLine], Decimal]:
    rules = rules or load_rules()
    lines: list[ArrearsLine] = []
    for spec in rules["arrears"]:
        agency = str(spec["agency"])
        if "list" in spec:
            kinds = values.get((agency, spec["list"]["kind"]))
            amounts = values.get((agency, spec["list"]["amount"]))
            if kinds is None or amounts is None:
                continue
            for kind, raw in zip(_list(kinds), _list(amounts), strict=False):
                amount = money(raw)
                if amount and amount > 0:
                    lines.append(ArrearsLine(agency, organisation(agency), _fill(spec["label_nl"], kind=str(kind)),
                                             amount))
            continue
        amount = money(values.get((agency, spec["amount"])))
        if amount and amount > 0:
            months = values.get((agency, spec["months"])) if spec.get("months") else None
            lines.append(ArrearsLine(agency, organisation(agency), spec["label_nl"], amount,
                                     months if isinstance(months, int) else None))
    lines.sort(key=lambda x: -x.amount)
    return lines, sum((x.amount for x in lines), Decimal("0"))


def build_overview(*, values: Mapping[FieldKey, Any], not_seen: Iterable[NotSeen], asked: Sequence[AskedBefore],
                   contacts: Iterable[Contact], organisation: Callable[[str], str], today: date,
                   rules: Mapping[str, Any] | None = None) -> Overview:
    items = action_items(values, asked, organisation, today, rules)
    lines, total = arrears(values, organisation, rules)
    return Overview(
        actions=tuple(items), arrears=tuple(lines), arrears_total=total,
        representatives_nl=("Loket weet nog niet wie namens de burger mag optreden (bewindvoerder, curator, "
                            "mentor of gemachtigde). Vraag het de burger en noteer het in uw eigen dossier."),
        contacts=tuple(contacts), asked=tuple(asked), not_seen=tuple(not_seen),
    )
