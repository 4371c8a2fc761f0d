package postgres

import (
	"context"

	"github.com/iamkit/iam"
)

// run runs fn over the write rules' transaction on v, at revision rev, and
// returns the events to commit. A panic in fn passes through, after the
// rules' transaction has ended.
func (s *Store) run(ctx context.Context, v *view, rev uint64, fn func(tx iam.Tx) error) ([]iam.Event, error) {
	wtx := s.rules.Tx(ctx, v, rev)
	defer wtx.End()
	if err := fn(wtx); err != nil {
		return nil, err
	}
	return wtx.Commit()
}

// reader is the reads of the entities over v, outside a transaction.
func (s *Store) reader(v *view) iam.Entities { return s.rules.Reader(v) }
