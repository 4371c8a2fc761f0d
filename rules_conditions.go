package iam

import (
	"context"
	"slices"
	"sync"
)

// Rule conditions in the write rules: the one option that switches them
// on for stores and Evaluators alike, and their compilation ahead of a
// write.

// ConditionSource is an optional capability of a Store: the condition
// engine its writes compile rule conditions with (nil when conditions are
// switched off). NewEvaluator compiles the conditions of the rules it
// indexes with the engine of a store that has this capability, unless it
// is given one with WithConditions: so the engine is configured once,
// where writes are validated, and a condition means at check time what
// it meant when a write accepted it. MemoryStore has it; a store built on
// WriteRules has it by returning its rules' ConditionEngine.
type ConditionSource interface {
	ConditionEngine() ConditionEngine
}

// SharedOption configures a store and an Evaluator alike: it is both an
// Option and an EvaluatorOption (WithConditions).
type SharedOption interface {
	Option
	EvaluatorOption
}

// WithConditions switches rule conditions on, compiled by engine. It is
// the one way to say which engine compiles conditions, to a store and to
// an Evaluator.
//
// Given to a store (NewMemoryStore, NewWriteRules), it makes writes accept
// conditions: each is compiled when written, and a write whose condition
// does not compile is refused. CreatePolicy and UpdatePolicy compile a
// policy's conditions before they take the store's lock, so that a slow
// compilation never delays the reads and writes of others; inside Atomic
// (and so in LoadFile) the function runs under the lock, compilations
// included.
//
// An Evaluator takes the engine of its store by default (see
// ConditionSource), and reuses what the store compiled for a write rather
// than compiling it again. Given to NewEvaluator, WithConditions replaces
// that engine for this Evaluator only, to evaluate conditions otherwise
// than the store does (an analysis that holds every condition true, say);
// WithConditions(nil) then means that no rule with a condition grants.
func WithConditions(engine ConditionEngine) SharedOption {
	return conditionsOption{engine}
}

type conditionsOption struct{ engine ConditionEngine }

func (c conditionsOption) applyRules(o *rulesOptions)  { o.cond = c.engine }
func (c conditionsOption) applyEvaluator(e *Evaluator) { e.engine = c.engine }

// ConditionEngine returns the engine given with WithConditions, or nil.
// The engine returned answers from the rules' own compilation for the
// conditions of a write in progress (see Precompile), so that an
// Evaluator following the store does not compile them again while the
// store delivers the write; other expressions it passes to the engine
// given.
func (w *WriteRules) ConditionEngine() ConditionEngine {
	if w.cond == nil {
		return nil
	}
	return w.cond
}

// Precompile does the work of a write of policy p that needs no state,
// before the store takes its lock or opens its transaction: it checks the
// bounds on the policy's size (returning their error) and compiles its
// conditions, which the transactions then find compiled. The store calls
// release, never nil, once the write's Change has been delivered, so that
// an Evaluator following the store finds them compiled too.
func (w *WriteRules) Precompile(ctx context.Context, p Policy) (release func(), err error) {
	if err := checkPolicySize(p); err != nil {
		return func() {}, err
	}
	if w.cond == nil {
		return func() {}, nil
	}
	pinned := w.cond.pin(ctx, p.Rules)
	return func() { w.cond.unpin(pinned) }, nil
}

// storeConditions is the condition engine of write rules: the engine
// given with WithConditions, and the conditions compiled for the writes
// in progress, pinned from before the write takes the store's lock until
// the subscribers have seen it. It has its own lock, never held while
// compiling, and is safe for concurrent use.
type storeConditions struct {
	engine ConditionEngine

	mu     sync.Mutex
	pinned map[string]*pinnedCondition // by expression
}

type pinnedCondition struct {
	c    Condition
	err  error
	refs int // writes in progress that compiled it
}

// Compile returns the pinned condition of a write in progress, or compiles
// expr.
func (sc *storeConditions) Compile(expr string) (Condition, error) {
	sc.mu.Lock()
	p := sc.pinned[expr]
	sc.mu.Unlock()
	if p != nil {
		return p.c, p.err
	}
	return sc.engine.Compile(expr)
}

// pin compiles the conditions of rules, outside any lock, and pins them
// (with their errors) until unpin. It skips what the write's validation
// rejects anyway (a policy or a condition over the bounds), so that no
// oversized input is compiled.
func (sc *storeConditions) pin(ctx context.Context, rules []Rule) []string {
	if len(rules) > MaxRulesPerPolicy {
		return nil
	}
	var pinned []string
	for _, r := range rules {
		expr := r.Condition
		if expr == "" || runesOver(expr, MaxConditionLength) || ctx.Err() != nil || slices.Contains(pinned, expr) {
			continue
		}
		c, err := sc.engine.Compile(expr)
		sc.mu.Lock()
		if p := sc.pinned[expr]; p != nil {
			p.refs++
		} else {
			sc.pinned[expr] = &pinnedCondition{c: c, err: err, refs: 1}
		}
		sc.mu.Unlock()
		pinned = append(pinned, expr)
	}
	return pinned
}

// unpin releases what pin pinned.
func (sc *storeConditions) unpin(pinned []string) {
	if len(pinned) == 0 {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, expr := range pinned {
		if p := sc.pinned[expr]; p != nil {
			if p.refs--; p.refs == 0 {
				delete(sc.pinned, expr)
			}
		}
	}
}
