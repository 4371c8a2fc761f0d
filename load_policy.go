// Policy files: policies loaded into an organization the store holds.

package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamkit/iam/internal/wire"
)

func (l *loader) loadPolicies(ctx context.Context, store Store, pols []wire.Policy, list string) error {
	ents := make([]entity, len(pols))
	seen := map[string]entity{}
	for i, wp := range pols {
		e := entity{kind: KindPolicy, list: list, index: i}
		if list == "" {
			e.index = -1
		}
		e.pickID(wp.ID, "name", wp.Name)
		if prev, ok := seen[e.id]; ok && e.id != "" {
			return l.duplicate(e, prev)
		}
		seen[e.id] = e
		ents[i] = e
	}
	return store.Atomic(ctx, func(tx Tx) error {
		l.ctx, l.tx = ctx, tx
		org, err := l.targetOrganization()
		if err != nil {
			return err
		}
		l.org, l.fromStore = org, true
		named := namer(seen)
		for i, wp := range pols {
			e := ents[i]
			p, err := l.policy(wp, &e)
			if err != nil {
				return err
			}
			named(&p, &e)
			if err := l.putPolicy(p, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// targetOrganization picks the organization a policy file loads into.
func (l *loader) targetOrganization() (string, error) {
	ctx, tx := l.ctx, l.tx
	orgs, err := tx.ListOrganizations(ctx)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	fail := func(reason, hint string, cause error) error {
		return &ValidationError{File: l.name, Reason: reason, Hint: hint, Cause: cause}
	}
	switch {
	case l.opts.org != "":
		if slices.Contains(ids, l.opts.org) {
			return l.opts.org, nil
		}
		return "", fail(fmt.Sprintf("organization %q, named with IntoOrganization, is not in the store", l.opts.org), didYouMean(l.opts.org, ids), ErrNotFound)
	case len(ids) == 1:
		return ids[0], nil
	case len(ids) == 0:
		return "", fail("the store holds no organization to load the policies into", "load a world file first", ErrNotFound)
	}
	shown := ids[:min(len(ids), 5)]
	more := ""
	if len(ids) > len(shown) {
		more = ", ..."
	}
	return "", fail(fmt.Sprintf("the store holds %d organizations (%s%s), so a policy file must name the one it loads into", len(ids), strings.Join(shown, ", "), more),
		"name it with iam.IntoOrganization(id)", nil)
}

// putPolicy creates a policy of a policy file, or updates the stored one
// with its ID when the load replaces existing policies.
func (l *loader) putPolicy(p Policy, e entity) error {
	ctx, tx := l.ctx, l.tx
	if p.ID != "" {
		old, err := tx.GetPolicy(ctx, p.ID)
		switch {
		case err == nil && old.OrganizationID == l.org:
			if !l.opts.replace {
				return l.fileError(fmt.Errorf("iam: policy %q already exists in organization %q: %w", p.ID, l.org, ErrConflict),
					joinPath(e.path(), e.idFrom), "load the file with iam.ReplaceExisting() to update it")
			}
			_, err = tx.UpdatePolicy(ctx, p)
			return l.storeError(err, e)
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		// Not found, or another organization's: CreatePolicy reports the
		// conflict, with advice.
	}
	_, err := tx.CreatePolicy(ctx, p)
	return l.storeError(err, e)
}
