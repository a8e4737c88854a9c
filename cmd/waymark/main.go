package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/waymark-dev/waymark/lang/suggest"
)

// commands is every subcommand, in the order `waymark help` lists them.
// Adding one is a file defining a *command and a line here.
var commands = []*command{
	fmtCommand,
	validateCommand,
	compileCommand,
	graphCommand,
	diffCommand,
	testCommand,
	runCommand,
	planCommand,
	lspCommand,
	versionCommand,
}

// Exit codes.
const (
	exitOK      = 0 // done; for validate, no errors (warnings allowed)
	exitProblem = 1 // the input has problems: errors in a workspace, files that need formatting
	exitUsage   = 2 // the command line is wrong: unknown command or flag, missing or nonexistent path
)

// command is a subcommand.
type command struct {
	name     string
	summary  string // a line for the command list, lower case, no period
	synopsis string // the arguments after `waymark NAME`
	help     string // what it does, in paragraphs
	examples string // command lines, a comment line above each
	// setup defines the command's flags on fs and returns the function that
	// runs it on the positional arguments. Flags and positional arguments may
	// come in any order.
	setup func(fs *flag.FlagSet) func(e *env, args []string) int
}

// env is what a running command reads and writes.
type env struct {
	cmd            *command
	stdout, stderr io.Writer
}

// failf prints one line, prefixed with the command's name, on stderr and
// returns code.
func (e *env) failf(code int, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "waymark %s: %s\n", e.cmd.name, fmt.Sprintf(format, args...))
	return code
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args (without the program name) and returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			cmd := lookup(rest[0])
			if cmd == nil {
				return unknownCommand(stderr, rest[0])
			}
			commandUsage(stdout, cmd, nil)
			return exitOK
		}
		usage(stdout)
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "waymark: unknown flag %s: flags go after the command (run 'waymark help')\n", name)
			return exitUsage
		}
		return unknownCommand(stderr, name)
	}
	fs := flag.NewFlagSet("waymark "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runCmd := cmd.setup(fs)
	e := &env{cmd: cmd, stdout: stdout, stderr: stderr}
	positional, err := parseArgs(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return exitOK
	}
	if err != nil {
		return e.failf(exitUsage, "%s (run 'waymark help %s')", flagError(err, rest), cmd.name)
	}
	return runCmd(e, positional)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func unknownCommand(stderr io.Writer, name string) int {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	hint := suggest.Hint(name, names, "")
	fmt.Fprintf(stderr, "waymark: unknown command %q.%s Run 'waymark help' for the list.\n", name, hint)
	return exitUsage
}

// parseArgs parses flags wherever they are among the positional arguments
// (`waymark graph DIR --format dot`) and returns the positional ones in
// order. Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagError rewords the flag package's errors for people, naming the flag
// the way it was written: the flag package says -format for --format.
func flagError(err error, args []string) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag " + name
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			msg = strings.Replace(msg, "flag -"+name, "flag --"+name, 1)
			msg = strings.Replace(msg, ": -"+name, ": --"+name, 1)
		}
	}
	return msg
}

// choice is a flag whose value is one of a fixed list.
type choice struct {
	value   string
	allowed []string
}

func newChoice(fs *flag.FlagSet, name string, allowed []string, usage string) *choice {
	c := &choice{value: allowed[0], allowed: allowed}
	fs.Var(c, name, usage)
	return c
}

func (c *choice) String() string { return c.value }

func (c *choice) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("use one of %s", strings.Join(c.allowed, ", "))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Waymark compiles customer journeys written in HCL (*.journey.hcl) into a
state machine and runs them.

Usage:
  waymark <command> [arguments]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Example:
  waymark validate examples/phone_activation

Run 'waymark help <command>' for a command's flags and examples.
`)
}

// commandUsage prints a command's synopsis, help, flags and examples. fs
// holds its flags; nil means set them up afresh.
func commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	if fs == nil {
		fs = flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.setup(fs)
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("waymark "+cmd.name+" "+cmd.synopsis), strings.TrimSpace(cmd.help))
	var flags strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		c, isChoice := f.Value.(*choice)
		if isChoice {
			name = strings.Join(c.allowed, "|")
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(&flags, "  %s%s", dash, f.Name)
		if name != "" {
			fmt.Fprintf(&flags, " %s", name)
		}
		fmt.Fprintf(&flags, "\n      %s", usage)
		if isChoice {
			fmt.Fprintf(&flags, " (default %s)", f.DefValue)
		}
		flags.WriteString("\n")
	})
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags (one dash or two, before or after the arguments):\n%s", flags.String())
	}
	fmt.Fprintf(w, "\nExamples:\n")
	for _, line := range strings.Split(strings.TrimSpace(cmd.examples), "\n") {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(line))
	}
}
