"""Reading the schuldhulp agency's feed of early-warning signals (vroegsignalering).

A signal carries a BSN in the agency's answer body (never a URL); the gateway pseudonymises and
seals it at once (gateway/cases/signals.py). The feed is bounded like every agency answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

#: Signal kinds the Besluit gemeentelijke schuldhulpverlening names, plus CAK's own contribution.
SIGNAL_KINDS = frozenset({"huur", "energie", "water", "zorgverzekering", "cak", "warmte"})


class SignalFeedError(Exception):
    """The feed could not be read or did not have the expected shape (the message has no data)."""


@dataclass(frozen=True)
class SignalNotice:
    source_ref: str
    bsn: str
    soort: str
    achterstand: str
    datum: str

    def __repr__(self) -> str:  # never show the BSN
        return f"SignalNotice(source_ref={self.source_ref!r}, soort={self.soort!r})"


def read_signal_feed(base_url: str, agency: str, *, timeout_s: float, max_bytes: int) -> list[SignalNotice]:
    url = f"{base_url.rstrip('/')}/{agency}/signalen"
    try:
        with httpx.Client(timeout=timeout_s) as client, client.stream("GET", url) as r:
            if r.status_code != 200:
                raise SignalFeedError(f"signal feed answered {r.status_code}")
            body = bytearray()
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise SignalFeedError("signal feed answer too large")
    except httpx.HTTPError as e:
        raise SignalFeedError(f"signal feed unreachable ({type(e).__name__})") from None
    try:
        items = json.loads(body)["signalen"]
        out = [SignalNotice(source_ref=str(i["id"]), bsn=str(i["burgerservicenummer"]), soort=str(i["soort"]),
                            achterstand=str(i["achterstand"]), datum=str(i["datum"])) for i in items]
    except (ValueError, KeyError, TypeError) as e:
        raise SignalFeedError("signal feed answer malformed") from e
    for n in out:
        if n.soort not in SIGNAL_KINDS or len(n.source_ref) > 128 or len(n.datum) != 10 or len(n.achterstand) > 16:
            raise SignalFeedError("signal feed answer malformed")
    return out
