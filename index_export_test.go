package iam

import (
	"fmt"
	"slices"
	"strings"
)

// IndexDump renders everything e's published snapshot holds, for every
// organization, in a canonical form: by IDs and names, never by the
// numbers an index gives (sequence numbers, combination and holder
// numbers, set-table numbers), which depend on the order of the writes.
// Two Evaluators over the same store state, one that followed every write
// and one built from scratch, must render alike.
func IndexDump(e *Evaluator) string {
	s := e.snap.Load()
	var b strings.Builder
	var orgs []string
	s.orgs.Range(func(id string, _ *orgIndex) bool { orgs = append(orgs, id); return true })
	slices.Sort(orgs)
	for _, id := range orgs {
		o, _ := s.orgs.Get(id)
		dumpOrg(&b, s, o)
	}
	var keys []string
	s.keys.Range(func(ak string, k *keyEntry) bool {
		keys = append(keys, fmt.Sprintf("key %s: bearer %s org %s expires %v hash %x\n", ak, k.bearer, k.org, k.expires, k.hash))
		return true
	})
	s.secrets.Range(func(h string, aks []string) bool {
		keys = append(keys, fmt.Sprintf("secret %x: %v\n", h, slices.Sorted(slices.Values(aks))))
		return true
	})
	slices.Sort(keys)
	b.WriteString(strings.Join(keys, ""))
	return b.String()
}

func dumpOrg(b *strings.Builder, s *snapshot, o *orgIndex) {
	cat := o.cat
	r := s.roster(o.id)
	project := map[int32]string{}
	for id, seq := range r.projects.All() {
		project[seq] = id
		if p, ok := s.projects.Get(id); !ok || p.org != o || p.seq != seq {
			fmt.Fprintf(b, "  project %s: the roster and the project entries disagree\n", id)
		}
	}
	if s.orgID(o.num) != o.id {
		fmt.Fprintf(b, "  organization number %d names %q\n", o.num, s.orgID(o.num))
	}
	names := func(m mask) []string {
		var out []string
		m.each(func(bit int32) { out = append(out, cat.sets[bit].Name) })
		return out
	}
	scope := func(seq int32) string {
		switch seq {
		case scopeOrg:
			return "the organization"
		case scopeAll:
			return "all projects"
		}
		if id, ok := project[seq]; ok {
			return id
		}
		return fmt.Sprintf("deleted project #%d", seq)
	}
	grantsOf := func(g *grants) string {
		if g == nil {
			return "none"
		}
		var parts []string
		parts = append(parts, fmt.Sprintf("org %v all %v", names(g.m.org()), names(g.m.all())))
		var projects []string
		g.m.eachProject(func(seq int32, m mask) { projects = append(projects, fmt.Sprintf("%s %v", scope(seq), names(m))) })
		slices.Sort(projects)
		parts = append(parts, fmt.Sprintf("projects %v", projects))
		var pols []string
		for _, p := range g.pols {
			pols = append(pols, p.id)
		}
		parts = append(parts, fmt.Sprintf("policies %v conditional %v", pols, g.conditional))
		var bySet []string
		var rules []setRule
		if g.bySet != nil {
			rules = g.bySet.rules
		}
		for _, sr := range rules {
			bySet = append(bySet, fmt.Sprintf("%s:%s/%d", cat.sets[sr.bit].Name, g.pols[sr.pol].id, sr.rule))
		}
		if len(bySet) > 0 {
			parts = append(parts, fmt.Sprintf("by set %v", bySet))
		}
		return strings.Join(parts, "; ")
	}
	fmt.Fprintf(b, "org %s: owner %q sets %d\n", o.id, r.owner, len(cat.sets))
	var projects []string
	for id := range r.projects.All() {
		projects = append(projects, id)
	}
	fmt.Fprintf(b, "  projects %v\n", projects)
	group := func(seq int32) string {
		if int(seq) < len(o.groupIDs) && o.groupIDs[seq] != "" {
			return o.groupIDs[seq]
		}
		return fmt.Sprintf("#%d", seq)
	}
	var lines []string
	for seq, gid := range o.groupIDs {
		if gid == "" {
			continue
		}
		m := o.members[seq]
		lines = append(lines, fmt.Sprintf("  group %s: users %v apps %v all users %v all apps %v; grants %s\n",
			gid, m.users, m.apps, m.allUsers, m.allApps, grantsOf(o.group(int32(seq)))))
	}
	var special []string
	for _, seq := range o.allUsers {
		special = append(special, "users:"+group(seq))
	}
	for _, seq := range o.allApps {
		special = append(special, "apps:"+group(seq))
	}
	slices.Sort(special)
	lines = append(lines, fmt.Sprintf("  special groups %v\n", special))
	// Which groups grant which sets where, from the group table.
	t := o.gt
	table := func(where string, tab []uint32) {
		for bit, n := range tab {
			if n == 0 {
				continue
			}
			var gs []string
			c := combo{set: t.set(n)}
			c.groupsOf(func(seq int32) { gs = append(gs, group(seq)) })
			slices.Sort(gs)
			lines = append(lines, fmt.Sprintf("  table %s %s: %v\n", where, cat.sets[bit].Name, gs))
		}
	}
	table("the organization", t.org)
	table("all projects", t.all)
	for seq, tab := range t.proj {
		table(scope(int32(seq)), tab)
	}
	var cond []string
	(&combo{set: t.cond}).groupsOf(func(seq int32) { cond = append(cond, group(seq)) })
	slices.Sort(cond)
	lines = append(lines, fmt.Sprintf("  conditional groups %v\n", cond))
	// The live combinations.
	for _, c := range o.combos {
		if c == nil {
			continue
		}
		var explicit, all []string
		for _, seq := range c.groups {
			explicit = append(explicit, group(seq))
		}
		c.groupsOf(func(seq int32) { all = append(all, group(seq)) })
		slices.Sort(explicit)
		slices.Sort(all)
		lines = append(lines, fmt.Sprintf("  combination %v: %v\n", explicit, all))
	}
	// The principals' entries.
	s.principals.Range(func(id string, pe principalEntry) bool {
		if pe.org != o.num {
			return true
		}
		line := fmt.Sprintf("  %s %s: locked %v owner %v managed %v", pe.typ, id, pe.locked, pe.owner, pe.managed)
		if pe.typ == PrincipalGroup {
			line += " group " + group(pe.ref)
		} else {
			if pe.own != nil && (pe.masks != pe.own.m || pe.cond != pe.own.conditional) {
				line += " (its masks differ from its grants')"
			}
			if pe.own == nil && (pe.masks != "" || pe.cond) {
				line += " (masks without grants)"
			}
			var gs []string
			if c := o.combo(pe.ref); c != nil {
				for _, seq := range c.groups {
					gs = append(gs, group(seq))
				}
			} else {
				gs = []string{"no combination"}
			}
			slices.Sort(gs)
			line += fmt.Sprintf(" groups %v; grants %s", gs, grantsOf(pe.own))
		}
		lines = append(lines, line+"\n")
		return true
	})
	slices.Sort(lines)
	b.WriteString(strings.Join(lines, ""))
	// The roster and the reverse index.
	var users, apps []string
	for id := range r.users.All() {
		users = append(users, id)
	}
	for id := range r.apps.All() {
		apps = append(apps, id)
	}
	fmt.Fprintf(b, "  users %v\n  apps %v\n", users, apps)
	b.WriteString(reverseIndexDump(r, cat, scope))
}

// reverseIndexDump renders the reverse index of roster r by IDs and names.
func reverseIndexDump(r *roster, cat *catalogue, scope func(int32) string) string {
	var lines []string
	holder := func(num int32) string {
		if int(num) < r.holders.Len() {
			if g := r.holders.At(int(num)); g != nil {
				return g.holder().String()
			}
		}
		return fmt.Sprintf("free holder #%d", num)
	}
	for i := range r.holders.Len() {
		if g := r.holders.At(i); g != nil {
			lines = append(lines, fmt.Sprintf("  holder %s\n", g.holder()))
			if g.num != int32(i) {
				lines = append(lines, fmt.Sprintf("  holder %s: numbered %d, its grants say %d\n", g.holder(), i, g.num))
			}
		}
	}
	for bit := range r.granted.Len() {
		byScope := map[int32][]string{}
		for e := range r.granted.At(bit).All() {
			sc := int32(e >> 32)
			byScope[sc] = append(byScope[sc], holder(entryHolder(e)))
		}
		for sc, hs := range byScope {
			slices.Sort(hs)
			name := fmt.Sprintf("#%d", bit)
			if bit < len(cat.sets) {
				name = cat.sets[bit].Name
			}
			lines = append(lines, fmt.Sprintf("  granted %s in %s: %v\n", name, scope(sc), hs))
		}
	}
	var cond []string
	for num := range r.conditional.All() {
		cond = append(cond, holder(num))
	}
	slices.Sort(cond)
	lines = append(lines, fmt.Sprintf("  conditional holders %v\n", cond))
	slices.Sort(lines)
	return strings.Join(lines, "")
}
