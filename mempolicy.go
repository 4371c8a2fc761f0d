package iam

import (
	"encoding/binary"
	"slices"
)

// packedPolicy is a policy as a MemoryStore holds it. Its rules, most of
// a world's heap when held as []Rule (80 bytes a rule, beside its lists),
// are packed with its optional fields into one list of strings (the name
// and description when set, the tags, then for each rule its projects,
// permission sets, organization and condition) and a description of their
// shape. The strings themselves are shared with the policy written.
type packedPolicy struct {
	id, org     string
	principalID string
	words       []string
	// shape: a byte of flags (policyHas...), the principal's type, the
	// number of tags and the number of rules, then for each rule a byte
	// of flags (ruleHas...) and the numbers of its projects and of its
	// permission sets; the numbers as uvarints.
	shape string
}

// The flags of a packed policy.
const (
	policyHasRules       = 1 << iota // Rules is not nil
	policyHasTags                    // Tags is not nil
	policyHasName                    // Name is not ""
	policyHasDescription             // Description is not ""
)

// The flags of a packed rule.
const (
	ruleHasProjects  = 1 << iota // Scope.ProjectIDs is not nil
	ruleHasSets                  // PermissionSets is not nil
	ruleHasOrg                   // Scope.OrganizationID is not ""
	ruleHasCondition             // Condition is not ""
)

// packPolicy packs p, sharing its strings but none of its slices.
func packPolicy(p Policy) *packedPolicy {
	n := len(p.Tags)
	size := 2 + 2*binary.MaxVarintLen64
	var flags byte
	if p.Rules != nil {
		flags |= policyHasRules
	}
	if p.Tags != nil {
		flags |= policyHasTags
	}
	if p.Name != "" {
		flags |= policyHasName
		n++
	}
	if p.Description != "" {
		flags |= policyHasDescription
		n++
	}
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
	var words []string
	if n > 0 {
		words = make([]string, 0, n)
	}
	var buf [64]byte // most shapes fit: one allocation, the string's
	shape := buf[:0]
	if size > len(buf) {
		shape = make([]byte, 0, size)
	}
	shape = append(shape, flags, byte(p.Principal.Type))
	shape = binary.AppendUvarint(shape, uint64(len(p.Tags)))
	shape = binary.AppendUvarint(shape, uint64(len(p.Rules)))
	if p.Name != "" {
		words = append(words, p.Name)
	}
	if p.Description != "" {
		words = append(words, p.Description)
	}
	words = append(words, p.Tags...)
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
	return &packedPolicy{id: p.ID, org: p.OrganizationID, principalID: p.Principal.ID, words: words, shape: string(shape)}
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(b[:0], uint64(n)))
}

// unpack returns the policy. Its rules are new, but its lists are slices
// (clipped) of the packed strings: like every list the store holds, they
// are never modified in place.
func (pp *packedPolicy) unpack() Policy {
	p, _ := pp.unpackInto(nil)
	return p
}

// ruleCount returns the number of the policy's rules.
func (pp *packedPolicy) ruleCount() int {
	_, rest := uvarint(pp.shape[2:]) // past the number of tags
	rules, _ := uvarint(rest)
	return rules
}

// uvarint reads the number binary.AppendUvarint wrote at the front of s
// (a string, which binary.Uvarint does not take without a copy), and
// returns it and the rest of s.
func uvarint(s string) (int, string) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := s[0]
		s = s[1:]
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int(v), s
		}
	}
}

// unpackPolicies unpacks the policies of m named by keys, their rules in
// one array.
func unpackPolicies(m map[string]any, keys []string) []Policy {
	n := 0
	for _, k := range keys {
		if pp, ok := m[k].(*packedPolicy); ok {
			n += pp.ruleCount()
		}
	}
	rules := make([]Rule, n)
	out := make([]Policy, len(keys))
	for i, k := range keys {
		switch v := m[k].(type) {
		case *packedPolicy:
			out[i], rules = v.unpackInto(rules)
		case Policy:
			out[i] = v
		}
	}
	return out
}

// unpackInto is unpack, the rules taken from the front of buf when it
// holds enough; it returns the rest of buf.
func (pp *packedPolicy) unpackInto(buf []Rule) (Policy, []Rule) {
	shape, words := pp.shape, pp.words
	next := func() int {
		var v int
		v, shape = uvarint(shape)
		return v
	}
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
	word := func(has bool) string {
		if !has {
			return ""
		}
		w := words[0]
		words = words[1:]
		return w
	}
	flags := shape[0]
	p := Policy{ID: pp.id, OrganizationID: pp.org, Principal: Principal{Type: PrincipalType(shape[1]), ID: pp.principalID}}
	shape = shape[2:]
	ntags, nrules := next(), next()
	p.Name = word(flags&policyHasName != 0)
	p.Description = word(flags&policyHasDescription != 0)
	p.Tags = take(ntags, flags&policyHasTags != 0)
	if flags&policyHasRules == 0 {
		return p, buf
	}
	if nrules == 0 {
		p.Rules = []Rule{}
	} else if len(buf) >= nrules {
		p.Rules, buf = buf[:nrules:nrules], buf[nrules:]
	} else {
		p.Rules = make([]Rule, nrules)
	}
	for i := range p.Rules {
		flags := shape[0]
		shape = shape[1:]
		np, ns := next(), next()
		r := &p.Rules[i]
		r.Scope.ProjectIDs = take(np, flags&ruleHasProjects != 0)
		r.PermissionSets = take(ns, flags&ruleHasSets != 0)
		r.Scope.OrganizationID = word(flags&ruleHasOrg != 0)
		r.Condition = word(flags&ruleHasCondition != 0)
	}
	return p, buf
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

// ownedChange returns ch with events of its own whose values are copies,
// its packed policies unpacked: the store and its log share their lists
// with the values of their events, which a reader of Changes must not
// reach (writing over one would rewrite a stored entity, unseen by the
// subscribers that follow the store).
func ownedChange(ch Change) Change {
	events := make([]Event, len(ch.Events))
	for i, ev := range ch.Events {
		switch v := ev.Value.(type) {
		case *packedPolicy:
			c := *v
			c.words = slices.Clone(v.words) // one copy for all its lists
			ev.Value = c.unpack()
		case Policy:
			ev.Value = clonePolicy(v)
		case User:
			ev.Value = cloneUser(v)
		case Application:
			ev.Value = cloneApplication(v)
		case Group:
			ev.Value = cloneGroup(v)
		case PermissionSet:
			ev.Value = clonePermissionSet(v)
		}
		events[i] = ev
	}
	ch.Events = events
	return ch
}
