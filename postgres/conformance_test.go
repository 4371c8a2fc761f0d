package postgres

import (
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
)

// The Store passes the conformance suite that every iam.Store passes,
// each case on a database of its own.
func TestStoreConformance(t *testing.T) {
	serverURL(t)
	iamtest.TestStore(t, func(t testing.TB) iam.Store {
		return openStore(t, newPool(t, newDatabase(t), 4))
	})
}
