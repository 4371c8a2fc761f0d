package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/iamkit/iam"
)

// querier is what a view reads and writes through: a pgx transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// view is the write rules' view of the database inside one transaction
// (an iam.StoreTx): reads are queries, and Apply writes one entity's row.
// Applies are queued and sent together, in one round trip, before the
// next read or the commit, so that a cascade of many events (deleting an
// organization) costs one round trip, and every read still sees every
// earlier write of the transaction. A view is used by one goroutine.
type view struct {
	q       querier
	pending pgx.Batch
	events  []iam.Event // every event applied, in order
}

// flush sends the queued writes.
func (v *view) flush(ctx context.Context) error {
	if v.pending.Len() == 0 {
		return nil
	}
	b := v.pending
	v.pending = pgx.Batch{}
	if err := v.q.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("iam: postgres: writing: %w", err)
	}
	return nil
}

// Apply writes one event of the transaction: the row of the entity put,
// or the removal of the entity deleted.
func (v *view) Apply(ctx context.Context, ev iam.Event) error {
	kind, err := kindName(ev.Kind)
	if err != nil {
		return err
	}
	switch ev.Op {
	case iam.OpPut:
		doc, err := encodeValue(ev.Value)
		if err != nil {
			return err
		}
		var lookup *string
		owner := false
		switch val := ev.Value.(type) {
		case iam.User:
			l := strings.ToLower(val.Email)
			lookup, owner = &l, val.IsOwner()
		case iam.Group:
			lookup = &val.Name
		}
		v.pending.Queue(`INSERT INTO iam_entities (kind, organization_id, id, value, lookup, owner)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (kind, organization_id, id)
			DO UPDATE SET value = EXCLUDED.value, lookup = EXCLUDED.lookup, owner = EXCLUDED.owner`,
			kind, ev.OrganizationID, ev.ID, string(doc), lookup, owner)
	case iam.OpDelete:
		v.pending.Queue(`DELETE FROM iam_entities WHERE kind = $1 AND organization_id = $2 AND id = $3`,
			kind, ev.OrganizationID, ev.ID)
	default:
		return fmt.Errorf("iam: postgres: an event with no operation: %w", iam.ErrInvalid)
	}
	v.events = append(v.events, ev)
	return nil
}

// one reads the value of the single row a query selects, if any.
func one[T any](ctx context.Context, v *view, k iam.Kind, sql string, args ...any) (T, bool, error) {
	var zero T
	if err := v.flush(ctx); err != nil {
		return zero, false, err
	}
	var doc []byte
	err := v.q.QueryRow(ctx, sql, args...).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, fmt.Errorf("iam: postgres: reading %s: %w", k, err)
	}
	val, err := decodeValue(k, doc)
	if err != nil {
		return zero, false, err
	}
	return val.(T), true, nil
}

// list reads the values of every row a query selects, in its order. An
// empty answer is an empty slice, never nil.
func list[T any](ctx context.Context, v *view, k iam.Kind, sql string, args ...any) ([]T, error) {
	if err := v.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := v.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("iam: postgres: listing %ss: %w", k, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("iam: postgres: listing %ss: %w", k, err)
		}
		val, err := decodeValue(k, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, val.(T))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("iam: postgres: listing %ss: %w", k, err)
	}
	return out, nil
}

// byID reads the entity of kind k with ID id (not an organization nor a
// permission set).
func byID[T any](ctx context.Context, v *view, k iam.Kind, id string) (T, bool, error) {
	return one[T](ctx, v, k, `SELECT value FROM iam_entities WHERE id = $1 AND kind = $2`, id, kindNames[k])
}

// inOrganization lists the entities of kind k of an organization, by ID.
func inOrganization[T any](ctx context.Context, v *view, k iam.Kind, organizationID string) ([]T, error) {
	return list[T](ctx, v, k, `SELECT value FROM iam_entities WHERE kind = $1 AND organization_id = $2 ORDER BY id`,
		kindNames[k], organizationID)
}

func (v *view) Organization(ctx context.Context, id string) (iam.Organization, bool, error) {
	return one[iam.Organization](ctx, v, iam.KindOrganization,
		`SELECT value FROM iam_entities WHERE kind = 'organization' AND organization_id = $1 AND id = $1`, id)
}

// Holder reports the kind and organization of the entity other than an
// organization or a permission set that holds id (an organization's ID
// is its default project's).
func (v *view) Holder(ctx context.Context, id string) (iam.Kind, string, bool, error) {
	if err := v.flush(ctx); err != nil {
		return 0, "", false, err
	}
	var kind, org string
	err := v.q.QueryRow(ctx, `SELECT kind, organization_id FROM iam_entities
		WHERE id = $1 AND kind NOT IN ('organization', 'permission_set')`, id).Scan(&kind, &org)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("iam: postgres: reading the holder of an ID: %w", err)
	}
	k, err := parseKind(kind)
	if err != nil {
		return 0, "", false, err
	}
	return k, org, true, nil
}

func (v *view) Project(ctx context.Context, id string) (iam.Project, bool, error) {
	return byID[iam.Project](ctx, v, iam.KindProject, id)
}

func (v *view) User(ctx context.Context, id string) (iam.User, bool, error) {
	return byID[iam.User](ctx, v, iam.KindUser, id)
}

func (v *view) Application(ctx context.Context, id string) (iam.Application, bool, error) {
	return byID[iam.Application](ctx, v, iam.KindApplication, id)
}

func (v *view) Group(ctx context.Context, id string) (iam.Group, bool, error) {
	return byID[iam.Group](ctx, v, iam.KindGroup, id)
}

func (v *view) Policy(ctx context.Context, id string) (iam.Policy, bool, error) {
	return byID[iam.Policy](ctx, v, iam.KindPolicy, id)
}

func (v *view) APIKey(ctx context.Context, accessKey string) (iam.APIKey, bool, error) {
	return byID[iam.APIKey](ctx, v, iam.KindAPIKey, accessKey)
}

func (v *view) PermissionSet(ctx context.Context, organizationID, name string) (iam.PermissionSet, bool, error) {
	return one[iam.PermissionSet](ctx, v, iam.KindPermissionSet,
		`SELECT value FROM iam_entities WHERE kind = 'permission_set' AND organization_id = $1 AND id = $2`,
		organizationID, name)
}

// UserByEmail finds a user by email address, ignoring case as the write
// rules do (Go's strings.ToLower, whatever the database's locale).
func (v *view) UserByEmail(ctx context.Context, organizationID, email string) (iam.User, bool, error) {
	return one[iam.User](ctx, v, iam.KindUser,
		`SELECT value FROM iam_entities WHERE kind = 'user' AND organization_id = $1 AND lookup = $2
		ORDER BY id LIMIT 1`, organizationID, strings.ToLower(email))
}

func (v *view) GroupByName(ctx context.Context, organizationID, name string) (iam.Group, bool, error) {
	return one[iam.Group](ctx, v, iam.KindGroup,
		`SELECT value FROM iam_entities WHERE kind = 'group' AND organization_id = $1 AND lookup = $2
		ORDER BY id LIMIT 1`, organizationID, name)
}

func (v *view) Owner(ctx context.Context, organizationID string) (string, bool, error) {
	if err := v.flush(ctx); err != nil {
		return "", false, err
	}
	var id string
	err := v.q.QueryRow(ctx, `SELECT id FROM iam_entities WHERE organization_id = $1 AND owner
		ORDER BY id LIMIT 1`, organizationID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("iam: postgres: reading an organization's owner: %w", err)
	}
	return id, true, nil
}

func (v *view) Organizations(ctx context.Context) ([]iam.Organization, error) {
	return list[iam.Organization](ctx, v, iam.KindOrganization,
		`SELECT value FROM iam_entities WHERE kind = 'organization' ORDER BY id`)
}

func (v *view) Projects(ctx context.Context, organizationID string) ([]iam.Project, error) {
	return inOrganization[iam.Project](ctx, v, iam.KindProject, organizationID)
}

func (v *view) Users(ctx context.Context, organizationID string) ([]iam.User, error) {
	return inOrganization[iam.User](ctx, v, iam.KindUser, organizationID)
}

func (v *view) Applications(ctx context.Context, organizationID string) ([]iam.Application, error) {
	return inOrganization[iam.Application](ctx, v, iam.KindApplication, organizationID)
}

func (v *view) Groups(ctx context.Context, organizationID string) ([]iam.Group, error) {
	return inOrganization[iam.Group](ctx, v, iam.KindGroup, organizationID)
}

func (v *view) Policies(ctx context.Context, organizationID string) ([]iam.Policy, error) {
	return inOrganization[iam.Policy](ctx, v, iam.KindPolicy, organizationID)
}

func (v *view) APIKeys(ctx context.Context, organizationID string) ([]iam.APIKey, error) {
	return inOrganization[iam.APIKey](ctx, v, iam.KindAPIKey, organizationID)
}

func (v *view) PermissionSets(ctx context.Context, organizationID string) ([]iam.PermissionSet, error) {
	return inOrganization[iam.PermissionSet](ctx, v, iam.KindPermissionSet, organizationID)
}
