# OPA-only glue for decision_test.rego: decide every named input with `with`, key by key.
# `loket policy test` skips this file and provides data.loket_test_results from the production
# embedded engine instead, because regopy 1.5.2 cannot evaluate `with input as ...` and takes
# minutes to compile `with input.<key> as ...` chains (docs/adr/0002).
package loket_test_results

import rego.v1

results[name] := d if {
	some name, i in data.loket_test.cases
	d := data.loket.decision with input.time_ns as i.time_ns
		with input.subject as i.subject
		with input.case as i.case
		with input.request as i.request
		with input.consents as i.consents
		with input.pilot as i.pilot
}
