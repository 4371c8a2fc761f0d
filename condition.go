package iam

// ConditionEngine compiles the CEL conditions of rules. The root package
// has none, so that it imports only the standard library: a store built
// without one rejects every write that carries a condition (ErrInvalid,
// naming the rule and how to switch conditions on). The conditions package
// provides the CEL engine; switching it on is one option:
//
//	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
//
// Implementations must be safe for concurrent use.
type ConditionEngine interface {
	// Compile parses and type-checks expr once, at write time. Its error
	// says where in the expression the problem is.
	Compile(expr string) (Condition, error)
}

// Condition is a compiled rule condition. Implementations must be safe
// for concurrent use: checks on many goroutines evaluate one Condition at
// once.
type Condition interface {
	// Eval reports whether the condition holds for the request. An error
	// at run time grants nothing.
	Eval(req *Request) (bool, error)
}
