package iam

// cpolicy is a policy as the index keeps it: what the grants, Explain and
// the slow paths read of it, and nothing else. It is immutable once made
// (a new version of a policy is a new cpolicy), so every snapshot that
// holds it may share it.
//
// Its rules are packed into one array of small numbers instead of the
// strings of the stored policy: a permission set as its number in the
// organization's table of set names (see mOrg.setID), which stays the same
// when the catalogue changes, and a project as its sequence number in the
// organization. A rule costs a few bytes per set and project named, where
// the stored Rule costs a slice header and a string header each.
type cpolicy struct {
	id, name    string
	principalID string // the principal's, with ptype
	// code holds the policy's rules: their number n, n+1 offsets (rule i
	// lies in [off(i), off(i+1))), then each rule as its head (the number
	// of sets, times two, plus one for a rule on the organization), its
	// sets, then its projects. Each number takes two bytes (little-endian)
	// when every number fits, else four (wide).
	code  string
	conds *[]ruleCond // the rules that have a condition, by rule index; nil: none
	// The small fields last, so that a cpolicy takes 80 bytes, not 96:
	// there is one per policy.
	ptype PrincipalType
	wide  bool
}

// holder returns the principal the policy names.
func (p *cpolicy) holder() Principal { return Principal{Type: p.ptype, ID: p.principalID} }

// num returns the i-th number of p.code.
func (p *cpolicy) num(i int) int32 {
	c := p.code
	if p.wide {
		i *= 4
		return int32(uint32(c[i]) | uint32(c[i+1])<<8 | uint32(c[i+2])<<16 | uint32(c[i+3])<<24)
	}
	i *= 2
	return int32(uint16(c[i]) | uint16(c[i+1])<<8)
}

// ruleCond is the condition of one rule.
type ruleCond struct {
	rule int32
	expr string
	cond Condition // compiled; nil: no engine, or it does not compile
}

// crule is one rule, read from a cpolicy.
type crule struct {
	p          *cpolicy
	index      int32
	start, end int // the rule's numbers in p.code (by index), after its head
	nsets      int
	onOrg      bool
}

// rules returns the number of rules.
func (p *cpolicy) rules() int {
	if p.code == "" {
		return 0
	}
	return int(p.num(0))
}

// rule returns rule i.
func (p *cpolicy) rule(i int) crule {
	start, end := int(p.num(1+i)), int(p.num(2+i))
	head := p.num(start)
	return crule{p: p, index: int32(i), start: start + 1, end: end, nsets: int(head >> 1), onOrg: head&1 == 1}
}

// set returns the table number of the rule's j-th set.
func (r *crule) set(j int) int32 { return r.p.num(r.start + j) }

// projects returns how many projects the rule lists.
func (r *crule) projects() int { return r.end - r.start - r.nsets }

// project returns the sequence number of the rule's j-th project.
func (r *crule) project(j int) int32 { return r.p.num(r.start + r.nsets + j) }

// lists reports whether the rule lists project seq.
func (r *crule) lists(seq int32) bool {
	for j := range r.projects() {
		if r.project(j) == seq {
			return true
		}
	}
	return false
}

// cond returns the rule's condition, or nil.
func (r *crule) cond() *ruleCond {
	if r.p.conds == nil {
		return nil
	}
	conds := *r.p.conds
	for i := range conds {
		if conds[i].rule == r.index {
			return &conds[i]
		}
	}
	return nil
}

// appliesAt reports whether the rule's scope covers a target, project seq
// or -1 for the organization, for a set of scope type st.
func (r *crule) appliesAt(seq int32, st ScopeType) bool {
	if seq < 0 {
		return r.onOrg
	}
	if st != ScopeProjects {
		return false
	}
	return r.onOrg || r.lists(seq)
}

// compilePolicy packs p for organization mo: set names become table
// numbers (new names are added to the table) and project IDs sequence
// numbers (a project the organization does not hold is left out: it can
// grant nothing).
func (mo *mOrg) compilePolicy(p *Policy) *cpolicy {
	cp := &cpolicy{id: p.ID, name: p.Name, principalID: p.Principal.ID, ptype: p.Principal.Type}
	n := len(p.Rules)
	if n == 0 {
		return cp
	}
	nums := append(mo.m.nums[:0], make([]int32, n+2)...)
	defer func() { mo.m.nums = nums[:0] }()
	nums[0] = int32(n)
	for i := range p.Rules {
		r := &p.Rules[i]
		nums[1+i] = int32(len(nums))
		head := int32(2 * len(r.PermissionSets))
		if r.Scope.OrganizationID != "" {
			head++
		}
		nums = append(nums, head)
		for _, name := range r.PermissionSets {
			nums = append(nums, mo.setID(name))
		}
		if r.Scope.OrganizationID == "" {
			for _, pid := range r.Scope.ProjectIDs {
				if seq, ok := mo.projSeq[pid]; ok {
					nums = append(nums, seq)
				}
			}
		}
		if r.Condition != "" {
			if cp.conds == nil {
				cp.conds = new([]ruleCond)
			}
			*cp.conds = append(*cp.conds, ruleCond{rule: int32(i), expr: r.Condition, cond: mo.m.compile(r.Condition)})
		}
	}
	nums[1+n] = int32(len(nums))
	for _, v := range nums {
		if v < 0 || v > 0xFFFF {
			cp.wide = true
			break
		}
	}
	code := mo.m.code[:0]
	for _, v := range nums {
		code = append(code, byte(v), byte(v>>8))
		if cp.wide {
			code = append(code, byte(v>>16), byte(v>>24))
		}
	}
	cp.code = string(code)
	mo.m.code = code[:0]
	return cp
}
