package iam_test

import (
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	iamtest.TestStore(t, func(testing.TB) iam.Store { return iam.NewMemoryStore() })
}
