package iam_test

// Every string a write stores is valid UTF-8 without control characters
// and without the bidirectional controls that make text display otherwise
// than it reads (the "Trojan Source" characters).

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// unstorableText holds one character of each refused kind, and invalid UTF-8.
var unstorableText = []struct{ name, s, msg string }{
	{"NUL", "\x00", "control character"},
	{"BEL", "\a", "control character"},
	{"DEL", "\x7f", "control character"},
	{"C1 NEL", "\u0085", "control character"},
	{"RLO", "\u202e", "bidirectional"},
	{"LRE", "\u202a", "bidirectional"},
	{"FSI", "\u2068", "bidirectional"},
	{"PDI", "\u2069", "bidirectional"},
	{"invalid UTF-8", "\xff", "UTF-8"},
	{"cut UTF-8", "\xe2\x80", "UTF-8"},
}

// storedTextField is one string field of one entity of validationWorld, and how
// to write a value into it.
type storedTextField struct {
	name  string
	field string
	write func(bad string) func(ctx context.Context, s iam.Store) error
}

func updateTextOf[T any](get func(iam.Store, context.Context, string) (T, error), put func(iam.Store, context.Context, T) (T, error), id string, change func(*T, string)) func(bad string) func(ctx context.Context, s iam.Store) error {
	return func(bad string) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			v, err := get(s, ctx, id)
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			change(&v, bad)
			_, err = put(s, ctx, v)
			return err
		}
	}
}

var storedTextFields = []storedTextField{
	{"organization name", "name", updateTextOf(iam.Store.GetOrganization, iam.Store.UpdateOrganization, "acme", func(o *iam.Organization, s string) { o.Name = "Acme" + s })},
	{"project name", "name", updateTextOf(iam.Store.GetProject, iam.Store.UpdateProject, "p1", func(p *iam.Project, s string) { p.Name = "p" + s + "1" })},
	{"project description", "description", updateTextOf(iam.Store.GetProject, iam.Store.UpdateProject, "p1", func(p *iam.Project, s string) { p.Description = "about" + s })},
	{"user email", "email", updateTextOf(iam.Store.GetUser, iam.Store.UpdateUser, "u1", func(u *iam.User, s string) { u.Email = "u1" + s + "@acme.test" })},
	{"user email domain", "email", updateTextOf(iam.Store.GetUser, iam.Store.UpdateUser, "u1", func(u *iam.User, s string) { u.Email = "u1@acme" + s + ".test" })},
	{"user username", "username", updateTextOf(iam.Store.GetUser, iam.Store.UpdateUser, "u1", func(u *iam.User, s string) { u.Username = "ana" + s })},
	{"user tag", "tags[1]", updateTextOf(iam.Store.GetUser, iam.Store.UpdateUser, "u1", func(u *iam.User, s string) { u.Tags = []string{"ok", "t" + s} })},
	{"application name", "name", updateTextOf(iam.Store.GetApplication, iam.Store.UpdateApplication, "a1", func(a *iam.Application, s string) { a.Name = "ci" + s })},
	{"application description", "description", updateTextOf(iam.Store.GetApplication, iam.Store.UpdateApplication, "a1", func(a *iam.Application, s string) { a.Description = s + "x" })},
	{"application tag", "tags[0]", updateTextOf(iam.Store.GetApplication, iam.Store.UpdateApplication, "a1", func(a *iam.Application, s string) { a.Tags = []string{s} })},
	{"group name", "name", updateTextOf(iam.Store.GetGroup, iam.Store.UpdateGroup, "team", func(g *iam.Group, s string) { g.Name = "Team" + s })},
	{"group description", "description", updateTextOf(iam.Store.GetGroup, iam.Store.UpdateGroup, "team", func(g *iam.Group, s string) { g.Description = "the " + s + "team" })},
	{"group tag", "tags[0]", updateTextOf(iam.Store.GetGroup, iam.Store.UpdateGroup, "team", func(g *iam.Group, s string) { g.Tags = []string{"t" + s} })},
	{"policy name", "name", updateTextOf(iam.Store.GetPolicy, iam.Store.UpdatePolicy, "pol", func(p *iam.Policy, s string) { p.Name = "pol" + s })},
	{"policy description", "description", updateTextOf(iam.Store.GetPolicy, iam.Store.UpdatePolicy, "pol", func(p *iam.Policy, s string) { p.Description = s })},
	{"policy tag", "tags[0]", updateTextOf(iam.Store.GetPolicy, iam.Store.UpdatePolicy, "pol", func(p *iam.Policy, s string) { p.Tags = []string{"a" + s + "b"} })},
	{"rule condition", "rules[0].condition", updateTextOf(iam.Store.GetPolicy, iam.Store.UpdatePolicy, "pol", func(p *iam.Policy, s string) {
		p.Rules[0].Condition = `request.user_agent == "` + s + `curl"`
	})},
	{"permission set description", "description", func(bad string) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			ps, err := s.GetPermissionSet(ctx, "acme", "AcmeSet")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			ps.Description = "things" + bad
			_, err = s.UpdatePermissionSet(ctx, ps)
			return err
		}
	}},
	{"permission set category", "categories[0]", func(bad string) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			ps, err := s.GetPermissionSet(ctx, "acme", "AcmeSet")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			ps.Categories = []string{"Compute" + bad}
			_, err = s.UpdatePermissionSet(ctx, ps)
			return err
		}
	}},
	{"API key description", "description", updateTextOf(iam.Store.GetAPIKey, iam.Store.UpdateAPIKey, "k1", func(k *iam.APIKey, s string) { k.Description = "laptop" + s })},
	{"user ID", "id", func(bad string) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new" + bad, OrganizationID: "acme", Email: "new@acme.test"})
			return err
		}
	}},
}

func TestNoStoredStringHoldsControlBidiOrInvalidUTF8(t *testing.T) {
	t.Parallel()
	var cases []rejected
	for _, f := range storedTextFields {
		for _, b := range unstorableText {
			cases = append(cases, rejected{
				name:  f.name + "/" + b.name,
				write: f.write(b.s),
				is:    []error{iam.ErrInvalid},
				field: f.field,
				msg:   []string{b.msg},
			})
		}
	}
	runRejected(t, cases)
}

// The rule refuses only what it names: text in any script, emoji and the
// bidirectional marks that override nothing are stored as given.
func TestStringsInAnyScriptAreStored(t *testing.T) {
	t.Parallel()
	for _, f := range storedTextFields {
		if f.name == "user ID" || f.name == "rule condition" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			w := validationWorld(t)
			for _, s := range []string{"Zoë", "Ünïcødé🚀", "عربي", "日本語", "a\u200fb", "\ufffd"} {
				require.NoError(t, f.write(s)(w.ctx, w.store), "%q", s)
			}
		})
	}
}
