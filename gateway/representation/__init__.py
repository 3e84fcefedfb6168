"""Acting for someone: a gemachtigde, a parent or guardian (BRP gezag), a curator, bewindvoerder
or mentor (the curatele- en bewindregister), or the citizen themself.

* ``registers.py`` looks up, once per request, what the registers say about the signed-in
  person and the person they act for (the token's or page session's ``act_for``);
* ``policy.py`` asks ``data.loket.representation.decision`` (Rego) whether that representation
  covers this action on this domain at this moment (the clock is in the input);
* ``check.py`` is the one function services call: it answers the subject's pseudonym and the
  ``representation:checked`` record to commit with the action, or records the refusal and
  raises a 403 with a B1 Dutch text;
* ``machtigingen.py``: the citizen gives and revokes a machtiging (each with its record).
"""
