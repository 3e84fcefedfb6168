# METADATA
# title: Loket dossier decision
# description: |
#   One decision per dossier request (PRODUCT.md "The flow of one dossier request", step 3).
#   Entrypoint data.loket.decision; shape fixed by docs/contracts.md.
#
#   Pure: no clock, no network. The time comes from input.time_ns so every logged decision can
#   be replayed (PRODUCT.md "Principles").
#
#   Data (shipped in the same bundle):
#     data.loket_data.purposes     purposes, their scope per agency/category, break-glass sets
#     data.loket_data.legal_bases  legal bases (law + article, verified flag)
#     data.loket_data.reasons      refusal codes with plain-Dutch (B1) texts
#     data.catalog                 the agency catalog (policies/catalog/agencies.json)
#     data.loket_data.index        derived from the four above by gateway/policy/index.py: per
#                                  purpose, every answer that the input cannot change (which
#                                  keys are in scope, which a legal basis covers with which
#                                  grant, the consent and break-glass grant parts)
#
#   Portability between OPA 1.x and regopy (rego-cpp) — see docs/adr/0002:
#     * every collection that reaches the decision is a sorted array (never a set, never the
#       iteration order of an object: regopy iterates objects in insertion order, OPA sorted);
#     * no {[k, v] | some k, v in obj} comprehensions (regopy rejects them);
#     * builtins are type-guarded so a strict builtin error cannot arise in one engine only.
#
#   Speed in regopy (docs/adr/0002, "Speed"): a function or partial rule that indexes a
#   collection by a variable walks the whole collection, and every object bound to a variable is
#   copied. So: data paths are referenced directly (never aliased: `x := data.big` copies it),
#   functions only take and test scalars, the per-item answers the input cannot change come
#   precomputed from the index, and only the few items that depend on consent or break-glass
#   are decided per request.
package loket

import rego.v1

# --- The decision -----------------------------------------------------------------------------

# Anything that leaves `decision` undefined (malformed input) lands here: deny, with a reason.
# The text duplicates reasons.request.invalid_input because a default must be a constant;
# decision_test.rego checks that the two agree.
default decision := {
	"allow": false,
	"purpose": null,
	"purpose_known": false,
	"break_glass": false,
	"review_required": false,
	"grants": [],
	"refusals": [],
	"reasons": [{
		"code": "invalid_input",
		"reason_nl": "De aanvraag is niet compleet. Daarom geven wij geen gegevens.",
	}],
}

# A whole-scope request without consents of the purpose, break-glass or request reasons: the
# index holds the whole answer (one data reference is much cheaper in regopy than the object).
decision := data.loket_data.index.purposes[purpose_id].plain_decision if {
	valid_input
	plain_scope_request
} else := {
	"allow": count(grants) > 0,
	"purpose": input.case.purpose,
	"purpose_known": purpose_known,
	"break_glass": break_glass_active,
	"review_required": break_glass_active,
	"grants": grants,
	"refusals": refusals,
	"reasons": reasons,
} if {
	valid_input
}

# --- Input shape (docs/contracts.md "Policy input") -------------------------------------------

valid_input if {
	is_number(input.time_ns)
	is_string(input.subject.sub)
	is_string(input.subject.role)
	is_string(input.case.purpose)
	is_string(input.case.casemanager)
	is_object(input.request)
	is_array(input.consents)
	valid_requested_categories
}

# null (or absent) means "everything the purpose covers".
all_categories_requested if object.get(input.request, "categories", null) == null

valid_requested_categories if all_categories_requested

valid_requested_categories if {
	is_array(input.request.categories)
	every r in input.request.categories {
		is_string(r.agency)
		is_string(r.category)
	}
}

# --- Request-level reasons (with any of them, nothing is granted) ----------------------------

purpose_id := input.case.purpose

default purpose_known := false

# The index entry's flag, not the purpose object itself: a reference to a whole object copies it.
purpose_known if data.loket_data.index.purposes[purpose_id].known

break_glass_requested if input.request.break_glass == true

justification_given if input.request.justification_given == true

# Only a casemanager pulls a dossier (PRODUCT.md "Who uses it").
request_reasons contains "role_not_allowed" if input.subject.role != "casemanager"

# A casemanager only reaches the cases assigned to them (DOMAIN.md: the Suwinet-Inkijk lesson).
request_reasons contains "case_not_assigned" if input.case.casemanager != input.subject.sub

# ... in their own team (a case from before teams has none).
request_reasons contains "team_not_allowed" if {
	is_string(input.case.team)
	object.get(input.subject, "team", null) != input.case.team
}

# A case needs a ground the purpose allows: the citizen's aanmelding, an early-warning signal or
# a coordinator's assignment (PRODUCT.md "Principles"). No ground, no data.
request_reasons contains "ground_not_allowed" if {
	purpose_known
	not ground_allowed
}

# Type-guarded: object.get on a non-object is an error in regopy, undefined in OPA.
ground_allowed if {
	ground := object.get(input.case, "ground", null)
	is_object(ground)
	some g in data.loket_data.index.purposes[purpose_id].grounds
	g == object.get(ground, "type", null)
}

# The operator's loud pilot switch: legal bases still marked `verified: false` release data only
# while it is on (issue 16; default off).
default pilot_unverified_bases := false

pilot_unverified_bases if {
	pilot := object.get(input, "pilot", null)
	is_object(pilot)
	object.get(pilot, "unverified_bases", false) == true
}

# Unknown purpose means no data (PRODUCT.md "Deny by default").
request_reasons contains "unknown_purpose" if not purpose_known

# Break-glass exists only where a purpose defines a narrow emergency set.
request_reasons contains "break_glass_not_allowed" if {
	break_glass_requested
	purpose_known
	not data.loket_data.index.purposes[purpose_id].break_glass
}

# Emergency access needs a written justification (PRODUCT.md "Principles").
request_reasons contains "justification_required" if {
	break_glass_requested
	not justification_given
}

reasons := [r |
	some code in sort(request_reasons)
	r := {"code": code, "reason_nl": data.loket_data.reasons.request[code].reason_nl}
]

default break_glass_active := false

break_glass_active if {
	break_glass_requested
	count(request_reasons) == 0
}

# --- What is asked for ------------------------------------------------------------------------

# Keys are "agency/category" strings so that ordering is a plain string sort in both engines.
# A catalog key has exactly one "/" (gateway/policy/index.py refuses names with one), so a key
# found in the index names exactly that agency and category.
requested_keys := data.loket_data.index.purposes[purpose_id].keys if {
	all_categories_requested
} else := sort([k | requested[k]])

# Only for an explicit list: duplicates collapse; two different items with one key conflict
# (an evaluation error in both engines, as before).
requested[key] := {"agency": r.agency, "category": r.category} if {
	not all_categories_requested
	some r in input.request.categories
	key := concat("/", [r.agency, r.category])
}

# What the data alone says about an item of this purpose: "legal_basis", "needs_consent",
# "not_needed_for_purpose", or (not in the catalog) "unknown_category".
static_status := data.loket_data.index.purposes[purpose_id].status

# The requested items whose outcome depends on consent or break-glass (few), in key order.
needs_consent := data.loket_data.index.purposes[purpose_id].needs_consent if {
	count(request_reasons) == 0
	all_categories_requested
} else := [k |
	count(request_reasons) == 0
	some k in requested_keys
	static_status[k] == "needs_consent"
]

# The requested items that may end up refused, in key order, and their names.
refusal_candidates := data.loket_data.index.purposes[purpose_id].refusable if {
	count(request_reasons) == 0
	all_categories_requested
} else := [k | count(request_reasons) == 0; some k in requested_keys]

item_names := data.loket_data.index.purposes[purpose_id].refusable_names if {
	all_categories_requested
} else := requested

special_keys := {k | some k in data.loket_data.index.special}

# --- Consent (DOMAIN.md "Consent (learn from Mitz)") ------------------------------------------

# Specific: same purpose, agency (holder) and category, and given to this recipient — the one
# case whose request it answers, or the team the citizen named (as Mitz binds a consent to a
# user category); other consents do not count. One pass over the consents, each keyed like the
# requested items (a non-string agency or category matches no item, as an `==` with the item's
# name would not).
purpose_consents := [[k, cn] |
	some cn in input.consents
	cn.purpose == purpose_id
	is_string(cn.agency)
	is_string(cn.category)
	for_this_recipient(object.get(cn, "case_id", null), object.get(cn, "team", null))
	k := concat("/", [cn.agency, cn.category])
]

for_this_recipient(case_id, _) if {
	is_string(case_id)
	case_id == input.case.id
}

for_this_recipient(_, team) if {
	is_string(team)
	team == input.case.team
}

consent_in_window(cn) if {
	is_number(cn.valid_from_ns)
	is_number(cn.valid_until_ns)
	cn.valid_from_ns <= input.time_ns
	input.time_ns < cn.valid_until_ns
}

# Special categories need explicit consent (AVG art. 9 lid 2 onder a).
consent_kind_ok(special, _) if special == false

consent_kind_ok(true, cn) if cn.explicit == true

# Sorted so that the consent cited is the same in every engine when several apply.
usable_consent_ids[k] := ids if {
	some k in needs_consent
	special := k in special_keys
	ids := sort([cn.id |
		some [ck, cn] in purpose_consents
		ck == k
		cn.revoked == false
		object.get(cn, "declined", false) == false
		consent_in_window(cn)
		consent_kind_ok(special, cn)
		is_string(cn.id)
	])
	count(ids) > 0
}

consent_revoked := {k |
	some [k, cn] in purpose_consents
	cn.revoked == true
}

# The citizen said no to a consent request for this case (a "no" stays a no: PRODUCT.md).
consent_declined := {k |
	some [k, cn] in purpose_consents
	object.get(cn, "declined", false) == true
	cn.revoked == false
}

consent_in_window_not_explicit := {k |
	some [k, cn] in purpose_consents
	k in special_keys
	object.get(cn, "declined", false) == false
	consent_in_window(cn)
}

consent_expired := {k |
	some [k, cn] in purpose_consents
	is_number(cn.valid_until_ns)
	cn.valid_until_ns <= input.time_ns
}

consent_not_yet_valid := {k |
	some [k, cn] in purpose_consents
	is_number(cn.valid_from_ns)
	input.time_ns < cn.valid_from_ns
}

# --- Break-glass ------------------------------------------------------------------------------

# Narrow by construction: only the purpose's break_glass.scope, never a special category (the
# index holds a break-glass grant only for those items).
break_glass_covers := {k |
	break_glass_active
	some k in needs_consent
	data.loket_data.index.purposes[purpose_id].break_glass_grants[k]
}

# --- One item that needs consent: the first matching line wins --------------------------------

consent_status_of(k) := "consent" if {
	usable_consent_ids[k]
} else := "consent_declined" if {
	# The citizen's "no": break-glass does not override it either.
	k in consent_declined
} else := "consent_revoked" if {
	# A revoked consent is the citizen's explicit "no": break-glass does not override it.
	k in consent_revoked
} else := "break_glass" if {
	k in break_glass_covers
} else := "explicit_consent_required" if {
	k in consent_in_window_not_explicit
} else := "consent_expired" if {
	k in consent_expired
} else := "consent_not_yet_valid" if {
	k in consent_not_yet_valid
} else := "explicit_consent_required" if {
	k in special_keys
} else := "consent_required"

consent_status[k] := consent_status_of(k) if some k in needs_consent

# Every requested item's status (a basis type or a refusal code), for `loket policy eval --explain`.
item_status[k] := s if {
	count(request_reasons) == 0
	some k in requested_keys
	s := object.get(static_status, k, "unknown_category")
	s != "needs_consent"
}

item_status[k] := consent_status[k] if some k in needs_consent

# --- Grants and refusals, in key order --------------------------------------------------------

consent_grant[k] := {
	"agency": part.agency,
	"category": part.category,
	"fields": part.fields,
	"basis": {
		"type": "consent",
		"id": usable_consent_ids[k][0],
		"citation": part.citation,
		"verified": part.verified,
	},
} if {
	some k, status in consent_status
	status == "consent"
	part := data.loket_data.index.purposes[purpose_id].consent[k]
}

consent_grant[k] := grant if {
	some k, status in consent_status
	status == "break_glass"
	grant := data.loket_data.index.purposes[purpose_id].break_glass_grants[k]
}

grant_of[k] := grant if {
	count(request_reasons) == 0
	some k in requested_keys
	grant := data.loket_data.index.purposes[purpose_id].grants[k]
}

grant_of[k] := grant if some k, grant in consent_grant

grant_of[k] := grant if {
	count(request_reasons) == 0
	pilot_unverified_bases
	some k in requested_keys
	grant := data.loket_data.index.purposes[purpose_id].unverified_grants[k]
}

# The whole scope without a consent or break-glass grant: the index's list as it stands.
grants := data.loket_data.index.purposes[purpose_id].grants_list if {
	plain_scope_request
} else := data.loket_data.index.purposes[purpose_id].grants_list if {
	count(request_reasons) == 0
	all_categories_requested
	count(consent_grant) == 0
	not pilot_unverified_bases
} else := [grant_of[k] | some k in requested_keys]

# The whole scope, no consent of this purpose, no break-glass: every answer is in the index.
plain_scope_request if {
	count(request_reasons) == 0
	all_categories_requested
	count(purpose_consents) == 0
	not break_glass_active
	not pilot_unverified_bases
}

refusal_code[k] := code if {
	some k in refusal_candidates
	code := object.get(static_status, k, "unknown_category")
	code != "basis_unverified"
	data.loket_data.reasons.refusals[code]
}

refusal_code[k] := "basis_unverified" if {
	not pilot_unverified_bases
	some k in refusal_candidates
	static_status[k] == "basis_unverified"
}

refusal_code[k] := code if {
	some k, code in consent_status
	data.loket_data.reasons.refusals[code]
}

refusals := data.loket_data.index.purposes[purpose_id].plain_refusals if {
	plain_scope_request
} else := [r |
	some k in refusal_candidates
	code := refusal_code[k]
	item := item_names[k]
	r := {
		"agency": item.agency,
		"category": item.category,
		"code": code,
		"reason_nl": data.loket_data.reasons.refusals[code].reason_nl,
	}
]
