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
	id, name  string
	principal Principal
	code      packed
	conds     *[]ruleCond // the rules that have a condition, by rule index; nil: none
}

// ruleCond is the condition of one rule.
type ruleCond struct {
	rule int32
	expr string
	cond Condition // compiled; nil: no engine, or it does not compile
}

// packed holds a policy's rules: their number n, n+1 offsets (rule i lies
// in [off(i), off(i+1))), then each rule as its head (the number of sets,
// times two, plus one for a rule on the organization), its sets, then its
// projects. Each number takes 16 bits when every number fits, else 32 (two
// halves, low first: wide).
type packed struct {
	nums []uint16
	wide bool
}

func (p *packed) at(i int) int32 {
	if p.wide {
		return int32(uint32(p.nums[2*i]) | uint32(p.nums[2*i+1])<<16)
	}
	return int32(p.nums[i])
}

func (p *packed) size() int {
	if p.wide {
		return len(p.nums) / 2
	}
	return len(p.nums)
}

// crule is one rule, read from a cpolicy.
type crule struct {
	p          *cpolicy
	index      int32
	start, end int // the rule's numbers in p.code, after its head
	nsets      int
	onOrg      bool
}

// rules returns the number of rules.
func (p *cpolicy) rules() int {
	if p.code.size() == 0 {
		return 0
	}
	return int(p.code.at(0))
}

// rule returns rule i.
func (p *cpolicy) rule(i int) crule {
	start, end := int(p.code.at(1+i)), int(p.code.at(2+i))
	head := p.code.at(start)
	return crule{p: p, index: int32(i), start: start + 1, end: end, nsets: int(head >> 1), onOrg: head&1 == 1}
}

// set returns the table number of the rule's j-th set.
func (r *crule) set(j int) int32 { return r.p.code.at(r.start + j) }

// projects returns how many projects the rule lists.
func (r *crule) projects() int { return r.end - r.start - r.nsets }

// project returns the sequence number of the rule's j-th project.
func (r *crule) project(j int) int32 { return r.p.code.at(r.start + r.nsets + j) }

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
	cp := &cpolicy{id: p.ID, name: p.Name, principal: p.Principal}
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
			cp.code.wide = true
			break
		}
	}
	if cp.code.wide {
		cp.code.nums = make([]uint16, 2*len(nums))
		for i, v := range nums {
			cp.code.nums[2*i], cp.code.nums[2*i+1] = uint16(v), uint16(uint32(v)>>16)
		}
	} else {
		cp.code.nums = make([]uint16, len(nums))
		for i, v := range nums {
			cp.code.nums[i] = uint16(v)
		}
	}
	return cp
}
