# Unit tests for data.loket.representation (regopy and OPA alike: the checks are functions over
# scalars, so no `with input as` is needed; the input wiring is tested from Python,
# tests/policy/test_representation_policy.py).
package loket.representation_test

import rego.v1

import data.loket.representation as r

# refused_codes(clock, action, domain, kind, source, scope, valid_from, valid_until, birth_date)

test_bewindvoerder_acts_on_money if {
	r.refused_codes("2026-12-01", "toestemming_geven", "financieel", "bewindvoerder", "ccbr", ["financieel"], "2021-03-15", null, null) == []
}

test_bewindvoerder_not_on_care if {
	r.refused_codes("2026-12-01", "toestemming_geven", "zorg en behandeling", "bewindvoerder", "ccbr", ["financieel"], "2021-03-15", null, null) == ["out_of_scope"]
}

test_mentor_on_care_only if {
	r.refused_codes("2026-12-01", "toestemming_geven", "zorg en behandeling", "mentor", "ccbr", ["zorg en behandeling"], "2022-09-01", null, null) == []
	r.refused_codes("2026-12-01", "toestemming_geven", "financieel", "mentor", "ccbr", ["zorg en behandeling"], "2022-09-01", null, null) == ["out_of_scope"]
}

test_a_register_scope_is_the_registers if {
	r.effective_scope("bewindvoerder", ["financieel"]) == ["financieel"]
	r.effective_scope("curator", ["zorg en behandeling", "financieel"]) == ["financieel", "zorg en behandeling"]
}

test_a_parents_scope_is_the_laws_whatever_is_passed if {
	r.effective_scope("ouder", []) == ["financieel", "persoonlijk", "zorg en behandeling"]
	r.effective_scope("onbekend", ["financieel"]) == []
}

test_a_parent_acts_for_a_twelve_year_old if {
	r.refused_codes("2026-12-01", "toestemming_geven", "zorg en behandeling", "ouder", "brp", r.effective_scope("ouder", []), null, null, "2014-06-02") == []
}

test_a_parent_acts_until_the_day_before_the_18th_birthday if {
	r.refused_codes("2026-12-19", "inzien", null, "ouder", "brp", [], null, null, "2008-12-20") == []
	r.refused_codes("2026-12-20", "inzien", null, "ouder", "brp", [], null, null, "2008-12-20") == ["subject_adult"]
	r.refused_codes("2027-01-05", "inzien", null, "voogd", "brp", [], null, null, "2008-12-20") == ["subject_adult"]
}

test_a_parent_without_a_known_birth_date_is_refused if {
	r.refused_codes("2026-12-01", "inzien", null, "ouder", "brp", [], null, null, null) == ["subject_adult"]
}

test_no_gezag_means_nobody if {
	r.refused_codes("2026-12-01", "inzien", null, "geen_gezag", "brp", [], null, null, "2014-06-02") == ["no_gezag"]
}

test_an_ended_measure_is_refused if {
	r.refused_codes("2026-12-01", "toestemming_geven", "financieel", "bewindvoerder", "ccbr", ["financieel"], "2017-06-01", "2021-03-14", null) == ["representation_ended"]
}

test_a_kind_from_the_wrong_register_or_unknown_is_refused if {
	r.refused_codes("2026-12-01", "inzien", null, "bewindvoerder", "machtigingen", ["financieel"], null, null, null) == ["unknown_kind"]
	r.refused_codes("2026-12-01", "inzien", null, "buurman", "machtigingen", [], null, null, null) == ["unknown_kind"]
}

test_a_machtiging_covers_what_the_citizen_chose if {
	r.refused_codes("2026-12-01", "verzoek_beantwoorden", "financieel", "gemachtigde", "machtigingen", ["financieel"], "2026-11-01", "2027-11-01", null) == []
	r.refused_codes("2026-12-01", "verzoek_beantwoorden", "persoonlijk", "gemachtigde", "machtigingen", ["financieel"], "2026-11-01", "2027-11-01", null) == ["out_of_scope"]
	r.refused_codes("2026-10-01", "inzien", null, "gemachtigde", "machtigingen", ["financieel"], "2026-11-01", "2027-11-01", null) == ["not_yet_valid"]
}

test_an_unknown_action_is_refused if {
	r.refused_codes("2026-12-01", "verhuizen", null, "curator", "ccbr", ["persoonlijk"], null, null, null) == ["action_not_allowed"]
}

test_topics_name_their_domain_and_looking_needs_none if {
	r.domain_given_if_needed("inzien", null)
	not r.domain_given_if_needed("toestemming_geven", null)
	r.domain_given_if_needed("toestemming_geven", "financieel")
}

test_dates_are_iso_dates if {
	r.is_date("2026-12-01")
	not r.is_date("1 december 2026")
	not r.is_date(null)
	r.eighteenth_birthday("2008-12-20") == "2026-12-20"
}

test_every_reason_has_dutch_text if {
	every code in ["action_not_allowed", "invalid_input", "no_gezag", "no_representation", "not_yet_valid", "out_of_scope", "representation_ended", "subject_adult", "unknown_kind"] {
		count(data.loket_data.representation.reasons[code].reason_nl) > 20
	}
}
