# METADATA
# title: Acting for someone (representatives)
# description: |
#   May this actor do this action for the person they represent, on this domain, at this
#   moment? Entrypoint data.loket.representation.decision. The gateway finds the
#   representation in its register (BRP gezag, the curatele- en bewindregister, the citizen's
#   own machtigingen) and passes it as input.actor {kind, source, scope, valid_from,
#   valid_until}; the rules here decide from data (data.loket_data.representation): which
#   domains a kind covers, which actions it may do, and that a parent's or guardian's
#   authority ends on the child's 18th birthday. The clock is input.clock (a date, YYYY-MM-DD),
#   never the wall time, so a decision can be replayed and "turns 18" is testable.
#
#   Portability (docs/adr/0002): the checks are functions over scalars (as in
#   agency_request.rego); string comparisons on ISO dates; sorted arrays only.
package loket.representation

import rego.v1

default decision := {
	"allow": false,
	"reasons": [{"code": "invalid_input", "reason_nl": "We konden niet nagaan of u voor deze persoon mag handelen. Daarom is het niet gedaan."}],
	"scope": [],
}

decision := {
	"allow": count(codes) == 0,
	"reasons": [r | some code in codes; r := {"code": code, "reason_nl": data.loket_data.representation.reasons[code].reason_nl}],
	"scope": scope,
} if {
	well_formed
	scope := effective_scope(input.actor.kind, input.actor.scope)
	codes := refused_codes(
		input.clock, input.action, object.get(input, "domain", null), input.actor.kind, input.actor.source, scope,
		object.get(input.actor, "valid_from", null), object.get(input.actor, "valid_until", null),
		object.get(input.subject, "birth_date", null),
	)
}

well_formed if {
	is_date(input.clock)
	is_string(input.action)
	is_string(input.actor.kind)
	is_string(input.actor.source)
	is_array(input.actor.scope)
	optional_date(object.get(input.actor, "valid_from", null))
	optional_date(object.get(input.actor, "valid_until", null))
	optional_date(object.get(input.subject, "birth_date", null))
	domain_given_if_needed(input.action, object.get(input, "domain", null))
}

is_date(d) if {
	is_string(d)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, d)
}

optional_date(d) if d == null

optional_date(d) if is_date(d)

# An action on a topic names its domain; looking (inzien) needs none.
domain_given_if_needed(action, _) if data.loket_data.representation.actions[action].needs_domain == false

domain_given_if_needed(action, domain) if {
	data.loket_data.representation.actions[action].needs_domain == true
	is_string(domain)
}

# A parent's or guardian's scope is the law's (everything for the child); a register names
# the scope of a measure (reikwijdte) and a citizen the scope of a machtiging.
effective_scope(kind, _) := sort(data.loket_data.representation.kinds[kind].scope) if {
	is_array(data.loket_data.representation.kinds[kind].scope)
}

effective_scope(kind, given) := sort(given) if data.loket_data.representation.kinds[kind].scope == null

effective_scope(kind, _) := [] if not data.loket_data.representation.kinds[kind]

# The codes of every check that fails, sorted.
refused_codes(clock, action, domain, kind, source, scope, from, until, birth) := [code |
	some code in ["action_not_allowed", "no_gezag", "not_yet_valid", "out_of_scope", "representation_ended", "subject_adult", "unknown_kind"]
	refused(code, clock, action, domain, kind, source, scope, from, until, birth)
]

refused("unknown_kind", _, _, _, kind, _, _, _, _, _) if not data.loket_data.representation.kinds[kind]

refused("unknown_kind", _, _, _, kind, source, _, _, _, _) if data.loket_data.representation.kinds[kind].source != source

refused("no_gezag", _, _, _, kind, _, _, _, _, _) if kind == "geen_gezag"

refused("action_not_allowed", _, action, _, kind, _, _, _, _, _) if {
	data.loket_data.representation.kinds[kind]
	kind != "geen_gezag"
	not action_allowed(kind, action)
}

refused("out_of_scope", _, _, domain, kind, _, scope, _, _, _) if {
	data.loket_data.representation.kinds[kind]
	kind != "geen_gezag"
	is_string(domain)
	not in_scope(scope, domain)
}

refused("not_yet_valid", clock, _, _, _, _, _, from, _, _) if {
	is_date(from)
	clock < from
}

# valid_until is the last day the representation holds.
refused("representation_ended", clock, _, _, _, _, _, _, until, _) if {
	is_date(until)
	clock > until
}

# Gezag is over minors: from the 18th birthday, nobody acts for the young adult as a parent.
refused("subject_adult", _, _, _, kind, _, _, _, _, birth) if {
	data.loket_data.representation.kinds[kind].minor_only == true
	not is_date(birth)
}

refused("subject_adult", clock, _, _, kind, _, _, _, _, birth) if {
	data.loket_data.representation.kinds[kind].minor_only == true
	is_date(birth)
	clock >= eighteenth_birthday(birth)
}

action_allowed(kind, action) if {
	some a in data.loket_data.representation.kinds[kind].actions
	a == action
}

in_scope(scope, domain) if {
	some d in scope
	d == domain
}

eighteenth_birthday(birth) := sprintf("%d%s", [to_number(substring(birth, 0, 4)) + 18, substring(birth, 4, 6)])
