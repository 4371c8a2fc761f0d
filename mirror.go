package iam

import "github.com/iamkit/iam/internal/cowmap"

// The writers' side of the Evaluator's index: a mirror of what the store
// holds, reduced to what the index is derived from. Only the writer
// (holding Evaluator.mu) reads or changes it; readers see the snapshots
// derived from it (snapshot.go).
//
// The mirror keeps no copy of the store's entities: a user or application
// is a few flags, a policy is compiled into a cpolicy (compiled.go), and a
// group keeps the member lists the store gave (shared, never modified).
// What the snapshot already holds (the principals' entries and grants) the
// writer reads back from it.

type mirror struct {
	builtin    []PermissionSet
	builtinCat *catalogue
	orgs       map[string]*mOrg
	engine     ConditionEngine      // nil: conditions grant nothing
	compiled   map[string]Condition // by expression
	masks      maskTable
	scratch    scratch
	nums       []int32 // compilePolicy's working space
	code       []byte  // compilePolicy's working space for a policy's code
	nextOrg    int32   // the number of the next organization
}

func newMirror(engine ConditionEngine) *mirror {
	return &mirror{engine: engine, orgs: map[string]*mOrg{}, compiled: map[string]Condition{}}
}

// compile returns the compiled condition, or nil (grants nothing) when
// there is no engine or the expression does not compile.
func (m *mirror) compile(expr string) Condition {
	if m.engine == nil {
		return nil
	}
	if c, ok := m.compiled[expr]; ok {
		return c
	}
	c, err := m.engine.Compile(expr)
	if err != nil {
		c = nil
	}
	if len(m.compiled) >= 1<<16 {
		clear(m.compiled) // bounded, like the mask table; rules keep their own
	}
	m.compiled[expr] = c
	return c
}

// pinfo is what the index needs of a user or application.
type pinfo struct {
	typ                    PrincipalType
	locked, owner, managed bool
}

type mOrg struct {
	m       *mirror
	id      string
	num     int32  // the organization's number, never given to another
	owner   string // the owner's user ID, or ""
	cat     *catalogue
	sets    map[string]PermissionSet // the organization's own sets
	setIDs  map[string]int32         // permission-set name → table number (see setID)
	names   []string                 // table number → name; only ever appended to
	setBits []int32                  // table number → bit in cat, or -1; replaced when cat changes
	grew    bool                     // names grew in this change: the orgIndex must show them

	projSeq  map[string]int32
	projIDs  []string // by sequence number; "" once deleted (numbers are never given again)
	nextProj int32

	principals map[string]pinfo   // users and applications
	memberOf   map[string][]int32 // the explicit groups of a user or application, sorted; replaced, never modified

	groups    map[string]Group
	groupSeq  map[string]int32
	nextGroup int32   // one more than the highest number ever given
	freeSeqs  []int32 // numbers of deleted groups, to give again
	groupG    map[int32]*grants

	policies map[string]*cpolicy
	byHolder map[Principal][]*cpolicy // by policy ID; replaced, never modified once published

	combos     comboBook
	gt         *groupTable // the groups' grants, as of the last change to them
	nextHolder [2]int32    // users, applications: how many holder numbers were given
	freeNums   [2][]int32  // users', applications' holder numbers free to give again
	idx        *orgIndex
}

func newMOrg(m *mirror, id string) *mOrg {
	return &mOrg{
		m:          m,
		id:         id,
		cat:        m.builtinCat,
		sets:       map[string]PermissionSet{},
		setIDs:     map[string]int32{},
		projSeq:    map[string]int32{},
		principals: map[string]pinfo{},
		memberOf:   map[string][]int32{},
		groups:     map[string]Group{},
		groupSeq:   map[string]int32{},
		groupG:     map[int32]*grants{},
		policies:   map[string]*cpolicy{},
		byHolder:   map[Principal][]*cpolicy{},
		combos:     comboBook{ids: map[string]int32{}},
		gt:         emptyGroupTable,
	}
}

// setID returns the table number of a permission-set name, adding it to
// the table the first time. The table only grows, so a number means the
// same name in every snapshot, whatever the catalogue becomes.
func (mo *mOrg) setID(name string) int32 {
	if id, ok := mo.setIDs[name]; ok {
		return id
	}
	id := int32(len(mo.names))
	mo.setIDs[name] = id
	mo.names = append(mo.names, name)
	bit, ok := mo.cat.bits[name]
	if !ok {
		bit = -1
	}
	mo.setBits = append(mo.setBits, bit)
	mo.grew = true
	return id
}

// bit returns the catalogue bit of table number id, or -1.
func (mo *mOrg) bit(id int32) int32 {
	if int(id) < len(mo.setBits) {
		return mo.setBits[id]
	}
	return -1
}

// setCatalogue makes cat the organization's catalogue.
func (mo *mOrg) setCatalogue(cat *catalogue) {
	mo.cat = cat
	bits := make([]int32, len(mo.names))
	for id, name := range mo.names {
		bit, ok := cat.bits[name]
		if !ok {
			bit = -1
		}
		bits[id] = bit
	}
	mo.setBits = bits
}

// alive reports whether project seq exists.
func (mo *mOrg) alive(seq int32) bool {
	return seq >= 0 && int(seq) < len(mo.projIDs) && mo.projIDs[seq] != ""
}

// applier accumulates one change's effects before publishing them.
type applier struct {
	m          *mirror
	base       *snapshot // the snapshot the change applies to
	orgs       *cowmap.Editor[*orgIndex]
	projects   *cowmap.Editor[projectEntry]
	principals *cowmap.Editor[principalEntry]
	keys       *cowmap.Editor[*keyEntry]
	secrets    *cowmap.Editor[[]string]
	rosters    *cowmap.Editor[*roster]
	orgIDs     *cowmap.VecEditor[string]
	rosterEd   map[string]*rosterEdit // rosters being edited, by organization

	catDirty   map[string]bool
	orgDirty   map[string]bool
	projDirty  map[string]map[string]bool // org → new project IDs
	holders    map[Principal]string       // holder → org, grants to recompute
	principalD map[Principal]string       // entry to rebuild → org
	freedSeqs  map[*mOrg][]int32          // group numbers this change freed
	ownedLists map[**cpolicy]bool         // byHolder lists made in this change (by their first element)
	regroup    map[*mOrg]map[int32]bool   // groups whose grants changed
	special    map[*mOrg]bool             // the special groups changed
	combosUsed map[*mOrg]bool             // organizations whose combinations were acquired or released

	// full: the applier builds a whole index from an empty one. It then
	// marks nothing per entity: finish derives every entry of the mirror,
	// gathering the principals' entries in built to make their map at once.
	full  bool
	built cowmap.Builder[principalEntry]
}

func (m *mirror) newApplier(s *snapshot) *applier {
	return &applier{
		m:          m,
		base:       s,
		orgs:       s.orgs.Edit(),
		projects:   s.projects.Edit(),
		principals: s.principals.Edit(),
		keys:       s.keys.Edit(),
		secrets:    s.secrets.Edit(),
		rosters:    s.rosters.Edit(),
		orgIDs:     s.orgIDs.Edit(),
		rosterEd:   map[string]*rosterEdit{},
		catDirty:   map[string]bool{},
		orgDirty:   map[string]bool{},
		projDirty:  map[string]map[string]bool{},
		holders:    map[Principal]string{},
		principalD: map[Principal]string{},
		regroup:    map[*mOrg]map[int32]bool{},
		special:    map[*mOrg]bool{},
	}
}
