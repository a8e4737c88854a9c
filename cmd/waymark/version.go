package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

var versionCommand = &command{
	name:     "version",
	summary:  "print the version, commit and Go version this waymark was built from",
	synopsis: "",
	help: `
Version prints what this binary was built from, read from the build
information the Go toolchain stamps into every binary: the module version
(a release tag such as v0.4.0 after 'go install ...@v0.4.0', a
pseudo-version or "(devel)" for a build from a clone), the commit and
whether the tree had uncommitted changes (when built inside a Git
checkout), and the Go version and platform. Include it in bug reports.`,
	examples: `
# Which build is this?
waymark version`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return e.failf(exitUsage, "takes no arguments")
			}
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				// Only a binary built without module support lacks it.
				bi = &debug.BuildInfo{GoVersion: runtime.Version()}
			}
			fmt.Fprint(e.stdout, versionText(bi, runtime.GOOS+"/"+runtime.GOARCH))
			return exitOK
		}
	},
}

// versionText formats build information as three "name value" lines. What
// the toolchain did not record is said as such rather than left blank.
func versionText(bi *debug.BuildInfo, platform string) string {
	version := bi.Main.Version
	if version == "" {
		version = "unknown (built without module information)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	commit := "unknown (not built from a Git checkout with go build or go install)"
	if rev := settings["vcs.revision"]; rev != "" {
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "modified")
		}
		commit = rev
		if len(notes) > 0 {
			commit += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return fmt.Sprintf("waymark %s\ncommit  %s\ngo      %s %s\n", version, commit, goVersion, platform)
}
