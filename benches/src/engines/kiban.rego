# The access decision in Rego, equivalent to kiban_core::decide::decide on the bench corpus
# (kiban-benches engines/rego.rs builds `input` and `data`). Reason codes are not modelled:
# Rego answers allow or deny.
#
# data.kiban.matrix[role][class]: "none", "read", "read-with-consent" or "creator", from the
# published access matrix; data.kiban.per_office_consent and
# data.kiban.cross_municipality_rule: the view's policy. Lapse and expiry instants arrive
# precomputed in `input` (Rego has no calendar-month arithmetic either).
package kiban

import rego.v1

default allow := false

level := data.kiban.matrix[input.principal.role][input["class"]]

allow if {
	level != "none"
	standing
	consent_ok
}

credential_ok if {
	c := input.credential
	c.holder == input.principal.key
	input.now < c.revoked_at
	c.not_before <= input.now
	input.now < c.not_after
}

live(m) if input.municipalities[m] <= input.now

office_municipality_ok if not data.kiban.cross_municipality_rule

office_municipality_ok if live(input.principal.municipality)

registration := input.subject.registrations[input.principal.key]

standing if {
	input.principal.kind == "office"
	credential_ok
	live(input.subject.insurer)
	office_municipality_ok
	registration.registered <= input.now
	input.now < registration.ended
	input.now < registration.lapses
}

standing if {
	input.principal.kind == "municipality"
	credential_ok
	input.subject.insurer == input.principal.key
	live(input.subject.insurer)
}

standing if {
	input.principal.kind == "operator"
	credential_ok
	live(input.subject.insurer)
}

standing if {
	input.principal.kind == "person"
	input.principal.key == input.subject.key
	live(input.subject.insurer)
}

standing if {
	input.principal.kind == "agent"
	r := input.subject.representations[input.principal.key]
	r.from <= input.now
	input.now < r.until
	live(input.subject.insurer)
}

consent_ok if level != "read-with-consent"

consent_ok if {
	level == "read-with-consent"
	c := consent_record
	c.given <= input.now
	input.now < c.withdrawn
	input.now < c.expires
}

consent_record := registration.consent if {
	data.kiban.per_office_consent
	input.principal.kind == "office"
} else := input.subject.consent
