# Unit tests for data.loket.decision. Run with `loket policy test` (regopy) and
# `opa test policies/` (OPA): both must pass on these same files (issue 4, "Done when").
#
# Portability (docs/adr/0002):
#   * regopy 1.5.2 aborts/segfaults on `with input as <object>`; it handles `with input.<key> as`.
#     Tests therefore name their inputs in `cases` and read decisions through result().
#   * object.union is shallow in regopy for nested objects; inputs are built with make().
#   * tests compare values with `==` and never rely on a rule being `false` (regopy reports a
#     false bare rule as undefined).
package loket_test

import rego.v1

import data.loket

now := 1764070000000000000

hour := 3600000000000

# Decisions for the named inputs in `cases`. `loket policy test` fills data.loket_test_results
# through the production embedded engine; under `opa test` the rule in opa_results_test.rego
# computes them with `with` (which regopy cannot evaluate — see the portability note above).
result(name) := data.loket_test_results.results[name]

# Inputs are spelled out in full: regopy's object.union does not merge nested objects the way
# OPA's does (docs/adr/0002), so tests never rely on it for nested values.
make(purpose, categories, consents, role, casemanager, break_glass, justified) := {
	"time_ns": now,
	"subject": {"sub": "cm-001", "role": role, "team": "team-a"},
	"case": {
		"id": "case-1", "purpose": purpose, "casemanager": casemanager, "citizen": "ab",
		"team": "team-a", "ground": {"type": "aanmelding"},
	},
	"request": {"break_glass": break_glass, "justification_given": justified, "categories": categories},
	"consents": consents,
	"pilot": {"unverified_bases": false},
}

# The same request with one part of the case, subject or pilot switch replaced (spelled out:
# regopy's object.union is shallow).
with_case(purpose, categories, consents, team, ground) := {
	"time_ns": now,
	"subject": {"sub": "cm-001", "role": "casemanager", "team": "team-a"},
	"case": {
		"id": "case-1", "purpose": purpose, "casemanager": "cm-001", "citizen": "ab",
		"team": team, "ground": ground,
	},
	"request": {"break_glass": false, "justification_given": false, "categories": categories},
	"consents": consents,
	"pilot": {"unverified_bases": false},
}

with_pilot(purpose, categories) := {
	"time_ns": now,
	"subject": {"sub": "cm-001", "role": "casemanager", "team": "team-a"},
	"case": {
		"id": "case-1", "purpose": purpose, "casemanager": "cm-001", "citizen": "ab",
		"team": "team-a", "ground": {"type": "aanmelding"},
	},
	"request": {"break_glass": false, "justification_given": false, "categories": categories},
	"consents": [],
	"pilot": {"unverified_bases": true},
}

ask(purpose, categories, consents) := make(purpose, categories, consents, "casemanager", "cm-001", false, false)

one(agency, category) := [{"agency": agency, "category": category}]

consent(id, purpose, agency, category) := {
	"id": id, "purpose": purpose, "agency": agency, "category": category,
	"valid_from_ns": now - hour, "valid_until_ns": now + hour,
	"revoked": false, "explicit": false, "declined": false,
	"case_id": "case-1", "team": null,
}

# A consent the citizen gave a team on their own (not answering a request of this case).
team_consent(id, purpose, agency, category, team) := {
	"id": id, "purpose": purpose, "agency": agency, "category": category,
	"valid_from_ns": now - hour, "valid_until_ns": now + hour,
	"revoked": false, "explicit": false, "declined": false,
	"case_id": null, "team": team,
}

grant_of(d, agency, category) := g if {
	some g in d.grants
	g.agency == agency
	g.category == category
}

refusal_code(d, agency, category) := r.code if {
	some r in d.refusals
	r.agency == agency
	r.category == category
}

reason_codes(d) := [r.code | some r in d.reasons]

# --- Shape and defaults -----------------------------------------------------------------------

test_malformed_input_gets_default_deny if {
	d := loket.decision with input.nothing as true
	d.allow == false
	d.grants == []
	reason_codes(d) == ["invalid_input"]
}

test_default_text_matches_reason_data if {
	d := loket.decision with input.subject as {"sub": "cm-001"}
	d.reasons[0].reason_nl == data.loket_data.reasons.request.invalid_input.reason_nl
}

test_non_string_requested_category_is_invalid if {
	d := result("non_string_requested_category_is_invalid")
	reason_codes(d) == ["invalid_input"]
}

test_allow_iff_grants if {
	d := result("allow_iff_grants")
	d.allow == true
	count(d.grants) == 1
	d.purpose_known == true
	d.break_glass == false
	d.review_required == false
}

# --- One test per purpose ---------------------------------------------------------------------

test_purpose_vroegsignalering_contact_data_only if {
	d := result("purpose_vroegsignalering_contact_data_only")
	g := grant_of(d, "brp", "identiteit")
	g.fields == ["naam.geslachtsnaam", "naam.voornamen", "naam.voorvoegsel"]
	g.basis.id == "wgs_vroegsignalering"
	g.basis.verified == false
	count(d.grants) == 3
}

test_purpose_schuldhulp_intake_uses_wgs if {
	d := result("purpose_schuldhulp_intake_uses_wgs")
	grant_of(d, "cjib", "boetes").basis == {
		"type": "legal_basis", "id": "wgs_schuldhulp",
		"citation": data.loket_data.legal_bases.wgs_schuldhulp.citation, "verified": false,
	}
}

test_purpose_bijstand_uses_participatiewet_64 if {
	d := result("purpose_bijstand_uses_participatiewet_64")
	grant_of(d, "uwv", "ww").basis.id == "pw_64_1_b"
	grant_of(d, "belastingdienst", "inkomen").basis.id == "pw_64_1_c"
	grant_of(d, "toeslagen", "toeslagen").basis.id == "pw_64_1_h"
	grant_of(d, "duo", "studiefinanciering").basis.id == "pw_64_1_i"
	d.refusals == []
}

test_purpose_wmo_health_under_named_basis if {
	d := result("purpose_wmo_health_under_named_basis")
	g := grant_of(d, "gemeente_wmo", "gezondheid")
	g.basis.id == "wmo_5_1_1_lid1_gezondheid"
	g.basis.verified == false
}

test_purpose_wmo_reuse_of_other_domain_needs_consent if {
	d := result("purpose_wmo_reuse_of_other_domain_needs_consent")
	refusal_code(d, "uwv", "arbeidsongeschiktheid") == "consent_required"
}

test_purpose_partner_overleden if {
	d := result("purpose_partner_overleden")
	grant_of(d, "svb", "anw").basis.id == "suwi_62"
	grant_of(d, "brp", "overlijden").basis.id == "avg_6_1_e_brp"
	refusal_code(d, "toeslagen", "toeslagen") == "consent_required"
}

test_purpose_ww_warme_overdracht_minimal_fields if {
	d := result("purpose_ww_warme_overdracht_minimal_fields")
	grant_of(d, "uwv", "ww").fields == ["ww.begindatum", "ww.einddatum", "ww.status"]
}

test_purpose_ziekte_status_never_medical_without_explicit_consent if {
	d := result("purpose_ziekte_status_never_medical_without_explicit_consent")
	grant_of(d, "uwv", "arbeidsongeschiktheid").basis.id == "suwi_62"
	refusal_code(d, "uwv", "medisch") == "explicit_consent_required"
}

test_purpose_laag_inkomen_pensioen if {
	d := result("purpose_laag_inkomen_pensioen")
	grant_of(d, "svb", "aio").basis.id == "pw_64_1_b"
	refusal_code(d, "belastingdienst", "inkomen") == "consent_required"
}

test_purpose_student_in_crisis if {
	d := result("purpose_student_in_crisis")
	grant_of(d, "duo", "studiefinanciering").basis.id == "pw_64_1_i"
	refusal_code(d, "duo", "studieschuld") == "consent_required"
	refusal_code(d, "gemeente_wmo", "gezondheid") == "explicit_consent_required"
}

test_purpose_toeslagen_terugvordering if {
	d := result("purpose_toeslagen_terugvordering")
	grant_of(d, "toeslagen", "terugvordering").basis.id == "pw_64_1_h"
	refusal_code(d, "toeslagen", "toeslagen") == "consent_required"
}

test_purpose_gezagscontrole_only_custody if {
	d := result("purpose_gezagscontrole_only_custody")
	[g.category | some g in d.grants] == ["gezag"]
	d2 := result("purpose_gezagscontrole_only_custody_2")
	refusal_code(d2, "brp", "adres") == "not_needed_for_purpose"
}

test_purpose_crisis_without_break_glass_needs_consent if {
	d := result("purpose_crisis_without_break_glass_needs_consent")
	refusal_code(d, "cak", "wanbetaling") == "consent_required"
}

# --- Request-level reasons --------------------------------------------------------------------

test_reason_role_not_allowed if {
	d := result("reason_role_not_allowed")
	reason_codes(d) == ["role_not_allowed"]
	d.grants == []
	d.allow == false
}

test_reason_unknown_purpose if {
	d := result("reason_unknown_purpose")
	reason_codes(d) == ["unknown_purpose"]
	d.purpose_known == false
	d.grants == []
}

test_reason_case_not_assigned if {
	d := result("reason_case_not_assigned")
	reason_codes(d) == ["case_not_assigned"]
}

test_reasons_are_sorted_and_combined if {
	d := result("reasons_are_sorted_and_combined")
	reason_codes(d) == ["role_not_allowed", "unknown_purpose"]
}

# --- Refusals per agency/category -------------------------------------------------------------

test_refusal_not_needed_for_purpose if {
	d := result("refusal_not_needed_for_purpose")
	refusal_code(d, "cjib", "boetes") == "not_needed_for_purpose"
	d.allow == false
}

test_refusal_unknown_category if {
	d := result("refusal_unknown_category")
	refusal_code(d, "uwv", "geheim") == "unknown_category"
}

test_every_refusal_has_dutch_text if {
	d := result("every_refusal_has_dutch_text")
	some r in d.refusals
	r.reason_nl == data.loket_data.reasons.refusals[r.code].reason_nl
}

# --- Consent states ---------------------------------------------------------------------------

test_consent_valid_grants_and_cites_id if {
	d := result("consent_valid_grants_and_cites_id")
	g := grant_of(d, "cak", "eigen_bijdrage")
	g.basis.type == "consent"
	g.basis.id == "k-1"
	g.fields == ["eigenBijdrage.bedragMaand", "eigenBijdrage.regeling"]
}

test_consent_lowest_id_is_cited_when_several_apply if {
	d := result("consent_lowest_id_is_cited_when_several_apply")
	grant_of(d, "cak", "eigen_bijdrage").basis.id == "k-a"
}

test_consent_expired if {
	d := result("consent_expired")
	refusal_code(d, "cak", "eigen_bijdrage") == "consent_expired"
}

test_consent_not_yet_valid if {
	d := result("consent_not_yet_valid")
	refusal_code(d, "cak", "eigen_bijdrage") == "consent_not_yet_valid"
}

test_consent_valid_from_is_inclusive if {
	d := result("consent_valid_from_is_inclusive")
	grant_of(d, "cak", "eigen_bijdrage").basis.id == "k-1"
}

test_consent_revoked if {
	d := result("consent_revoked")
	refusal_code(d, "cak", "eigen_bijdrage") == "consent_revoked"
}

test_consent_wrong_purpose_does_not_count if {
	d := result("consent_wrong_purpose_does_not_count")
	refusal_code(d, "cak", "eigen_bijdrage") == "consent_required"
}

test_consent_wrong_agency_does_not_count if {
	d := result("consent_wrong_agency_does_not_count")
	refusal_code(d, "toeslagen", "toeslagen") == "consent_required"
}

test_consent_wrong_category_does_not_count if {
	d := result("consent_wrong_category_does_not_count")
	refusal_code(d, "duo", "studieschuld") == "consent_required"
}

test_special_category_needs_explicit_consent if {
	d := result("special_category_needs_explicit_consent")
	refusal_code(d, "uwv", "medisch") == "explicit_consent_required"
}

test_special_category_with_explicit_consent if {
	d := result("special_category_with_explicit_consent")
	g := grant_of(d, "uwv", "medisch")
	g.basis.type == "consent"
	g.basis.citation == data.loket_data.reasons.basis_texts.explicit_consent.citation
}

# --- Break-glass ------------------------------------------------------------------------------

crisis(justified, consents) := make("crisis_noodtoegang", null, consents, "casemanager", "cm-001", true, justified)

test_break_glass_with_justification_grants_narrow_set if {
	d := result("break_glass_with_justification_grants_narrow_set")
	d.break_glass == true
	d.review_required == true
	g := grant_of(d, "cak", "wanbetaling")
	g.basis.type == "break_glass"
	g.fields == ["wanbetaling.achterstand"]
	grant_of(d, "uwv", "ww").fields == ["ww.bedragMaand", "ww.status"]
}

test_break_glass_never_grants_special_category if {
	d := result("break_glass_never_grants_special_category")
	refusal_code(d, "gemeente_wmo", "gezondheid") == "explicit_consent_required"
}

test_break_glass_does_not_override_revoked_consent if {
	d := result("break_glass_does_not_override_revoked_consent")
	refusal_code(d, "cak", "wanbetaling") == "consent_revoked"
}

test_break_glass_without_justification_is_refused if {
	d := result("break_glass_without_justification_is_refused")
	reason_codes(d) == ["justification_required"]
	d.grants == []
	d.break_glass == false
}

test_break_glass_for_other_purpose_is_refused if {
	d := result("break_glass_for_other_purpose_is_refused")
	reason_codes(d) == ["break_glass_not_allowed"]
}

# --- The named inputs ------------------------------------------------------------------------

cases := {
	"non_string_requested_category_is_invalid": ask("schuldhulp_intake", [{"agency": 1, "category": "x"}], []),
	"allow_iff_grants": ask("gezagscontrole_minderjarige", null, []),
	"purpose_vroegsignalering_contact_data_only": with_pilot("vroegsignalering_achterstand", null),
	"purpose_schuldhulp_intake_uses_wgs": with_pilot("schuldhulp_intake", one("cjib", "boetes")),
	"purpose_bijstand_uses_participatiewet_64": ask("bijstand_na_baanverlies", null, []),
	"purpose_wmo_health_under_named_basis": with_pilot("wmo_na_ziekte", one("gemeente_wmo", "gezondheid")),
	"purpose_wmo_reuse_of_other_domain_needs_consent": ask("wmo_na_ziekte", one("uwv", "arbeidsongeschiktheid"), []),
	"purpose_partner_overleden": ask("partner_overleden", null, []),
	"purpose_ww_warme_overdracht_minimal_fields": ask("ww_warme_overdracht", one("uwv", "ww"), []),
	"purpose_ziekte_status_never_medical_without_explicit_consent": ask("ziekte_zw_wia_status", null, []),
	"purpose_laag_inkomen_pensioen": ask("laag_inkomen_pensioen", null, []),
	"purpose_student_in_crisis": ask("student_in_crisis", null, []),
	"purpose_toeslagen_terugvordering": ask("toeslagen_terugvordering_schuldregeling", null, []),
	"purpose_gezagscontrole_only_custody": ask("gezagscontrole_minderjarige", null, []),
	"purpose_gezagscontrole_only_custody_2": ask("gezagscontrole_minderjarige", one("brp", "adres"), []),
	"purpose_crisis_without_break_glass_needs_consent": ask("crisis_noodtoegang", one("cak", "wanbetaling"), []),
	"reason_role_not_allowed": make("schuldhulp_intake", null, [], "citizen", "cm-001", false, false),
	"reason_unknown_purpose": ask("nieuwsgierigheid", null, []),
	"reason_case_not_assigned": make("schuldhulp_intake", null, [], "casemanager", "cm-002", false, false),
	"refusal_not_needed_for_purpose": ask("ww_warme_overdracht", one("cjib", "boetes"), []),
	"refusal_unknown_category": ask("ww_warme_overdracht", one("uwv", "geheim"), []),
	"every_refusal_has_dutch_text": ask("schuldhulp_intake", null, []),
	"consent_valid_grants_and_cites_id": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage")]),
	"consent_lowest_id_is_cited_when_several_apply": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [consent("k-b", "schuldhulp_intake", "cak", "eigen_bijdrage"), consent("k-a", "schuldhulp_intake", "cak", "eigen_bijdrage")]),
	"consent_expired": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"valid_until_ns": now})]),
	"consent_not_yet_valid": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"valid_from_ns": now + 1})]),
	"consent_valid_from_is_inclusive": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"valid_from_ns": now})]),
	"consent_revoked": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"revoked": true})]),
	"consent_wrong_purpose_does_not_count": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [consent("k-1", "bijstand_na_baanverlies", "cak", "eigen_bijdrage")]),
	"consent_wrong_agency_does_not_count": ask("laag_inkomen_pensioen", one("toeslagen", "toeslagen"), [consent("k-1", "laag_inkomen_pensioen", "belastingdienst", "inkomen")]),
	"consent_wrong_category_does_not_count": ask("student_in_crisis", one("duo", "studieschuld"), [consent("k-1", "student_in_crisis", "duo", "studiefinanciering")]),
	"special_category_needs_explicit_consent": ask("ziekte_zw_wia_status", one("uwv", "medisch"), [consent("k-1", "ziekte_zw_wia_status", "uwv", "medisch")]),
	"special_category_with_explicit_consent": ask("ziekte_zw_wia_status", one("uwv", "medisch"), [object.union(consent("k-1", "ziekte_zw_wia_status", "uwv", "medisch"), {"explicit": true})]),
	"break_glass_with_justification_grants_narrow_set": crisis(true, []),
	"break_glass_never_grants_special_category": crisis(true, []),
	"break_glass_does_not_override_revoked_consent": crisis(true, [object.union(consent("k-1", "crisis_noodtoegang", "cak", "wanbetaling"), {"revoked": true})]),
	"break_glass_without_justification_is_refused": crisis(false, []),
	"break_glass_for_other_purpose_is_refused": make("schuldhulp_intake", null, [], "casemanager", "cm-001", true, true),
	"reasons_are_sorted_and_combined": make("onbekend", null, [], "admin", "cm-001", false, false),
	"consent_for_another_case_does_not_count": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"case_id": "case-2"})]),
	"consent_for_the_team_counts": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [team_consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage", "team-a")]),
	"consent_for_another_team_does_not_count": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [team_consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage", "team-b")]),
	"consent_declined_is_a_no": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"declined": true})]),
	"consent_declined_then_given_counts": ask("schuldhulp_intake", one("cak", "eigen_bijdrage"), [object.union(consent("k-1", "schuldhulp_intake", "cak", "eigen_bijdrage"), {"declined": true}), consent("k-2", "schuldhulp_intake", "cak", "eigen_bijdrage")]),
	"break_glass_does_not_override_a_no": crisis(true, [object.union(consent("k-1", "crisis_noodtoegang", "cak", "wanbetaling"), {"declined": true})]),
	"ground_not_allowed_for_purpose": with_case("vroegsignalering_achterstand", null, [], "team-a", {"type": "toewijzing"}),
	"no_ground_no_data": with_case("student_in_crisis", null, [], "team-a", null),
	"case_of_another_team": with_case("student_in_crisis", null, [], "team-b", {"type": "aanmelding"}),
	"unverified_basis_releases_nothing": ask("schuldhulp_intake", null, []),
	"unverified_basis_released_in_pilot": with_pilot("schuldhulp_intake", null),
}

test_consent_for_another_case_does_not_count if {
	refusal_code(result("consent_for_another_case_does_not_count"), "cak", "eigen_bijdrage") == "consent_required"
}

test_consent_for_the_team_counts if {
	g := grant_of(result("consent_for_the_team_counts"), "cak", "eigen_bijdrage")
	g.basis.id == "k-1"
}

test_consent_for_another_team_does_not_count if {
	refusal_code(result("consent_for_another_team_does_not_count"), "cak", "eigen_bijdrage") == "consent_required"
}

test_consent_declined_is_a_no if {
	d := result("consent_declined_is_a_no")
	refusal_code(d, "cak", "eigen_bijdrage") == "consent_declined"
	d.refusals[0].reason_nl == data.loket_data.reasons.refusals.consent_declined.reason_nl
}

test_consent_declined_then_given_counts if {
	grant_of(result("consent_declined_then_given_counts"), "cak", "eigen_bijdrage").basis.id == "k-2"
}

test_break_glass_does_not_override_a_no if {
	refusal_code(result("break_glass_does_not_override_a_no"), "cak", "wanbetaling") == "consent_declined"
}

test_ground_not_allowed_for_purpose if {
	d := result("ground_not_allowed_for_purpose")
	d.grants == []
	reason_codes(d) == ["ground_not_allowed"]
}

test_no_ground_no_data if {
	d := result("no_ground_no_data")
	d.allow == false
	reason_codes(d) == ["ground_not_allowed"]
}

test_case_of_another_team_gives_nothing if {
	d := result("case_of_another_team")
	d.grants == []
	reason_codes(d) == ["team_not_allowed"]
}

test_unverified_basis_releases_nothing_unless_the_pilot_is_on if {
	off := result("unverified_basis_releases_nothing")
	on := result("unverified_basis_released_in_pilot")
	some r in off.refusals
	r.code == "basis_unverified"
	not grant_of(off, r.agency, r.category)
	g := grant_of(on, r.agency, r.category)
	g.basis.verified == false
	not refusal_code(on, r.agency, r.category)
}
