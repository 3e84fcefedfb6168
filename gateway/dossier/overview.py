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
    #: who may act for the citizen (gateway/representation/overview.py), empty if Loket knows nobody
    representatives: tuple[Any, ...] = ()
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
        if get(spec["kind"]) is None:
            return []
        kinds = _list(get(spec["kind"]))

        def column(key: str, *, aligned: bool = True) -> list[Any]:
            values = _list(get(spec[key])) if spec.get(key) and get(spec[key]) is not None else []
            # A list whose elements lack a key comes back shorter: it cannot be lined up.
            return values if len(values) == len(kinds) or not aligned else []

        amounts, dates, creditors, months = column("amount"), column("date"), column("creditor"), column("months")
        nexts, next_dates = column("next"), column("next_date")
        for i, kind in enumerate(kinds):
            if str(kind) not in rule["match"]:
                continue
            amount = money(amounts[i]) if amounts else None
            when = _date(next_dates[i]) if next_dates else None
            signalled = _date(dates[i]) if dates else None
            extra = []
            if creditors:
                extra.append(f"Schuldeiser: {creditors[i]}.")
            if isinstance(months[i] if months else None, int):
                extra.append(f"Achterstand van {months[i]} maanden.")
            if nexts and when:
                extra.append(f"Aangekondigd: {nexts[i]} op {date_nl(when)}.")
            elif signalled:
                extra.append(f"Gesignaleerd op {date_nl(signalled)}.")
            fill = {"amount": euro(amount), "kind": str(kind), "date": date_nl(when or signalled)}
            out.append(ActionItem(**base, rank=int(rule["rank"]), title_nl=_fill(rule["title_nl"], **fill),
                                  why_nl=rule["why_nl"], next_nl=rule["next_nl"], amount=amount,
                                  when=when or signalled, suggest=rule.get("suggest"),
                                  note_nl=" ".join(extra) or None))
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
    note = None
    if rule.get("when"):  # an optional date: the earliest one coming
        whens = sorted(d for d in (_date(v) for v in _list(get(rule["when"]))) if d is not None)
        upcoming = [d for d in whens if d >= today] or whens
        when = upcoming[0] if upcoming else None
        if when is not None and rule.get("when_what"):
            what = _list(get(rule["when_what"]))
            idx = [_date(v) for v in _list(get(rule["when"]))].index(when)
            if idx < len(what) and what[idx]:
                note = f"Volgende stap: {what[idx]} op {date_nl(when)}."
        elif when is not None:
            note = (f"Uiterlijk betalen: {date_nl(when)}." if when >= today
                    else f"Betaaldatum verstreken: {date_nl(when)}.")
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
                                else None) if refused else (note if paused is None else None))]


def action_items(values: Mapping[FieldKey, Any], asked: Sequence[AskedBefore], organisation: Callable[[str], str],
                 today: date, rules: Mapping[str, Any] | None = None) -> list[ActionItem]:
    """Deadlines and threats, most urgent first: by the rule's rank, then the earliest date."""
    rules = rules or load_rules()
    items: list[ActionItem] = []
    for rule in rules["rules"]:
        items.extend(_items_of_rule(rule, values, asked, organisation, today, int(rules.get("horizon_days", 183))))
    return sorted(items, key=lambda i: (i.rank, i.when or date.max, i.title_nl))


def _aligned(values: Mapping[FieldKey, Any], agency: str, path: str, n: int) -> list[Any]:
    col = _list(values.get((agency, path))) if path else []
    return col if len(col) == n else [None] * n


def arrears(values: Mapping[FieldKey, Any], organisation: Callable[[str], str],
            rules: Mapping[str, Any] | None = None) -> tuple[list[ArrearsLine], Decimal]:
    rules = rules or load_rules()
    lines: list[ArrearsLine] = []
    for spec in rules["arrears"]:
        agency = str(spec["agency"])
        if "list" in spec:
            kinds = _list(values.get((agency, spec["list"]["kind"])))
            amounts = _list(values.get((agency, spec["list"]["amount"])))
            if values.get((agency, spec["list"]["kind"])) is None or len(amounts) != len(kinds):
                continue

            month_col, creditor_col = (_aligned(values, agency, spec["list"].get(k, ""), len(kinds))
                                       for k in ("months", "creditor"))
            for kind, raw, months, creditor in zip(kinds, amounts, month_col, creditor_col, strict=True):
                amount = money(raw)
                if amount and amount > 0:
                    label = _fill(spec["label_nl"], kind=str(kind),
                                  creditor=f" ({creditor})" if isinstance(creditor, str) and creditor else "")
                    lines.append(ArrearsLine(agency, organisation(agency), label, amount,
                                             months if isinstance(months, int) else None))
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
                   rules: Mapping[str, Any] | None = None, representatives: Sequence[Any] = ()) -> Overview:
    items = action_items(values, asked, organisation, today, rules)
    lines, total = arrears(values, organisation, rules)
    return Overview(
        actions=tuple(items), arrears=tuple(lines), arrears_total=total,
        representatives_nl=(
            "Loket kent geen vertegenwoordiger van de burger (bewindvoerder, curator, mentor, ouder of "
            "gemachtigde): niemand handelde voor de burger en er is geen machtiging. Vraag het de burger."
            if not representatives else
            "Deze mensen mogen voor de burger handelen, ieder alleen over de genoemde onderwerpen. Het 1 Loket "
            "kijkt bij elke actie opnieuw na of het mag."),
        representatives=tuple(representatives),
        contacts=tuple(contacts), asked=tuple(asked), not_seen=tuple(not_seen),
    )
