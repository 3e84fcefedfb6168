# Unit tests for data.loket.agency_request (regopy and OPA alike: the checks are functions over
# scalars, so no `with input as` is needed — see decision_test.rego's portability note).
package loket.agency_request_test

import rego.v1

import data.loket.agency_request as ar

test_pause_collection_at_cjib_is_allowed_for_debt_help if {
	ar.refusals("casemanager", "cm-001", "cm-001", "schuldhulp_intake", "aanmelding", "pause_collection", "cjib") == []
}

test_allowed_request_sends_only_the_minimum if {
	ar.sends("pause_collection", 0) == ["burgerservicenummer", "reference", "until"]
}

test_refused_request_sends_nothing if {
	ar.sends("pause_collection", 1) == []
}

test_pause_collection_at_uwv_is_not_a_thing if {
	ar.refusals("casemanager", "cm-001", "cm-001", "schuldhulp_intake", "aanmelding", "pause_collection", "uwv") == ["request_type_not_allowed"]
}

test_warm_handover_needs_a_purpose_that_allows_it if {
	ar.refusals("casemanager", "cm-001", "cm-001", "schuldhulp_intake", "aanmelding", "warm_handover", "uwv") == ["ground_not_allowed", "request_type_not_allowed"]
	ar.refusals("casemanager", "cm-001", "cm-001", "ww_warme_overdracht", "aanmelding", "warm_handover", "uwv") == []
}

test_signal_ground_does_not_allow_a_students_pause if {
	ar.refusals("casemanager", "cm-001", "cm-001", "student_in_crisis", "signaal", "pause_collection", "duo") == ["ground_not_allowed"]
}

test_case_of_another_casemanager_is_refused if {
	ar.refusals("casemanager", "cm-002", "cm-001", "schuldhulp_intake", "aanmelding", "pause_collection", "cjib") == ["case_not_assigned"]
}

test_only_a_casemanager_may_ask if {
	ar.refusals("coordinator", "co-001", "co-001", "schuldhulp_intake", "toewijzing", "payment_plan", "cjib") == ["role_not_allowed"]
}

test_unknown_request_type_is_refused if {
	ar.refusals("casemanager", "cm-001", "cm-001", "schuldhulp_intake", "aanmelding", "kwijtschelding", "cjib") == ["ground_not_allowed", "request_type_not_allowed", "unknown_request_type"]
}

test_case_without_a_ground_may_not_ask_agencies if {
	ar.refusals("casemanager", "cm-001", "cm-001", "schuldhulp_intake", null, "pause_collection", "cjib") == ["ground_not_allowed"]
}

test_signal_ground_allows_a_pause_at_the_cak_for_early_signals if {
	ar.refusals("casemanager", "cm-001", "cm-001", "vroegsignalering_achterstand", "signaal", "pause_collection", "cak") == []
	ar.refusals("casemanager", "cm-001", "cm-001", "vroegsignalering_achterstand", "toewijzing", "pause_collection", "cak") == ["ground_not_allowed"]
}
