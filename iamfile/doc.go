// Package iamfile is the library side of keeping IAM as files in a
// repository (policies as code), over any iam.Store:
//
//   - Export writes an organization as a canonical world file, so that
//     what was written at run time can be kept, reviewed and compared
//     (export, load, export gives the same bytes);
//   - Apply makes an organization what a world file and policy files say,
//     in one atomic write that writes nothing when nothing changes;
//   - Diff is the plan between two states of an organization: the
//     entities created, updated and deleted, and the grants each user,
//     application and group gains and loses, computed by Evaluators.
//
// The file formats are those of iam.Load. The iam command (cmd/iam) runs
// the same functions on files: iam export, iam plan.
//
// It lives beside the root package rather than in it because it needs
// nothing of the root package but its public API: the loader checks every
// file, the store checks every write, and the Evaluator answers for the
// grants.
package iamfile
