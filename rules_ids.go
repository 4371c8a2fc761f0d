package iam

import (
	"context"
	"fmt"
)

// IDs and references in the write rules: every ID is unique across a
// store, and a reference never crosses the organization boundary.

// claimID checks that a new entity of organization org may take the ID
// id, or reports the conflict; applying the entity takes it. IDs are
// unique across the store, so an ID that another organization holds
// cannot be claimed either; that conflict names neither the organization
// nor the kind that holds the ID (idUnavailable), so that a message
// passed on to a tenant tells it nothing about another. An ID that org
// itself holds is named with its kind.
func (t *WriteTx) claimID(ctx context.Context, k Kind, id, org string) error {
	kind, holder, ok, err := t.view.Holder(ctx, id)
	if err != nil {
		return err
	}
	if ok {
		if holder != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by %s of organization %q: %w", k, id, kind.withArticle(), holder, ErrConflict)
	}
	if k == KindProject && id == org {
		return nil // the default project
	}
	if _, ok, err := t.view.Organization(ctx, id); err != nil {
		return err
	} else if ok {
		if id != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by an organization: %w", k, id, ErrConflict)
	}
	return nil
}

// idUnavailable is the conflict of a new entity of kind k whose ID id is
// held by something the caller may not learn about: it says that the ID is
// taken, and nothing of who holds it. hint, when not empty, says what to do.
func idUnavailable(k Kind, id, hint string) error {
	what := "ID"
	if k == KindAPIKey {
		what = "access key"
	}
	if hint != "" {
		hint = "; " + hint
	}
	return fmt.Errorf("iam: %s %q: the %s is not available%s: %w", k, id, what, hint, ErrConflict)
}

// checkRef validates a reference from an entity of organization org to an
// entity of kind k: it must exist and belong to the same organization.
//
// An ID that another organization holds, whatever the kind, is answered
// word for word as an ID that nothing holds (ErrNotFound, naming neither
// that organization nor the kind): nothing crosses the organization
// boundary, not even the fact that the ID exists. Only an entity of org
// itself of another kind is named, as a hint.
func (t *WriteTx) checkRef(ctx context.Context, org string, from Kind, fromID, field string, k Kind, id string) error {
	return t.checkRefAt(ctx, org, from, fromID, func() string { return field }, k, id)
}

// checkRefAt is checkRef with the referring field's name built only for
// an error.
func (t *WriteTx) checkRefAt(ctx context.Context, org string, from Kind, fromID string, field func() string, k Kind, id string) error {
	kind, holder, ok, err := t.view.Holder(ctx, id)
	if err != nil {
		return err
	}
	if ok && kind == k && holder == org {
		return nil
	}
	e := invalid(from, fromID, field(), id, fmt.Sprintf("no %s %q in organization %q", k, id, org), "")
	e.Cause = ErrNotFound
	if ok && holder == org {
		e.Reason += fmt.Sprintf(" (%q is %s)", id, kind.withArticle())
	}
	candidates, err := t.idsOf(ctx, org, k)
	if err != nil {
		return err
	}
	e.Hint = didYouMean(id, candidates)
	return e
}

// idsOf lists the IDs (and names) of an organization's entities of kind k,
// as candidates for a suggestion.
func (t *WriteTx) idsOf(ctx context.Context, org string, k Kind) ([]string, error) {
	var out []string
	var err error
	switch k {
	case KindProject:
		var ps []Project
		ps, err = t.view.Projects(ctx, org)
		for _, p := range ps {
			out = append(out, p.ID, p.Name)
		}
	case KindUser:
		var us []User
		us, err = t.view.Users(ctx, org)
		for _, u := range us {
			out = append(out, u.ID, u.Email)
		}
	case KindApplication:
		var as []Application
		as, err = t.view.Applications(ctx, org)
		for _, a := range as {
			out = append(out, a.ID, a.Name)
		}
	case KindGroup:
		var gs []Group
		gs, err = t.view.Groups(ctx, org)
		for _, g := range gs {
			out = append(out, g.ID, g.Name)
		}
	}
	return out, err
}
