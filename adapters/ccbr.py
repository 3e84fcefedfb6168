"""Centraal curatele- en bewindregister (CCBR, De Rechtspraak): who represents a citizen.

A record lists the measures (``maatregelen``) a court took: curatele (the curator acts in
everything), beschermingsbewind (the bewindvoerder acts on finances) and mentorschap (the mentor
acts on care and treatment), each with its scope (``reikwijdte``) as data, its start and end,
the representative (a relative by BSN or a professional by KvK number) and the ruling. The
gateway's representation checks read the scope from here, not from code (see
:data:`SCOPE_BY_MEASURE`). The sandbox speaks the same Haal Centraal-style exchange as every
Loket agency; the real register is consulted by professionals through Rechtspraak's systems.
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter

#: The domains each measure covers, as the sandbox register states them in ``reikwijdte``.
SCOPE_BY_MEASURE: dict[str, frozenset[str]] = {
    "curatele": frozenset({"financieel", "zorg en behandeling", "persoonlijk"}),
    "beschermingsbewind": frozenset({"financieel"}),
    "mentorschap": frozenset({"zorg en behandeling"}),
}


class CcbrAdapter(HaalCentraalAdapter):
    kind = "ccbr"
