package iam_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// TestWhoCanSeqIsNeverChangedByOtherCallersOrWrites: sequences ranged
// over from many goroutines at once, while writes change the roster,
// the groups and the policies, each yield the answer of the index as it
// was when they were taken, whatever the callers of WhoCan do to their
// lists; and ranging over one allocates nothing.
func TestWhoCanSeqIsNeverChangedByOtherCallersOrWrites(t *testing.T) {
	w, inP := whoCanWorld(t)
	var reqs []iam.Request
	for _, p := range []string{"p", "q", "r"} {
		req := inP
		req.ProjectID = p
		reqs = append(reqs, req)
	}
	reqs = append(reqs, iam.Request{OrganizationID: w.org, Permission: "InstancesServerList"})
	type taken struct {
		seq  func(func(iam.Principal) bool)
		want []iam.Principal
	}
	var all []taken
	for _, req := range reqs {
		want, err := w.ev.WhoCan(w.ctx, req)
		require.NoError(t, err)
		seq, err := w.ev.WhoCanSeq(w.ctx, req)
		require.NoError(t, err)
		all = append(all, taken{seq, slices.Clone(want)})
		// The caller's list is its own: writing over it changes no
		// sequence and no later answer.
		for i := range want {
			want[i] = iam.UserPrincipal("mallory")
		}
		_ = append(want[:0], iam.ApplicationPrincipal("mallory"))
		assert.Equal(t, all[len(all)-1].want, slices.Collect(seq))
		again, err := w.ev.WhoCan(w.ctx, req)
		require.NoError(t, err)
		assert.Equal(t, all[len(all)-1].want, again)
		n := 0
		count := func(iam.Principal) bool { n++; return true }
		assert.Zero(t, testing.AllocsPerRun(20, func() { seq(count) }), "ranging over WhoCanSeq(%+v)", req)
		assert.Equal(t, 21*len(all[len(all)-1].want), n)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				tk := all[(g+n)%len(all)]
				var got []iam.Principal
				for p := range tk.seq {
					got = append(got, p)
					if n%3 == 0 && len(got) == 2 {
						break
					}
				}
				want := tk.want
				if n%3 == 0 {
					want = want[:min(2, len(want))]
				}
				if !slices.Equal(got, want) {
					errs <- fmt.Sprintf("goroutine %d: got %v, want %v", g, got, want)
					return
				}
			}
		}()
	}
	// Writes meanwhile: users and applications come and go, are locked,
	// join groups; policies change.
	for i := range 20 {
		id := w.user(w.org, fmt.Sprintf("cy%d", i))
		w.app(w.org, fmt.Sprintf("app%d", i), i%2 == 0)
		ops, err := w.store.GetGroup(w.ctx, "ops")
		require.NoError(t, err)
		ops.UserIDs = append(ops.UserIDs, id)
		_, err = w.store.UpdateGroup(w.ctx, ops)
		require.NoError(t, err)
		u, err := w.store.GetUser(w.ctx, "ana")
		require.NoError(t, err)
		u.Locked = i%2 == 0
		_, err = w.store.UpdateUser(w.ctx, u)
		require.NoError(t, err)
		w.policy(w.org, fmt.Sprintf("pol-cy%d", i), iam.UserPrincipal(id), onOrg(w.org, "InstancesReadOnly"))
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, tk := range all {
		assert.Equal(t, tk.want, slices.Collect(tk.seq), "after the writes")
	}
	// The organization deleted: the sequences taken before still yield
	// their answers; a new one is an error, with no sequence.
	require.NoError(t, w.store.DeleteOrganization(w.ctx, w.org))
	for _, tk := range all {
		assert.Equal(t, tk.want, slices.Collect(tk.seq), "after the organization's deletion")
	}
	seq, err := w.ev.WhoCanSeq(w.ctx, inP)
	require.ErrorIs(t, err, iam.ErrNotFound)
	require.Nil(t, seq)
}
