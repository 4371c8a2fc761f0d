// The loader: one Load call's state, its entities and their references.

package iam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

type fileKind uint8

const (
	worldFile fileKind = iota + 1
	policyList
	policyObject
)

// loader holds one Load call's state.
type loader struct {
	name string
	data []byte
	opts loadOptions

	ctx context.Context
	tx  Tx
	org string // the target organization's ID

	// refs resolves references, by the kind referred to. A world file fills
	// them from the file before the transaction; a policy file from the
	// store, on first use (fromStore).
	refs      map[Kind]*refTable
	fromStore bool

	rules ruleSlab // the converted policies' rule lists
}

// entity is one entity of the file, for resolving and placing errors.
type entity struct {
	kind      Kind
	list      string // the key of its list ("policies"), or its own key ("organization")
	index     int    // its index in list, or -1 when it is not in a list
	id        string // its ID; "" when the store generates it
	idFrom    string // the key the ID comes from: "id", "name", "email", "access_key"; "" when generated
	bearer    string // API keys: the key naming the bearer
	principal string // policies: the key naming the principal
}

// path returns the entity's JSON path ("policies[3]"; "" for a policy
// file's top level). Paths are only built for errors.
func (e *entity) path() string { return elemPath(e.list, e.index) }

func elemPath(list string, index int) string {
	if index < 0 {
		return list
	}
	return list + "[" + strconv.Itoa(index) + "]"
}

// pickID sets the entity's ID: the explicit one, else the fallback (a
// name), recording which key it came from.
func (e *entity) pickID(id, fallbackKey, fallback string) {
	switch {
	case id != "":
		e.id, e.idFrom = id, "id"
	case fallback != "":
		e.id, e.idFrom = fallback, fallbackKey
	}
}

// refTable maps IDs and names of one kind of entity to IDs.
type refTable struct {
	byID   map[string]refEntry   // ID -> entity
	byName map[string]refEntry   // name -> the first entity of that name
	more   map[string][]refEntry // name -> the others, when several share it
}

type refEntry struct {
	id    string
	list  string // where the file defines it; "" when stored
	index int
}

// newRefTable returns an empty table, with room for n entities.
func newRefTable(n int) *refTable {
	return &refTable{byID: make(map[string]refEntry, n), byName: make(map[string]refEntry, n)}
}

func (t *refTable) add(id, name string, e *entity) {
	r := refEntry{id: id, index: -1}
	if e != nil {
		r.list, r.index = e.list, e.index
	}
	t.byID[id] = r
	if name == "" {
		return
	}
	if first, ok := t.byName[name]; !ok {
		t.byName[name] = r
	} else if first.id != id && !slices.ContainsFunc(t.more[name], func(x refEntry) bool { return x.id == id }) {
		if t.more == nil {
			t.more = map[string][]refEntry{}
		}
		t.more[name] = append(t.more[name], r)
	}
}

// table returns the reference table of kind k.
func (l *loader) table(k Kind) (*refTable, error) {
	if t := l.refs[k]; t != nil {
		return t, nil
	}
	t := newRefTable(0)
	l.refs[k] = t
	if !l.fromStore {
		return t, nil
	}
	ctx, tx := l.ctx, l.tx
	switch k {
	case KindProject:
		vs, err := tx.ListProjects(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	case KindUser:
		vs, err := tx.ListUsers(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, strings.ToLower(v.Email), nil)
		}
	case KindApplication:
		vs, err := tx.ListApplications(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	case KindGroup:
		vs, err := tx.ListGroups(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	}
	return t, nil
}

// resolve turns ref, written at field of entity e to name an entity of
// kind k, into an ID: an ID of the organization first, then a name. A ref
// that matches nothing is returned as is, for the store to reject with its
// suggestions. field is only called to report an ambiguous name.
func (l *loader) resolve(k Kind, ref string, e entity, field func() string) (string, error) {
	t, err := l.table(k)
	if err != nil {
		return "", err
	}
	if _, ok := t.byID[ref]; ok {
		return ref, nil
	}
	name := ref
	if k == KindUser {
		name = strings.ToLower(ref)
	}
	first, ok := t.byName[name]
	switch {
	case !ok:
		return ref, nil
	case len(t.more[name]) == 0:
		return first.id, nil
	default:
		ents := append([]refEntry{first}, t.more[name]...)
		list := make([]string, len(ents))
		for i, x := range ents {
			list[i] = fmt.Sprintf("%q", x.id)
			if x.list != "" {
				path := elemPath(x.list, x.index)
				line, col := l.at(path)
				list[i] += fmt.Sprintf(" (%s at %s:%d:%d)", path, l.name, line, col)
			}
		}
		return "", l.invalid(e, field(), ref, fmt.Sprintf("ambiguous reference: %d %ss are named %q: %s", len(ents), k, ref, strings.Join(list, " and ")), "refer to one of them by its id", nil)
	}
}
