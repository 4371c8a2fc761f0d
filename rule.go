package iam

// Rule grants permission sets in a scope, only allowing. All its sets share
// one scope type. A non-empty Condition is a CEL expression over the request
// (see the conditions package); the rule grants only when it is true.
// A rule names at most MaxPermissionSetsPerRule sets and lists at most
// MaxProjectsPerRule projects; a condition has at most MaxConditionLength
// characters.
// PermissionSets and Scope.ProjectIDs list each entry once (a repeat is
// ErrInvalid).
type Rule struct {
	Scope          Scope
	PermissionSets []string
	Condition      string
}
