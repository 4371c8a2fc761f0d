package iam

// The steps of a check, one at a time, for BenchmarkCheckSteps.

// CheckStepLookup looks the principal of ID id up in e's published index
// and returns the first byte of its packed masks (0 if none or absent),
// so that the read of the masks is not optimized away.
func CheckStepLookup(e *Evaluator, id string, masks bool) byte {
	pe, ok := e.snap.Load().principals.Ref(id)
	if !ok || !masks || pe.masks == "" {
		return 0
	}
	return pe.masks[0]
}

// CheckStepParse runs only the parse of req: its shape, its target (the
// project or organization lookup) and its permission.
func CheckStepParse(e *Evaluator, req *Request) error {
	var q query
	return q.parse(e.snap.Load(), req)
}

// CheckStepResolve is the parse and the caller's resolution, without the
// grants' decision.
func CheckStepResolve(e *Evaluator, req *Request) error {
	s := e.snap.Load()
	var q query
	if err := q.parse(s, req); err != nil {
		return err
	}
	_, _, err := e.resolve(s, &q, req.Principal)
	return err
}
