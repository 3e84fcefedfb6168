# METADATA
# title: Requests to agencies (two-way casework)
# description: |
#   May this casemanager ask this agency for this (pause collection, payment plan, warm
#   handover) in this case? Entrypoint data.loket.agency_request.decision. The purpose of the
#   case, and its ground, must allow the request type to that agency
#   (data.loket_data.agency_requests). Pure, like data.loket.decision: no clock, no network.
#
#   Portability (docs/adr/0002): the checks are functions over scalars; the answer is built
#   from sorted arrays only.
package loket.agency_request

import rego.v1

default decision := {
	"allow": false,
	"reasons": [{"code": "invalid_input", "reason_nl": "Het verzoek is niet compleet. Daarom is het niet verstuurd."}],
	"sends": [],
}

decision := {
	"allow": count(codes) == 0,
	"reasons": [r | some code in codes; r := {"code": code, "reason_nl": data.loket_data.agency_requests.reasons[code].reason_nl}],
	"sends": sends(input.request.type, count(codes)),
} if {
	valid_input
	codes := refusals(
		input.subject.role, input.subject.sub, input.case.casemanager, input.case.purpose,
		object.get(input.case, "ground", null), input.request.type, input.request.agency,
	)
}

valid_input if {
	is_string(input.subject.role)
	is_string(input.subject.sub)
	is_string(input.case.casemanager)
	is_string(input.case.purpose)
	is_string(input.request.type)
	is_string(input.request.agency)
}

# The codes of every check that fails, sorted.
refusals(role, sub, casemanager, purpose, ground, rtype, agency) := [code |
	some code in ["case_not_assigned", "ground_not_allowed", "request_type_not_allowed", "role_not_allowed", "unknown_request_type"]
	fails(code, role, sub, casemanager, purpose, ground, rtype, agency)
]

# Only a casemanager asks agencies for something on a citizen's behalf.
fails("role_not_allowed", role, _, _, _, _, _, _) if role != "casemanager"

# ...and only in a case assigned to them.
fails("case_not_assigned", _, sub, casemanager, _, _, _, _) if sub != casemanager

fails("unknown_request_type", _, _, _, _, _, rtype, _) if not known_type(rtype)

fails("request_type_not_allowed", _, _, _, purpose, _, rtype, agency) if not agency_allowed(purpose, rtype, agency)

fails("ground_not_allowed", _, _, _, purpose, ground, rtype, _) if not ground_allowed(purpose, ground, rtype)

known_type(rtype) if data.loket_data.agency_requests.types[rtype]

agency_allowed(purpose, rtype, agency) if {
	some a in data.loket_data.agency_requests.purposes[purpose][rtype].agencies
	a == agency
}

# A case without a recorded ground (from before grounds existed) passes only if the data says
# grounds are not required (they are: require_ground is true since every case has one).
ground_allowed(_, ground, _) if {
	ground == null
	data.loket_data.agency_requests.require_ground == false
}

ground_allowed(purpose, ground, rtype) if {
	is_string(ground)
	some g in data.loket_data.agency_requests.purposes[purpose][rtype].grounds
	g == ground
}

# What the gateway may send: only with an allowed request, and only the type's minimum.
sends(rtype, 0) := data.loket_data.agency_requests.types[rtype].sends

sends(_, n) := [] if n > 0
