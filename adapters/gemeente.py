"""The municipality's own domains: Wmo, Participatiewet (bijstand) and schuldhulpverlening.

Three agencies (``gemeente_wmo``, ``gemeente_participatie``, ``schuldhulp``) share this kind:
they are departments of one municipality, usually behind one gateway.
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class GemeenteAdapter(HaalCentraalAdapter):
    kind = "gemeente"
