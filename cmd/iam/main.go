// Command iam works on iamkit's IAM files, for teams that keep their IAM
// in a repository: it validates them, answers and explains checks and the
// reverse queries offline, runs assertion files, formats files, exports
// an organization as a canonical world file, and shows the grants a
// change adds and removes, principal by principal.
//
// Install it with
//
//	go install github.com/iamkit/iam/cmd/iam@latest
//
// and run "iam -h" for the commands. Results go to standard output,
// errors to standard error; --json gives results as JSON. The exit status
// is 0 for success (allow, valid, every test passes), 1 for a negative
// answer (deny, invalid, a test fails) and 2 for an error (unreadable or
// invalid input, an unknown permission, a scope mismatch, a bad flag).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0 // success: allow, valid, every test passes
	exitFalse = 1 // a negative answer: deny, invalid, a test fails
	exitError = 2 // an error
)

const usage = `iam works on iamkit's IAM files: world files, policy files and assertion files.

Usage:
  iam <command> [flags] [arguments]

Commands:
  validate FILE...           check files; every problem as FILE:LINE:COL: message
  check                      answer one request: allow (exit 0) or deny (exit 1)
  explain                    answer one request and say why
  who-can                    list the users and applications allowed a permission
  what-can                   list the permission sets a principal holds at a target
  where-can                  list the projects where a principal holds a permission
  test FILE...               run assertion files; the last line is "N passed, M failed"
  export FILE...             print the organization the files describe as a world file
  plan OLD NEW               the entities and grants that change from OLD to NEW
  fmt FILE...                print files in the canonical layout, or rewrite them (-w)
  schema world|policy|test   print the JSON Schema of a file format

A FILE may be a directory: its *.json files, world files first. Run
"iam <command> -h" for a command's flags. Exit status: 0 success (allow,
valid, all tests pass), 1 a negative answer (deny, invalid, a test fails),
2 an error (with the error on standard error).
`

// command is one subcommand.
type command struct {
	name  string
	args  string // the arguments, for its usage line
	about string
	run   func(c *cli, args []string) int
	flags func(c *cli, fs *flag.FlagSet)
}

var commands = []command{
	{"validate", "FILE...", "Check world, policy and assertion files. Each problem is printed as FILE:LINE:COL: message\n(with a did-you-mean where one helps); warnings flag what is legal but suspicious. Exit 0 valid, 1 invalid.",
		(*cli).validate, (*cli).validateFlags},
	{"check", "--world FILE... --principal TYPE:ID (--project ID | --organization ID) --permission P",
		"Answer one request. The first line is allow or deny, the second the reason. Exit 0 allow, 1 deny, 2 error.",
		(*cli).check, (*cli).requestFlags},
	{"explain", "--world FILE... --principal TYPE:ID (--project ID | --organization ID) --permission P",
		"Answer one request and say why: the policies, rules, groups and sets that allow it, or why nothing does.\nExit 0 allow, 1 deny, 2 error.",
		(*cli).explain, (*cli).requestFlags},
	{"who-can", "--world FILE... (--project ID | --organization ID) --permission P",
		"List the users and applications allowed a permission at a target, one per line.", (*cli).whoCan, (*cli).requestFlags},
	{"what-can", "--world FILE... --principal TYPE:ID (--project ID | --organization ID)",
		"List the permission sets a principal holds at a target, includes expanded, one per line.", (*cli).whatCan, (*cli).requestFlags},
	{"where-can", "--world FILE... --principal TYPE:ID --permission P",
		"List the projects where a principal holds a project-level permission, one per line.", (*cli).whereCan, (*cli).requestFlags},
	{"test", "FILE...", `Run assertion files: {"worlds": ["world.json"], "cases": [{"name": "...", "principal": "application:ID",
"project": "ID", "permission": "P", "expect": "allow"}]} (or "organization" instead of "project"; expect is
allow, deny or error; worlds are relative to the assertion file). Each failure is printed with what was
expected, what came out and the explanation; the last line is "N passed, M failed".
Exit 0 all pass, 1 any fails, 2 a file is invalid.`, (*cli).test, (*cli).testFlags},
	{"export", "FILE...", "Load the files and print their organization as a canonical world file: sorted, indented, API keys\nwith the SHA-256 of their secret only. Exporting an export gives the same bytes.",
		(*cli).export, (*cli).exportFlags},
	{"plan", "OLD NEW", "Compare two states of an organization, each a file, a directory of files, or files separated by commas:\nthe entities created (+), updated (~) and deleted (-), and principal by principal the grants gained (+)\nand lost (-), as Evaluators over the two states answer.",
		(*cli).plan, (*cli).planFlags},
	{"fmt", "FILE...", "Print world, policy and assertion files in the canonical layout, or rewrite them with -w.\nWith -l, list the files whose layout differs, and exit 1 when there is one.",
		(*cli).fmt, (*cli).fmtFlags},
	{"schema", "world|policy|test", "Print the JSON Schema (2020-12) of a file format, for editors and validators.", (*cli).schema, nil},
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// cli is one run of the command: its outputs and its flags.
type cli struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	json   bool

	// Request flags.
	worlds       listFlag
	principal    string
	project      string
	organization string
	permission   string
	reqCtx       requestContext

	// Other commands' flags.
	verbose bool   // test
	format  string // export
	org     string // export, plan
	exit    bool   // plan --exit-code
	write   bool   // fmt -w
	list    bool   // fmt -l
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
		fs := flag.NewFlagSet("iam "+cmd.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.BoolVar(&c.json, "json", false, "print results as JSON")
		if cmd.flags != nil {
			cmd.flags(c, fs)
		}
		rest, err := parseFlags(fs, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: iam %s %s\n\n%s\n\nFlags:\n", cmd.name, cmd.args, cmd.about)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return exitOK
		}
		if err != nil {
			fmt.Fprintf(stderr, "iam %s: %v\nRun 'iam %s -h' for usage.\n", cmd.name, err, cmd.name)
			return exitError
		}
		return cmd.run(c, rest)
	}
	fmt.Fprintf(stderr, "iam: unknown command %q\nRun 'iam -h' for usage.\n", args[0])
	return exitError
}

// parseFlags parses flags given anywhere among the arguments, and returns
// the other arguments. "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// fail prints an error and returns exitError.
func (c *cli) fail(err error) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, "iam") {
		msg = "iam: " + msg
	}
	fmt.Fprintln(c.stderr, msg)
	return exitError
}

// failf prints a formatted error and returns exitError.
func (c *cli) failf(format string, args ...any) int {
	return c.fail(fmt.Errorf("iam: "+format, args...))
}

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // the values printed always encode
	}
}

// schema prints a JSON Schema.
func (c *cli) schema(args []string) int {
	if len(args) != 1 {
		return c.failf("schema takes one argument: world, policy or test")
	}
	var s []byte
	switch args[0] {
	case "world":
		s = schemaWorld()
	case "policy":
		s = schemaPolicy()
	case "test":
		s = schemaTest()
	default:
		return c.failf("unknown schema %q: world, policy or test", args[0])
	}
	if _, err := c.stdout.Write(s); err != nil {
		return c.fail(err)
	}
	return exitOK
}
