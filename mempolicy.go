package iam

import "encoding/binary"

// packedPolicy is a policy as a MemoryStore holds it: its rules, most of
// a world's heap when held as []Rule (80 bytes a rule, beside its lists),
// are packed into one list of their strings (the projects, the permission
// sets, the organization and the condition of each rule, in that order)
// and a description of their shape. The strings themselves are shared
// with the policy that was written.
type packedPolicy struct {
	p     Policy   // without its rules
	words []string // the rules' strings
	// shape: 0 for nil rules, else 1 and the number of rules, then for
	// each rule a byte of flags (ruleHas...) and the numbers of its
	// projects and of its permission sets, all as uvarints.
	shape []byte
}

// The flags of a packed rule.
const (
	ruleHasProjects  = 1 << iota // Scope.ProjectIDs is not nil
	ruleHasSets                  // PermissionSets is not nil
	ruleHasOrg                   // Scope.OrganizationID is not ""
	ruleHasCondition             // Condition is not ""
)

// packPolicy packs p, sharing its strings but none of its slices.
func packPolicy(p Policy) *packedPolicy {
	pp := &packedPolicy{p: p}
	pp.p.Rules = nil
	if p.Rules == nil {
		pp.shape = []byte{0}
		return pp
	}
	n, size := 0, 1+binary.MaxVarintLen64
	for _, r := range p.Rules {
		n += len(r.Scope.ProjectIDs) + len(r.PermissionSets)
		if r.Scope.OrganizationID != "" {
			n++
		}
		if r.Condition != "" {
			n++
		}
		size += 1 + uvarintLen(len(r.Scope.ProjectIDs)) + uvarintLen(len(r.PermissionSets))
	}
	words := make([]string, 0, n)
	shape := make([]byte, 0, size)
	shape = append(shape, 1)
	shape = binary.AppendUvarint(shape, uint64(len(p.Rules)))
	for _, r := range p.Rules {
		var flags byte
		if r.Scope.ProjectIDs != nil {
			flags |= ruleHasProjects
		}
		if r.PermissionSets != nil {
			flags |= ruleHasSets
		}
		if r.Scope.OrganizationID != "" {
			flags |= ruleHasOrg
		}
		if r.Condition != "" {
			flags |= ruleHasCondition
		}
		shape = append(shape, flags)
		shape = binary.AppendUvarint(shape, uint64(len(r.Scope.ProjectIDs)))
		shape = binary.AppendUvarint(shape, uint64(len(r.PermissionSets)))
		words = append(words, r.Scope.ProjectIDs...)
		words = append(words, r.PermissionSets...)
		if r.Scope.OrganizationID != "" {
			words = append(words, r.Scope.OrganizationID)
		}
		if r.Condition != "" {
			words = append(words, r.Condition)
		}
	}
	pp.words = words
	pp.shape = shape
	return pp
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(b[:0], uint64(n)))
}

// unpack returns the policy. Its rules are new, but their lists are
// slices (clipped) of the packed strings: like every list the store holds,
// they are never modified in place.
func (pp *packedPolicy) unpack() Policy {
	p := pp.p
	shape := pp.shape
	if shape[0] == 0 {
		return p
	}
	next := func() int {
		v, n := binary.Uvarint(shape)
		shape = shape[n:]
		return int(v)
	}
	shape = shape[1:]
	rules := make([]Rule, next())
	words := pp.words
	take := func(n int, has bool) []string {
		if !has {
			return nil
		}
		if n == 0 {
			return []string{}
		}
		l := words[:n:n]
		words = words[n:]
		return l
	}
	for i := range rules {
		flags := shape[0]
		shape = shape[1:]
		np, ns := next(), next()
		r := &rules[i]
		r.Scope.ProjectIDs = take(np, flags&ruleHasProjects != 0)
		r.PermissionSets = take(ns, flags&ruleHasSets != 0)
		if flags&ruleHasOrg != 0 {
			r.Scope.OrganizationID = words[0]
			words = words[1:]
		}
		if flags&ruleHasCondition != 0 {
			r.Condition = words[0]
			words = words[1:]
		}
	}
	p.Rules = rules
	return p
}

// logged returns the events of a committed change as the store's log
// holds them: each policy put holds the store's packed copy, packed, in
// the order of those events. It returns events itself when packed does
// not match them, or when there is no policy.
func logged(events []Event, packed []*packedPolicy) []Event {
	if len(packed) == 0 {
		return events
	}
	out := make([]Event, len(events))
	j := 0
	for i, ev := range events {
		if ev.Kind == KindPolicy && ev.Op == OpPut {
			if _, ok := ev.Value.(Policy); !ok || j == len(packed) {
				return events
			}
			ev.Value = packed[j]
			j++
		}
		out[i] = ev
	}
	if j != len(packed) {
		return events
	}
	return out
}

// unpackedChange returns ch with its packed policies unpacked, in events
// of its own, or ch itself when it holds none.
func unpackedChange(ch Change) Change {
	for i, ev := range ch.Events {
		if _, ok := ev.Value.(*packedPolicy); !ok {
			continue
		}
		events := make([]Event, len(ch.Events))
		copy(events, ch.Events[:i])
		for k := i; k < len(ch.Events); k++ {
			ev := ch.Events[k]
			if pp, ok := ev.Value.(*packedPolicy); ok {
				ev.Value = pp.unpack()
			}
			events[k] = ev
		}
		ch.Events = events
		return ch
	}
	return ch
}
