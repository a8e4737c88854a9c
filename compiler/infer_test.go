package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/lang"
)

// agree checks infer against evaluation for e and every expression inside
// it: where infer gives a type, evaluation must give that type and no
// diagnostics. It returns how many expressions infer typed.
func agree(t *testing.T, e hclsyntax.Expression, ctx *hcl.EvalContext) (fast int) {
	t.Helper()
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		sub, isExpr := n.(hclsyntax.Expression)
		if !isExpr {
			return nil
		}
		got, ok := infer(sub, ctx)
		if !ok {
			return nil
		}
		fast++
		v, diags := sub.Value(ctx)
		r := sub.Range()
		if len(diags) > 0 {
			t.Errorf("%s: infer says %s but evaluation reports %s", r, typeName(got.typ), diags.Error())
			return nil
		}
		if !v.Type().Equals(got.typ) {
			t.Errorf("%s: infer says %s, evaluation gives %s", r, typeName(got.typ), typeName(v.Type()))
		}
		if got.known && !v.IsWhollyKnown() {
			t.Errorf("%s: infer says known, evaluation gives an unknown value", r)
		}
		return nil
	})
	return fast
}

// typesWithHook runs the passes up to types over ws, calling agree on
// every expression the types pass checks, in the scope it checks it in.
func typesWithHook(t *testing.T, ws *lang.Workspace, readFile func(string) ([]byte, error)) (exprs, fast int) {
	t.Helper()
	opts := Options{ReadFile: readFile}
	if opts.ReadFile == nil {
		opts.ReadFile = func(p string) ([]byte, error) {
			return os.ReadFile(filepath.Join(ws.Root, filepath.FromSlash(p)))
		}
	}
	c := newChecker(ws, opts)
	c.inferHook = func(e hclsyntax.Expression, ctx *hcl.EvalContext) {
		exprs++
		fast += agree(t, e, ctx)
	}
	c.resolve()
	c.types()
	return exprs, fast
}

// TestInferAgreesWithEvaluation: over every expression of every example
// workspace and golden case, the fast type inference gives exactly the type
// evaluation gives, and only where evaluation reports nothing.
func TestInferAgreesWithEvaluation(t *testing.T) {
	var exprs, fast int
	dirs, _ := filepath.Glob("../examples/*")
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ws, _ := lang.LoadDir(dir)
			n, f := typesWithHook(t, ws, nil)
			exprs, fast = exprs+n, fast+f
		})
	}
	goldens, _ := filepath.Glob("testdata/*/*.txtar")
	for _, path := range goldens {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var files []lang.SourceFile
			other := map[string][]byte{}
			for _, f := range ar.Files {
				if _, ok := lang.KindOf(f.Name); ok {
					files = append(files, lang.SourceFile{Path: f.Name, Src: f.Data})
				} else {
					other[f.Name] = f.Data
				}
			}
			ws, _ := lang.Parse(".", files)
			n, f := typesWithHook(t, ws, func(p string) ([]byte, error) {
				if b, ok := other[p]; ok {
					return b, nil
				}
				return nil, os.ErrNotExist
			})
			exprs, fast = exprs+n, fast+f
		})
	}
	t.Logf("%d expressions checked, %d (sub)expressions typed without evaluating", exprs, fast)
	if exprs == 0 || fast == 0 {
		t.Fatalf("nothing compared: %d expressions, %d inferred", exprs, fast)
	}
}

// TestInferEdgeCases holds infer to evaluation on shapes where a guess
// would go wrong: nulls, conversions, collections in templates, known
// arithmetic, attributes that do not exist.
func TestInferEdgeCases(t *testing.T) {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"customer": cty.UnknownVal(cty.Object(map[string]cty.Type{
				"email": cty.String, "ltv": cty.Number, "vip": cty.Bool, "any": cty.DynamicPseudoType,
				"tags": cty.List(cty.String), "address": cty.Object(map[string]cty.Type{"city": cty.String}),
				"labels": cty.Map(cty.String),
			})),
			"event": cty.DynamicVal,
			"now":   cty.UnknownVal(cty.String),
		},
		Functions: checkFuncs,
	}
	for _, src := range []string{
		`customer.email`, `customer.address.city`, `customer.address.zip`, `customer.nope`, `customer.tags.x`,
		`customer.labels.x`, `customer.any.x`, `event.a.b.c`, `now`, `now.x`, `customer`, `customer["email"]`,
		`"x"`, `1`, `true`, `null`, `"a ${customer.email} b"`, `"${customer.ltv} ${customer.vip}"`,
		`"${customer.tags}"`, `"${customer.address}"`, `"${null}"`, `"${event.x}"`, `"${customer.any}"`,
		`"${customer}"`, `"${1}"`, `"a ${null}"`, `"a ${customer.tags}"`, `"a ${customer.address}"`, `"a ${true}"`, `"${customer.email}"`, `"%{if customer.vip}y%{endif}"`,
		`customer.email == "a"`, `customer.tags != null`, `null == null`, `event.x == customer.address`,
		`customer.vip && true`, `customer.vip || event.x`, `"true" && customer.vip`, `null && true`,
		`customer.email && true`, `!customer.vip`, `!"false"`, `!null`, `!event.x`, `!customer.tags`,
		`(customer.vip)`, `((customer.email == "x") && !(customer.ltv == 1))`, `customer.ltv > 1`,
		`customer.ltv + 1`, `1 / 0`, `-customer.ltv`, `customer.ltv / 0`, `customer.ltv % 0`, `1 + 2`, `-1`, `-"1"`,
		`-null`, `customer.ltv > null`, `customer.ltv >= "1"`, `customer.email < 1`, `event.x * 2 - -customer.ltv`,
		`1 < 2`, `(customer.ltv + 1) * (2 + 3) <= customer.ltv % 7`, `customer.any + 1`, `customer.tags + 1`, `customer.vip ? 1 : "a"`, `[customer.email]`,
		`{ a = customer.email }`, `upper(customer.email)`, `false && customer.nope`, `true || customer.nope`,
	} {
		e, diags := hclsyntax.ParseExpression([]byte(src), "edge.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags.Error())
		}
		t.Run(src, func(t *testing.T) { agree(t, e, ctx) })
	}
	for _, c := range []struct {
		src  string
		want cty.Type
	}{
		{`customer.email`, cty.String},
		{`"Hi ${customer.email}, ${customer.ltv}"`, cty.String},
		{`customer.email != "x" && (customer.vip || !customer.vip)`, cty.Bool},
		{`event.x.y`, cty.DynamicPseudoType},
		{`customer.vip && customer.ltv > 100`, cty.Bool},
		{`customer.ltv + 1`, cty.Number},
	} {
		e, _ := hclsyntax.ParseExpression([]byte(c.src), "edge.hcl", hcl.InitialPos)
		if got, ok := infer(e, ctx); !ok || !got.typ.Equals(c.want) {
			t.Errorf("infer(%s) = %s, %v; want %s", c.src, typeName(got.typ), ok, typeName(c.want))
		}
	}
	for _, src := range []string{`"a ${customer.tags}"`, `"a ${null}"`, `"${customer.ltv}${customer.address}"`, `"true" && customer.vip`, `customer.nope`, `1 / 0`, `1 + 2`,
		`customer.ltv > null`, `customer.ltv + "1"`} {
		e, _ := hclsyntax.ParseExpression([]byte(src), "edge.hcl", hcl.InitialPos)
		if _, ok := infer(e, ctx); ok {
			t.Errorf("infer(%s) succeeded; it must leave this to evaluation", src)
		}
	}
}
