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
//
// Round trips are what a write costs, so a view saves them two ways.
// Applies are queued, and sent with the next read that needs the
// database, in one round trip (a cascade of many events costs one), so
// that every read still sees every earlier write of the transaction. And
// the entities read by ID (and the holders of IDs) are remembered for the
// rest of the transaction, kept current by Apply: a write transaction
// holds the write lock, so nothing else changes them meanwhile. (Lists
// and the lookups by email, name or owner are always read afresh.)
//
// A view is used by one goroutine.
type view struct {
	q       querier
	pending pgx.Batch
	events  []iam.Event // every event applied, in order

	cache   bool
	known   map[entityKey]cached // entities read or written, by key
	holders map[string]holder    // holders of IDs read or written
}

// entityKey names an entity: kind, organization (permission sets only)
// and ID.
type entityKey struct {
	kind iam.Kind
	org  string
	id   string
}

type cached struct {
	value any // nil: no such entity
}

type holder struct {
	kind iam.Kind
	org  string
	ok   bool
}

// newView returns the view of a transaction; cache says whether it may
// remember what it read (a write transaction, under the write lock).
func newView(q querier, cache bool) *view {
	v := &view{q: q, cache: cache}
	if cache {
		v.known, v.holders = map[entityKey]cached{}, map[string]holder{}
	}
	return v
}

func keyOf(k iam.Kind, org, id string) entityKey {
	if k != iam.KindPermissionSet {
		org = ""
	}
	return entityKey{k, org, id}
}

// holds reports whether entities of kind k are in the ID registry.
func holds(k iam.Kind) bool { return k != iam.KindOrganization && k != iam.KindPermissionSet }

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

// queryRow runs a query of one row after the queued writes, in the same
// round trip, and scans its row with scan (given pgx.ErrNoRows when
// there is none).
func (v *view) queryRow(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	if v.pending.Len() == 0 {
		return scan(v.q.QueryRow(ctx, sql, args...))
	}
	var scanErr error
	v.pending.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
		scanErr = scan(row)
		return nil
	})
	if err := v.flush(ctx); err != nil {
		return err
	}
	return scanErr
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
	if v.cache {
		if ev.Op == iam.OpPut {
			v.known[keyOf(ev.Kind, ev.OrganizationID, ev.ID)] = cached{ev.Value}
		} else {
			v.known[keyOf(ev.Kind, ev.OrganizationID, ev.ID)] = cached{}
		}
		if holds(ev.Kind) {
			v.holders[ev.ID] = holder{ev.Kind, ev.OrganizationID, ev.Op == iam.OpPut}
		}
	}
	return nil
}

// one reads the value of the single row a query selects, if any.
func one[T any](ctx context.Context, v *view, k iam.Kind, sql string, args ...any) (T, bool, error) {
	var zero T
	var doc []byte
	err := v.queryRow(ctx, func(row pgx.Row) error { return row.Scan(&doc) }, sql, args...)
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

// entity reads one entity by key, from what the transaction remembers or
// with the query given.
func entity[T any](ctx context.Context, v *view, key entityKey, sql string, args ...any) (T, bool, error) {
	if v.cache {
		if c, ok := v.known[key]; ok {
			val, found := c.value.(T)
			return val, found, nil
		}
	}
	val, ok, err := one[T](ctx, v, key.kind, sql, args...)
	if err == nil && v.cache {
		if ok {
			v.known[key] = cached{val}
		} else {
			v.known[key] = cached{}
		}
	}
	return val, ok, err
}

// list reads the values of every row a query selects, in its order. An
// empty answer is an empty slice, never nil.
func list[T any](ctx context.Context, v *view, k iam.Kind, sql string, args ...any) ([]T, error) {
	out := []T{}
	read := func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var doc []byte
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			val, err := decodeValue(k, doc)
			if err != nil {
				return err
			}
			out = append(out, val.(T))
		}
		return rows.Err()
	}
	var err error
	if v.pending.Len() == 0 {
		var rows pgx.Rows
		if rows, err = v.q.Query(ctx, sql, args...); err == nil {
			err = read(rows)
		}
	} else {
		var readErr error
		v.pending.Queue(sql, args...).Query(func(rows pgx.Rows) error {
			readErr = read(rows)
			return nil
		})
		if err = v.flush(ctx); err == nil {
			err = readErr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("iam: postgres: listing %ss: %w", k, err)
	}
	return out, nil
}

// byID reads the entity of kind k with ID id (not an organization nor a
// permission set).
func byID[T any](ctx context.Context, v *view, k iam.Kind, id string) (T, bool, error) {
	return entity[T](ctx, v, keyOf(k, "", id), byIDQueries[k], id)
}

// byIDQueries read an entity by ID, kind by kind. The kind is written in
// the query, not passed as a parameter, so that the planner always uses
// the index of the ID registry (a partial index, on the kinds it holds).
var byIDQueries = func() map[iam.Kind]string {
	m := map[iam.Kind]string{}
	for k, name := range kindNames {
		if holds(k) {
			m[k] = "SELECT value FROM iam_entities WHERE id = $1 AND kind = '" + name + "'"
		}
	}
	return m
}()

// inOrganization lists the entities of kind k of an organization, by ID.
func inOrganization[T any](ctx context.Context, v *view, k iam.Kind, organizationID string) ([]T, error) {
	return list[T](ctx, v, k, "SELECT value FROM iam_entities WHERE kind = '"+kindNames[k]+"' AND organization_id = $1 ORDER BY id",
		organizationID)
}

func (v *view) Organization(ctx context.Context, id string) (iam.Organization, bool, error) {
	return entity[iam.Organization](ctx, v, keyOf(iam.KindOrganization, "", id),
		`SELECT value FROM iam_entities WHERE kind = 'organization' AND organization_id = $1 AND id = $1`, id)
}

// Holder reports the kind and organization of the entity other than an
// organization or a permission set that holds id (an organization's ID
// is its default project's).
func (v *view) Holder(ctx context.Context, id string) (iam.Kind, string, bool, error) {
	if v.cache {
		if h, ok := v.holders[id]; ok {
			return h.kind, h.org, h.ok, nil
		}
	}
	var h holder
	err := v.holderAndOrganization(ctx, id, &h)
	if err != nil {
		return 0, "", false, fmt.Errorf("iam: postgres: reading the holder of an ID: %w", err)
	}
	return h.kind, h.org, h.ok, nil
}

// holderAndOrganization reads, in one query, the holder of id and the
// organization of that ID: the write rules ask for both of a new ID (it
// must be neither taken nor an organization's), and a write transaction
// remembers both.
func (v *view) holderAndOrganization(ctx context.Context, id string, h *holder) error {
	var org *iam.Organization
	read := func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var kind, orgID string
			var doc []byte
			if err := rows.Scan(&kind, &orgID, &doc); err != nil {
				return err
			}
			k, err := parseKind(kind)
			if err != nil {
				return err
			}
			if k == iam.KindOrganization {
				val, err := decodeValue(k, doc)
				if err != nil {
					return err
				}
				o := val.(iam.Organization)
				org = &o
				continue
			}
			*h = holder{k, orgID, true}
		}
		return rows.Err()
	}
	const sql = `SELECT kind, organization_id, NULL::json FROM iam_entities
			WHERE id = $1 AND kind NOT IN ('organization', 'permission_set')
		UNION ALL
		SELECT kind, organization_id, value FROM iam_entities
			WHERE kind = 'organization' AND organization_id = $1 AND id = $1`
	var err error
	if v.pending.Len() == 0 {
		var rows pgx.Rows
		if rows, err = v.q.Query(ctx, sql, id); err == nil {
			err = read(rows)
		}
	} else {
		var readErr error
		v.pending.Queue(sql, id).Query(func(rows pgx.Rows) error {
			readErr = read(rows)
			return nil
		})
		if err = v.flush(ctx); err == nil {
			err = readErr
		}
	}
	if err != nil || !v.cache {
		return err
	}
	v.holders[id] = *h
	if org != nil {
		v.known[keyOf(iam.KindOrganization, "", id)] = cached{*org}
	} else {
		v.known[keyOf(iam.KindOrganization, "", id)] = cached{}
	}
	return nil
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
	return entity[iam.PermissionSet](ctx, v, keyOf(iam.KindPermissionSet, organizationID, name),
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
	var id string
	err := v.queryRow(ctx, func(row pgx.Row) error { return row.Scan(&id) },
		`SELECT id FROM iam_entities WHERE organization_id = $1 AND owner ORDER BY id LIMIT 1`, organizationID)
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
