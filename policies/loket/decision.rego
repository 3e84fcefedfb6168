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
#
#   Portability between OPA 1.x and regopy (rego-cpp) — see docs/adr/0002:
#     * every collection that reaches the decision is a sorted array (never a set, never the
#       iteration order of an object: regopy iterates objects in insertion order, OPA sorted);
#     * no {[k, v] | some k, v in obj} comprehensions (regopy rejects them);
#     * builtins are type-guarded so a strict builtin error cannot arise in one engine only.
package loket

import rego.v1

pdata := data.loket_data

catalog := data.catalog.agencies

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

decision := {
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

purpose := pdata.purposes[purpose_id]

default purpose_known := false

purpose_known if pdata.purposes[purpose_id]

break_glass_requested if input.request.break_glass == true

justification_given if input.request.justification_given == true

# Only a casemanager pulls a dossier (PRODUCT.md "Who uses it").
request_reasons contains "role_not_allowed" if input.subject.role != "casemanager"

# A casemanager only reaches the cases assigned to them (DOMAIN.md: the Suwinet-Inkijk lesson).
request_reasons contains "case_not_assigned" if input.case.casemanager != input.subject.sub

# Unknown purpose means no data (PRODUCT.md "Deny by default").
request_reasons contains "unknown_purpose" if not purpose_known

# Break-glass exists only where a purpose defines a narrow emergency set.
request_reasons contains "break_glass_not_allowed" if {
	break_glass_requested
	purpose_known
	not purpose.break_glass
}

# Emergency access needs a written justification (PRODUCT.md "Principles").
request_reasons contains "justification_required" if {
	break_glass_requested
	not justification_given
}

reasons := [r |
	some code in sort(request_reasons)
	r := {"code": code, "reason_nl": pdata.reasons.request[code].reason_nl}
]

default break_glass_active := false

break_glass_active if {
	break_glass_requested
	count(request_reasons) == 0
}

# --- What is asked for ------------------------------------------------------------------------

# Keys are "agency/category" strings so that ordering is a plain string sort in both engines.
# Everything per item below is a partial rule keyed by that string, evaluated once per request
# (functions with comprehensions in their head are avoided: regopy 1.5.2 does not bind the
# function's arguments inside them — see docs/adr/0002).
requested[key] := {"agency": a, "category": c} if {
	all_categories_requested
	some a, cats in purpose.scope
	some c, _ in cats
	key := concat("/", [a, c])
}

requested[key] := {"agency": r.agency, "category": r.category} if {
	not all_categories_requested
	some r in input.request.categories
	key := concat("/", [r.agency, r.category])
}

requested_keys := sort([k | requested[k]])

in_catalog contains k if {
	some k, item in requested
	catalog[item.agency].categories[item.category]
}

in_scope contains k if {
	some k in in_catalog
	item := requested[k]
	purpose.scope[item.agency][item.category]
}

special contains k if {
	some k in in_catalog
	item := requested[k]
	catalog[item.agency].categories[item.category].special == true
}

# Minimisation: the purpose's field list, never wider than the catalog category.
scope_fields[k] := fields if {
	some k in in_scope
	item := requested[k]
	allowed := catalog[item.agency].categories[item.category].fields
	fields := sort([f | some f in purpose.scope[item.agency][item.category].fields; f in allowed])
}

# --- Legal basis ------------------------------------------------------------------------------

scope_basis_id[k] := id if {
	some k in in_scope
	item := requested[k]
	id := purpose.scope[item.agency][item.category].basis
	pdata.legal_bases[id]
}

# A named basis covers an ordinary category; a special category (AVG art. 9) only when the
# basis itself is an art. 9 exception (special_category: true).
basis_covers contains k if {
	some k, id in scope_basis_id
	not k in special
	pdata.legal_bases[id].special_category == false
}

basis_covers contains k if {
	some k, id in scope_basis_id
	pdata.legal_bases[id].special_category == true
}

legal_basis_of[k] := {
	"type": "legal_basis",
	"id": id,
	"citation": pdata.legal_bases[id].citation,
	"verified": pdata.legal_bases[id].verified,
} if {
	some k in basis_covers
	id := scope_basis_id[k]
}

# --- Consent (DOMAIN.md "Consent (learn from Mitz)") ------------------------------------------

# Specific: same purpose, agency (holder) and category; other consents do not count.
matching_consents[k] := consents if {
	some k in in_scope
	item := requested[k]
	consents := [cn |
		some cn in input.consents
		cn.purpose == purpose_id
		cn.agency == item.agency
		cn.category == item.category
	]
}

consent_in_window(cn) if {
	is_number(cn.valid_from_ns)
	is_number(cn.valid_until_ns)
	cn.valid_from_ns <= input.time_ns
	input.time_ns < cn.valid_until_ns
}

# Special categories need explicit consent (AVG art. 9 lid 2 onder a).
consent_kind_ok(k, _) if not k in special

consent_kind_ok(k, cn) if {
	k in special
	cn.explicit == true
}

# Sorted so that the consent cited is the same in every engine when several apply.
usable_consent_ids[k] := ids if {
	some k, consents in matching_consents
	ids := sort([cn.id |
		some cn in consents
		cn.revoked == false
		consent_in_window(cn)
		consent_kind_ok(k, cn)
		is_string(cn.id)
	])
	count(ids) > 0
}

consent_basis_of[k] := {
	"type": "consent",
	"id": ids[0],
	"citation": pdata.reasons.basis_texts[text].citation,
	"verified": pdata.reasons.basis_texts[text].verified,
} if {
	some k, ids in usable_consent_ids
	text := consent_text_key(k)
}

consent_text_key(k) := "explicit_consent" if k in special

else := "consent"

consent_revoked contains k if {
	some k, consents in matching_consents
	some cn in consents
	cn.revoked == true
}

consent_in_window_not_explicit contains k if {
	some k, consents in matching_consents
	k in special
	some cn in consents
	consent_in_window(cn)
}

consent_expired contains k if {
	some k, consents in matching_consents
	some cn in consents
	is_number(cn.valid_until_ns)
	cn.valid_until_ns <= input.time_ns
}

consent_not_yet_valid contains k if {
	some k, consents in matching_consents
	some cn in consents
	is_number(cn.valid_from_ns)
	input.time_ns < cn.valid_from_ns
}

# --- Break-glass ------------------------------------------------------------------------------

# Narrow by construction: only the purpose's break_glass.scope, never a special category.
break_glass_covers contains k if {
	break_glass_active
	some k in in_scope
	not k in special
	item := requested[k]
	purpose.break_glass.scope[item.agency][item.category]
}

break_glass_fields[k] := fields if {
	some k in break_glass_covers
	item := requested[k]
	allowed := catalog[item.agency].categories[item.category].fields
	fields := sort([f | some f in purpose.break_glass.scope[item.agency][item.category].fields; f in allowed])
}

break_glass_basis := {
	"type": "break_glass",
	"id": pdata.reasons.basis_texts.break_glass.id,
	"citation": pdata.reasons.basis_texts.break_glass.citation,
	"verified": pdata.reasons.basis_texts.break_glass.verified,
}

# --- One agency/category: the first matching line wins ----------------------------------------

# Returns a basis type ("legal_basis", "consent", "break_glass") or a refusal code.
status_of(k) := "unknown_category" if {
	not k in in_catalog
} else := "not_needed_for_purpose" if {
	not k in in_scope
} else := "legal_basis" if {
	k in basis_covers
} else := "consent" if {
	usable_consent_ids[k]
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
	k in special
} else := "consent_required"

item_status[k] := status_of(k) if {
	count(request_reasons) == 0
	some k in requested_keys
}

grant_of[k] := {"fields": scope_fields[k], "basis": legal_basis_of[k]} if item_status[k] == "legal_basis"

grant_of[k] := {"fields": scope_fields[k], "basis": consent_basis_of[k]} if item_status[k] == "consent"

grant_of[k] := {"fields": break_glass_fields[k], "basis": break_glass_basis} if {
	item_status[k] == "break_glass"
}

grants := [g |
	some k in requested_keys
	grant := grant_of[k]
	g := {
		"agency": requested[k].agency,
		"category": requested[k].category,
		"fields": grant.fields,
		"basis": grant.basis,
	}
]

refusals := [r |
	some k in requested_keys
	code := item_status[k]
	text := pdata.reasons.refusals[code]
	r := {
		"agency": requested[k].agency,
		"category": requested[k].category,
		"code": code,
		"reason_nl": text.reason_nl,
	}
]
