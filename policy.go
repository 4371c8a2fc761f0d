package iam

// Policy gives its rules to one principal: a user, a group or an
// application. A policy without a principal (the zero Principal), or
// without rules, grants nothing; deleting a principal leaves its policies
// so. Rules only allow and policies add up: order never matters. A
// policy has at most MaxRulesPerPolicy rules.
type Policy struct {
	ID             string
	OrganizationID string
	Name           string // optional
	Description    string
	Principal      Principal
	Rules          []Rule
	Tags           []string
}
