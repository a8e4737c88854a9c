package lang

import (
	"fmt"
	"sort"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/waymark-dev/waymark/lang/timespec"
)

// FuncHooks connects the functions that need the outside world to it. A nil
// hook makes its function return an unknown string: that is how the compiler
// type-checks without reading the environment or rendering templates.
type FuncHooks struct {
	// Env looks up an environment variable for env(name).
	Env func(name string) (string, bool)
	// Template renders the template file at path (relative to the workspace
	// root) with the variables of the expression that calls it.
	Template func(path string) (cty.Value, error)
}

// FuncDocs describes the functions Waymark adds to go-cty's standard library.
var FuncDocs = map[string]string{
	"env":          "env(name) returns the environment variable `name` when `waymark run` sets up a channel. Allowed only in channel settings; the compiled IR keeps the call, never the value.",
	"template":     "template(path) renders a template file (path relative to the workspace root) with the same variables as the expression: `customer`, `entry`, `event`, `now`.",
	"trusted_html": "trusted_html(s) returns s unchanged and marks it as trusted markup: in a send's `html`, every interpolated value is HTML-escaped (as Go's html/template does: `<` becomes `&lt;`) except the markup written in the journey or its template files, other template() calls, and values passed through trusted_html. Use it only for markup you control, never for a customer's traits or an event's properties.",
	"duration":     "duration(s) returns the number of seconds in a duration string such as \"2d\" or \"1w 3h\".",
}

// Functions returns every function expressions may call.
func Functions(h FuncHooks) map[string]function.Function {
	fs := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc,
		"signum": stdlib.SignumFunc, "log": stdlib.LogFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc, "strlen": stdlib.StrlenFunc,
		"substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc, "trimspace": stdlib.TrimSpaceFunc,
		"upper": stdlib.UpperFunc, "strrev": stdlib.ReverseFunc,
		"coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "index": stdlib.IndexFunc,
		"keys": stdlib.KeysFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool),
	}
	bounded(fs)
	fs[forCollectionFunc] = forCollectionFn
	// Functions that make or convert numbers check them (see NumberInRange);
	// format and formatlist convert their string arguments themselves.
	formatArgs := func(args []cty.Value) []cty.Value { return args[1:] }
	for _, name := range []string{"abs", "ceil", "floor", "max", "min", "parseint", "pow", "signum", "log", "tonumber", "jsondecode", "format", "formatlist"} {
		var strs func([]cty.Value) []cty.Value
		if name == "format" || name == "formatlist" {
			strs = formatArgs
		}
		fs[name] = numbersChecked(fs[name], strs)
	}
	fs["env"] = function.New(&function.Spec{
		Description: FuncDocs["env"],
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if h.Env == nil {
				return cty.UnknownVal(cty.String), nil
			}
			name := args[0].AsString()
			v, ok := h.Env(name)
			if !ok {
				return cty.NilVal, fmt.Errorf("the environment variable %s is not set", name)
			}
			return cty.StringVal(v), nil
		},
	})
	fs["template"] = function.New(&function.Spec{
		Description: FuncDocs["template"],
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if h.Template == nil {
				return cty.UnknownVal(cty.String), nil
			}
			return h.Template(args[0].AsString())
		},
	})
	fs["trusted_html"] = function.New(&function.Spec{
		Description: FuncDocs["trusted_html"],
		Params:      []function.Parameter{{Name: "s", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return args[0], nil
		},
	})
	fs["duration"] = function.New(&function.Spec{
		Description: FuncDocs["duration"],
		Params:      []function.Parameter{{Name: "s", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			d, err := timespec.ParseDuration(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.NumberIntVal(int64(d.Seconds())), nil
		},
	})
	return fs
}

// FunctionNames lists every function name in order, for completion and docs.
func FunctionNames() []string {
	fs := Functions(FuncHooks{})
	names := make([]string, 0, len(fs))
	for n := range fs {
		if n == forCollectionFunc {
			continue // put in by the parse, never written
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
