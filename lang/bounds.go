package lang

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Limits on what one function call may make. A workspace or an event
// property is untrusted input, and a few functions make far more than they
// are given: replace() of each character of a 16 KB property by a 16 KB
// string is 256 MB (seconds of one event's handling, before the limit).
// Such calls are refused before they do the work, with an error the
// engine records for the instance; the compiler reports one on constants.
// Documented in docs/operations.md.
const (
	// MaxValueBytes is the size limit of a string a function makes or
	// takes.
	MaxValueBytes = 1 << 20
	// MaxListLength is the limit on the length of a list range() makes.
	MaxListLength = 100_000
	// maxFormatWidth bounds the width and precision of a format verb.
	maxFormatWidth = 10_000
)

// bounded wraps the functions of fs that can make much more than they are
// given with a check, run before the work, of what the result would be.
func bounded(fs map[string]function.Function) {
	guards := map[string]func(args []cty.Value) error{
		"replace": func(args []cty.Value) error {
			s, sub, rep := args[0].AsString(), args[1].AsString(), args[2].AsString()
			n := int64(strings.Count(s, sub))
			return resultSize("replace", int64(len(s))+n*int64(max(len(rep)-len(sub), 0)))
		},
		"regex_replace": func(args []cty.Value) error {
			return regexGrowth("regex_replace", args[0].AsString(), args[1].AsString(), args[2].AsString())
		},
		"indent": func(args []cty.Value) error {
			n, _ := args[0].AsBigFloat().Int64()
			s := args[1].AsString()
			return resultSize("indent", int64(len(s))+max(n, 0)*int64(strings.Count(s, "\n")+1))
		},
		"join": func(args []cty.Value) error {
			// join(sep, list...): a for over a 1 MiB property's
			// characters, each giving the property, joins to 1 TB.
			n := int64(0)
			for _, l := range args[1:] {
				for it := l.ElementIterator(); it.Next(); {
					_, e := it.Element()
					if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
						n += int64(len(e.AsString())) + int64(len(args[0].AsString()))
					}
					if n > MaxValueBytes {
						return resultSize("join", n)
					}
				}
			}
			return nil
		},
		"format":     func(args []cty.Value) error { return formatWidths("format", args[0].AsString()) },
		"formatlist": func(args []cty.Value) error { return formatWidths("formatlist", args[0].AsString()) },
		"range": func(args []cty.Value) error {
			var from, to, step float64 = 0, 0, 1
			switch len(args) {
			case 1:
				to, _ = args[0].AsBigFloat().Float64()
			case 2:
				from, _ = args[0].AsBigFloat().Float64()
				to, _ = args[1].AsBigFloat().Float64()
			case 3:
				from, _ = args[0].AsBigFloat().Float64()
				to, _ = args[1].AsBigFloat().Float64()
				step, _ = args[2].AsBigFloat().Float64()
			}
			if step != 0 && (to-from)/step > MaxListLength {
				return fmt.Errorf("range() would make a list of more than %d numbers, the limit of a list", MaxListLength)
			}
			return nil
		},
	}
	// These make tuples from what they are given; guarded checks the
	// length of what they return (see MaxTupleElements).
	for _, name := range []string{"jsondecode", "flatten", "concat"} {
		guards[name] = func([]cty.Value) error { return nil }
	}
	for name, guard := range guards {
		if f, ok := fs[name]; ok {
			fs[name] = guarded(f, guard)
		}
	}
}

// guarded is f with guard run on known, non-null arguments first. Strings
// over MaxValueBytes are refused as arguments, and made strings as results.
func guarded(f function.Function, guard func([]cty.Value) error) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for _, a := range args {
				if !a.IsWhollyKnown() || a.IsNull() || a.IsMarked() {
					return f.Call(args)
				}
				if a.Type() == cty.String && len(a.AsString()) > MaxValueBytes {
					return cty.NilVal, fmt.Errorf("an argument of %d bytes is over %s, the limit of a value", len(a.AsString()), FormatBytes(MaxValueBytes))
				}
			}
			if err := guard(args); err != nil {
				return cty.NilVal, err
			}
			v, err := f.Call(args)
			if err == nil && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && len(v.AsString()) > MaxValueBytes {
				return cty.NilVal, fmt.Errorf("the result of %d bytes is over %s, the limit of a value", len(v.AsString()), FormatBytes(MaxValueBytes))
			}
			if err == nil {
				if n, long := tupleTooLong(v); long {
					return cty.NilVal, fmt.Errorf("the result holds a list of %d elements, over %d, the limit of a list made by a function", n, MaxTupleElements)
				}
			}
			return v, err
		},
	})
}

func resultSize(fn string, n int64) error {
	if n > MaxValueBytes {
		return fmt.Errorf("%s() would make a string of %d bytes, over %s, the limit of a value", fn, n, FormatBytes(MaxValueBytes))
	}
	return nil
}

// regexGrowth bounds a regular expression replacement: each match becomes
// the replacement, and each $ in it at most the whole string.
func regexGrowth(fn, s, pattern, rep string) error {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil // the function reports it
	}
	n := int64(len(re.FindAllStringIndex(s, -1)))
	per := int64(len(rep)) + int64(strings.Count(rep, "$"))*int64(len(s))
	return resultSize(fn, int64(len(s))+n*per)
}

// formatWidths refuses a verb whose width or precision would pad a value
// to megabytes (format("%999999999d", 1)).
func formatWidths(fn, f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		n := 0
		for i++; i < len(f); i++ {
			c := f[i]
			switch {
			case c >= '0' && c <= '9':
				n = min(n*10+int(c-'0'), maxFormatWidth+1)
				if n > maxFormatWidth {
					return fmt.Errorf("%s(): a width or precision over %d in %q", fn, maxFormatWidth, f)
				}
				continue
			case c == '.' || c == '-' || c == '+' || c == ' ' || c == '#' || c == '[' || c == ']':
				n = 0
				continue
			}
			break
		}
	}
	return nil
}
