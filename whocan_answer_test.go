package iam_test

import (
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// whoCanWorld is acme with a group of all users and all applications and
// an explicit group, both granted InstancesReadOnly on project p; a
// managed application "mgd" in the explicit group and one "loner" in no
// group; a group of all users alone granted it on project q; a group
// listing ana and bot granted it on project r.
func whoCanWorld(t *testing.T) (*world, iam.Request) {
	t.Helper()
	w := newWorld(t)
	p := w.project(w.org, "p")
	q := w.project(w.org, "q")
	pr := w.project(w.org, "r")
	w.user(w.org, "ana")
	w.user(w.org, "bob")
	w.app(w.org, "bot", false)
	w.app(w.org, "mgd", true)
	w.app(w.org, "loner", true)
	w.group(iam.Group{ID: "all", OrganizationID: w.org, AllUsers: true, AllApplications: true})
	w.group(iam.Group{ID: "ops", OrganizationID: w.org, ApplicationIDs: ids("mgd")})
	w.policy(w.org, "pol-all", iam.GroupPrincipal("all"), onProjects(ids(p), "InstancesReadOnly"))
	w.policy(w.org, "pol-ops", iam.GroupPrincipal("ops"), onProjects(ids(p), "InstancesReadOnly"))
	w.group(iam.Group{ID: "users", OrganizationID: w.org, AllUsers: true})
	w.policy(w.org, "pol-users", iam.GroupPrincipal("users"), onProjects(ids(q), "InstancesReadOnly"))
	w.group(iam.Group{ID: "devs", OrganizationID: w.org, UserIDs: ids("ana"), ApplicationIDs: ids("bot")})
	w.policy(w.org, "pol-devs", iam.GroupPrincipal("devs"), onProjects(ids(pr), "InstancesReadOnly"))
	return w, iam.Request{ProjectID: p, Permission: "InstancesServerList"}
}

// TestWhoCanAnswerIsTheCallersOwn: the slice WhoCan returns belongs to
// the caller; writing over it, or appending to it, never changes the next
// answer, also when a group holding all users and applications answers
// for most of it.
func TestWhoCanAnswerIsTheCallersOwn(t *testing.T) {
	w, inP := whoCanWorld(t)
	inQ := inP
	inQ.ProjectID = "q"
	inR := inP
	inR.ProjectID = "r"
	u, a := iam.UserPrincipal, iam.ApplicationPrincipal
	for _, c := range []struct {
		req  iam.Request
		want []iam.Principal
	}{
		{inP, []iam.Principal{u("acme-owner"), u("ana"), u("bob"), a("bot"), a("mgd")}},
		{inQ, []iam.Principal{u("acme-owner"), u("ana"), u("bob")}}, // users only
		{inR, []iam.Principal{u("acme-owner"), u("ana"), a("bot")}},
	} {
		got, err := w.ev.WhoCan(w.ctx, c.req)
		require.NoError(t, err)
		require.Equal(t, c.want, got)
		for i := range got {
			got[i] = u("intruder")
		}
		_ = append(got[:1], u("intruder"))
		again, err := w.ev.WhoCan(w.ctx, c.req)
		require.NoError(t, err)
		assert.Equal(t, c.want, again, "at %s", c.req.ProjectID)
	}
}

// TestWhoCanFollowsEveryRosterWrite: when a group holding all users and
// applications grants, each write to the organization's users,
// applications and groups shows in the next answer, after answers that
// read the lists before it.
func TestWhoCanFollowsEveryRosterWrite(t *testing.T) {
	w, req := whoCanWorld(t)
	who := func() []iam.Principal {
		t.Helper()
		got, err := w.ev.WhoCan(w.ctx, req)
		require.NoError(t, err)
		return got
	}
	inR := req
	inR.ProjectID = "r"
	devs := func() []iam.Principal {
		t.Helper()
		got, err := w.ev.WhoCan(w.ctx, inR)
		require.NoError(t, err)
		return got
	}
	u, a := iam.UserPrincipal, iam.ApplicationPrincipal
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), u("bob"), a("bot"), a("mgd")}, who())
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), a("bot")}, devs())
	// A new user, a new application; the user joins the explicit group.
	w.user(w.org, "cy")
	w.app(w.org, "app2", false)
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), u("bob"), u("cy"), a("app2"), a("bot"), a("mgd")}, who())
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), a("bot")}, devs())
	g, err := w.store.GetGroup(w.ctx, "devs")
	require.NoError(t, err)
	g.UserIDs = ids("ana", "cy")
	_, err = w.store.UpdateGroup(w.ctx, g)
	require.NoError(t, err)
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), u("cy"), a("bot")}, devs())
	// A locked user leaves; a managed application that no group lists
	// leaves.
	ana, err := w.store.GetUser(w.ctx, "ana")
	require.NoError(t, err)
	ana.Locked = true
	_, err = w.store.UpdateUser(w.ctx, ana)
	require.NoError(t, err)
	bot, err := w.store.GetApplication(w.ctx, "bot")
	require.NoError(t, err)
	bot.Managed = true
	_, err = w.store.UpdateApplication(w.ctx, bot)
	require.NoError(t, err)
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("bob"), u("cy"), a("app2"), a("mgd")}, who())
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("cy"), a("bot")}, devs()) // listed, so managed too
	// A managed application joins the granting group; the one it held
	// stops being managed, and stays through the group of all.
	mgd, err := w.store.GetApplication(w.ctx, "mgd")
	require.NoError(t, err)
	mgd.Managed = false
	_, err = w.store.UpdateApplication(w.ctx, mgd)
	require.NoError(t, err)
	ops, err := w.store.GetGroup(w.ctx, "ops")
	require.NoError(t, err)
	ops.ApplicationIDs = ids("loner", "mgd")
	_, err = w.store.UpdateGroup(w.ctx, ops)
	require.NoError(t, err)
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("bob"), u("cy"), a("app2"), a("loner"), a("mgd")}, who())
	// Its own policy grants a managed application too.
	w.policy(w.org, "pol-bot", a("bot"), onProjects(ids(req.ProjectID), "InstancesReadOnly"))
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("bob"), u("cy"), a("app2"), a("bot"), a("loner"), a("mgd")}, who())
	// Deleted, they leave.
	require.NoError(t, w.store.DeleteApplication(w.ctx, "loner"))
	require.NoError(t, w.store.DeleteUser(w.ctx, "cy"))
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("bob"), a("app2"), a("bot"), a("mgd")}, who())
	assert.Equal(t, []iam.Principal{u("acme-owner"), a("bot")}, devs())
}

// TestWhoCanSeqIsWhoCanAsASequence: WhoCanSeq yields WhoCan's answer in
// its order, as the index was when it was called (a write after the call
// changes WhoCan, not the sequence), as often as it is ranged over, stops
// when the loop does, and fails as WhoCan does.
func TestWhoCanSeqIsWhoCanAsASequence(t *testing.T) {
	w, inP := whoCanWorld(t)
	inR := inP
	inR.ProjectID = "r"
	inQ := inP
	inQ.ProjectID = "q"
	seqs := map[string]iter.Seq[iam.Principal]{}
	for _, req := range []iam.Request{inP, inQ, inR} {
		want, err := w.ev.WhoCan(w.ctx, req)
		require.NoError(t, err)
		seq, err := w.ev.WhoCanSeq(w.ctx, req)
		require.NoError(t, err)
		assert.Equal(t, want, slices.Collect(seq), "at %s", req.ProjectID)
		assert.Equal(t, want, slices.Collect(seq), "at %s, ranged again", req.ProjectID)
		var first []iam.Principal
		for p := range seq {
			first = append(first, p)
			if len(first) == 2 {
				break
			}
		}
		assert.Equal(t, want[:2], first, "at %s, a loop that stops", req.ProjectID)
		seqs[req.ProjectID] = seq
	}
	// After a write, WhoCan answers anew; a sequence taken before it does
	// not change.
	before := slices.Collect(seqs["p"])
	w.user(w.org, "cy")
	w.app(w.org, "app2", true) // managed, in no group: not in the answer
	ops, err := w.store.GetGroup(w.ctx, "ops")
	require.NoError(t, err)
	ops.ApplicationIDs = ids("app2", "mgd")
	_, err = w.store.UpdateGroup(w.ctx, ops)
	require.NoError(t, err)
	after, err := w.ev.WhoCan(w.ctx, inP)
	require.NoError(t, err)
	u, a := iam.UserPrincipal, iam.ApplicationPrincipal
	assert.Equal(t, []iam.Principal{u("acme-owner"), u("ana"), u("bob"), u("cy"), a("app2"), a("bot"), a("mgd")}, after)
	assert.Equal(t, before, slices.Collect(seqs["p"]), "a sequence taken before the write")
	seq, err := w.ev.WhoCanSeq(w.ctx, inP)
	require.NoError(t, err)
	assert.Equal(t, after, slices.Collect(seq))
	// Errors are WhoCan's, with no sequence.
	for _, bad := range []iam.Request{
		{ProjectID: "nowhere", Permission: "InstancesServerList"},
		{ProjectID: "p", Permission: "NoSuchSet"},
		{Permission: "InstancesServerList"},
	} {
		_, want := w.ev.WhoCan(w.ctx, bad)
		require.Error(t, want)
		seq, err := w.ev.WhoCanSeq(w.ctx, bad)
		assert.Nil(t, seq)
		assert.Equal(t, want.Error(), err.Error())
	}
}
