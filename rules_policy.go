package iam

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// The write rules of policies.

func (t *WriteTx) CreatePolicy(ctx context.Context, p Policy) (_ Policy, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Policy{}, err
	}
	if p, err = t.insertPolicy(ctx, t.ownPolicy(p, false)); err != nil {
		return Policy{}, err
	}
	return clonePolicy(p), nil
}

// insertPolicy validates and writes a new policy made by ownPolicy.
func (t *WriteTx) insertPolicy(ctx context.Context, p Policy) (Policy, error) {
	if _, err := t.org(ctx, p.OrganizationID); err != nil {
		return Policy{}, refError(KindPolicy, p.ID, "organization_id", err)
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if err := t.validatePolicy(ctx, p); err != nil {
		return Policy{}, err
	}
	if err := t.claimID(ctx, KindPolicy, p.ID, p.OrganizationID); err != nil {
		return Policy{}, err
	}
	if err := t.apply(ctx, OpPut, KindPolicy, p.ID, p.OrganizationID, p); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func (t *WriteTx) GetPolicy(ctx context.Context, id string) (Policy, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return Policy{}, err
	}
	p, err := get(ctx, KindPolicy, id, t.view.Policy)
	return clonePolicy(p), err
}

func (t *WriteTx) ListPolicies(ctx context.Context, organizationID string) ([]Policy, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.Policies(ctx, organizationID)
	return cloned(vs, err, clonePolicy)
}

func (t *WriteTx) UpdatePolicy(ctx context.Context, p Policy) (_ Policy, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return Policy{}, err
	}
	old, err := get(ctx, KindPolicy, p.ID, t.view.Policy)
	if err != nil {
		return Policy{}, err
	}
	if err := immutable(KindPolicy, p.ID, "organization_id", old.OrganizationID, p.OrganizationID); err != nil {
		return Policy{}, err
	}
	p = t.ownPolicy(p, false)
	if err := t.validatePolicy(ctx, p); err != nil {
		return Policy{}, err
	}
	if err := t.apply(ctx, OpPut, KindPolicy, p.ID, p.OrganizationID, p); err != nil {
		return Policy{}, err
	}
	return clonePolicy(p), nil
}

func (t *WriteTx) DeletePolicy(ctx context.Context, id string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	p, err := get(ctx, KindPolicy, id, t.view.Policy)
	if err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindPolicy, id, p.OrganizationID, nil)
}

func (t *WriteTx) validatePolicy(ctx context.Context, p Policy) error {
	if err := validateID(KindPolicy, p.ID, "id"); err != nil {
		return err
	}
	if err := validateName(KindPolicy, p.ID, "name", p.Name, false); err != nil {
		return err
	}
	if err := validateDescription(KindPolicy, p.ID, p.Description); err != nil {
		return err
	}
	if err := validateTags(KindPolicy, p.ID, p.Tags); err != nil {
		return err
	}
	if err := t.validatePrincipal(ctx, p); err != nil {
		return err
	}
	if err := checkPolicySize(p); err != nil {
		return err
	}
	for i, r := range p.Rules {
		if err := t.validateRule(ctx, p.OrganizationID, p.ID, i, r); err != nil {
			return err
		}
	}
	return nil
}

func (t *WriteTx) validatePrincipal(ctx context.Context, p Policy) error {
	pr, org := p.Principal, p.OrganizationID
	switch pr.Type {
	case PrincipalNone:
		if pr.ID != "" {
			return invalid(KindPolicy, p.ID, "principal", pr.ID, "a principal ID without a type", "use UserPrincipal, ApplicationPrincipal or GroupPrincipal")
		}
		return nil
	case PrincipalUser:
		return t.checkRef(ctx, org, KindPolicy, p.ID, "user", KindUser, pr.ID)
	case PrincipalApplication:
		return t.checkRef(ctx, org, KindPolicy, p.ID, "application", KindApplication, pr.ID)
	case PrincipalGroup:
		return t.checkRef(ctx, org, KindPolicy, p.ID, "group", KindGroup, pr.ID)
	default:
		return invalid(KindPolicy, p.ID, "principal", pr.String(), "a policy's principal is one user, group or application", "give the policy to the key's bearer instead")
	}
}

func (t *WriteTx) validateRule(ctx context.Context, org, policyID string, i int, r Rule) error {
	// Field names are built only for an error.
	at := func(field string) string { return fmt.Sprintf("rules[%d]%s", i, field) }
	onProjects, onOrg := len(r.Scope.ProjectIDs) > 0, r.Scope.OrganizationID != ""
	if onProjects == onOrg {
		return invalid(KindPolicy, policyID, at(""), "", "a rule has exactly one scope: some projects, or the organization", `set either "projects" or "organization": true`)
	}
	if onOrg && r.Scope.OrganizationID != org {
		return invalid(KindPolicy, policyID, at(".organization"), r.Scope.OrganizationID, fmt.Sprintf("a rule can only be scoped to its policy's own organization %q", org), "")
	}
	for j, pid := range r.Scope.ProjectIDs {
		if err := t.checkRefAt(ctx, org, KindPolicy, policyID, func() string { return at(fmt.Sprintf(".projects[%d]", j)) }, KindProject, pid); err != nil {
			return err
		}
	}
	if _, dup := repeated(r.Scope.ProjectIDs); dup >= 0 {
		return noRepeats(KindPolicy, policyID, at(".projects"), r.Scope.ProjectIDs)
	}
	if len(r.PermissionSets) == 0 {
		return invalid(KindPolicy, policyID, at(".permission_sets"), "", "a rule grants at least one permission set", "")
	}
	if _, dup := repeated(r.PermissionSets); dup >= 0 {
		return noRepeats(KindPolicy, policyID, at(".permission_sets"), r.PermissionSets)
	}
	var first ScopeType
	for j, name := range r.PermissionSets {
		field := func() string { return at(fmt.Sprintf(".permission_sets[%d]", j)) }
		ps, ok, err := t.findSet(ctx, org, name)
		if err != nil {
			return err
		}
		if !ok {
			e := invalid(KindPolicy, policyID, field(), name, "unknown permission set", "")
			e.Cause = ErrUnknownPermission
			if IsPermission(name) {
				e.Hint = "rules grant permission sets by name; define a set holding this permission"
			} else {
				names, err := t.setNames(ctx, org)
				if err != nil {
					return err
				}
				e.Hint = didYouMean(name, names)
			}
			return e
		}
		if j == 0 {
			first = ps.ScopeType
		} else if ps.ScopeType != first {
			e := invalid(KindPolicy, policyID, field(), name, fmt.Sprintf("a rule's permission sets share one scope type: %s is %s-scoped, %s is %s-scoped", r.PermissionSets[0], first, name, ps.ScopeType), "split them into two rules")
			e.Cause = ErrScopeMismatch
			return e
		}
		if onProjects && ps.ScopeType == ScopeOrganization {
			e := invalid(KindPolicy, policyID, field(), name, "an organization-scoped permission set cannot be granted on projects", `grant it in a rule with "organization": true`)
			e.Cause = ErrScopeMismatch
			return e
		}
	}
	if r.Condition != "" {
		if err := validateText(KindPolicy, policyID, at(".condition"), r.Condition); err != nil {
			return err
		}
		if t.w.cond == nil {
			return invalid(KindPolicy, policyID, at(".condition"), clip(r.Condition), "conditions are switched off in this store", "create the store with iam.NewMemoryStore(iam.WithConditions(conditions.New())) to switch them on")
		}
		if _, err := t.w.cond.Compile(r.Condition); err != nil {
			return invalid(KindPolicy, policyID, at(".condition"), r.Condition, "the condition does not compile: "+strings.TrimPrefix(err.Error(), "iam: "), "")
		}
	}
	return nil
}

// ownPolicy returns the policy to store for p: a copy, unless handedOver
// (the caller no longer touches p's slices), whose rules share their
// lists of projects and of permission sets with the equal lists of the
// transaction's other rules. A world of many policies repeats these
// lists a lot; they are never modified in place (a change replaces
// them), so equal ones may be one.
func (t *WriteTx) ownPolicy(p Policy, handedOver bool) Policy {
	if !handedOver {
		p.Tags = slices.Clone(p.Tags)
		if p.Rules != nil {
			p.Rules = slices.Clone(p.Rules)
		}
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		r.Scope.ProjectIDs = t.sharedList(r.Scope.ProjectIDs, handedOver)
		r.PermissionSets = t.sharedList(r.PermissionSets, handedOver)
	}
	return p
}

// sharedListMax is the longest list that sharedList shares: most rules
// name one to three projects and sets.
const sharedListMax = 2

// sharedLists are a transaction's lists that equal lists share: those of
// one entry by that entry, the others by their entries, each written
// after its length (so that no two lists have the same key).
type sharedLists struct {
	one  map[string][]string
	many map[string][]string
	key  []byte // scratch
}

// sharedList returns the transaction's list equal to l, or l itself
// (handedOver) or a copy of it, which later equal lists then share.
func (t *WriteTx) sharedList(l []string, handedOver bool) []string {
	if len(l) == 0 || len(l) > sharedListMax {
		if handedOver {
			return l
		}
		return slices.Clone(l)
	}
	sl := &t.lists
	m, key := &sl.one, ""
	if len(l) == 1 {
		key = l[0]
		if s, ok := sl.one[key]; ok {
			return s
		}
	} else {
		sl.key = sl.key[:0]
		for _, s := range l {
			sl.key = binary.AppendUvarint(sl.key, uint64(len(s)))
			sl.key = append(sl.key, s...)
		}
		if s, ok := sl.many[string(sl.key)]; ok { // no allocation
			return s
		}
		m, key = &sl.many, string(sl.key)
	}
	if !handedOver || cap(l) != len(l) {
		l = slices.Clip(slices.Clone(l))
	}
	if *m == nil {
		*m = map[string][]string{}
	}
	(*m)[key] = l
	return l
}
