package lang

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxNumberExp bounds the binary exponent of a number. cty numbers are
// big.Floats with an exponent up to 2^31: 1e300000000 parses in
// microseconds, but writing it as text ("${n}", format, jsonencode, a
// store) makes 300 million digits, minutes of CPU and gigabytes for one
// event. 2^4096 (about 1e1233) is far past any float64 and any id, and
// formats in microseconds.
const maxNumberExp = 4096

// ErrNumberOutOfRange is the error of a number too large or too small (in
// size) to be written as text in bounded time.
var ErrNumberOutOfRange = errors.New("a number's size must be under 1e1233 and, unless it is zero, over 1e-1233")

// NumberInRange reports whether f may be used: zero, an infinity, or a
// size between 2^-4096 and 2^4096.
func NumberInRange(f *big.Float) bool {
	e := f.MantExp(nil) // 0 for zero and the infinities
	return e <= maxNumberExp && e >= -maxNumberExp
}

// checkNumbers returns ErrNumberOutOfRange when v is, or holds, a known
// number out of range.
func checkNumbers(v cty.Value) error {
	if v.Type() == cty.Number {
		if v.IsKnown() && !v.IsNull() && !NumberInRange(v.AsBigFloat()) {
			return ErrNumberOutOfRange
		}
		return nil
	}
	if v.Type().IsPrimitiveType() || !v.IsKnown() || v.IsNull() {
		return nil
	}
	v, _ = v.UnmarkDeep()
	var err error
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if err == nil && e.Type() == cty.Number {
			err = checkNumbers(e)
		}
		return err == nil, nil
	})
	return err
}

// checkNumericStrings returns ErrNumberOutOfRange when v is, or holds
// (formatlist's lists), a string that converts to a number out of range.
func checkNumericStrings(v cty.Value) error {
	v, _ = v.UnmarkDeep()
	var err error
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if e.Type() == cty.String && e.IsKnown() && !e.IsNull() {
			if n, perr := cty.ParseNumberVal(e.AsString()); perr == nil && !NumberInRange(n.AsBigFloat()) {
				err = ErrNumberOutOfRange
			}
		}
		return err == nil, nil
	})
	return err
}

// boundedOps are hclsyntax's arithmetic operators with their result
// checked: repeated multiplication (or "1e300000000" + 0) must not make
// a number no one can print.
var boundedOps = func() map[*hclsyntax.Operation]*hclsyntax.Operation {
	m := map[*hclsyntax.Operation]*hclsyntax.Operation{}
	for _, op := range []*hclsyntax.Operation{hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpMultiply, hclsyntax.OpDivide, hclsyntax.OpModulo} {
		m[op] = &hclsyntax.Operation{Impl: numbersChecked(op.Impl, nil), Type: op.Type, ShortCircuit: op.ShortCircuit}
	}
	return m
}()

// numbersChecked is f with its number arguments and its result checked to
// be in range; strings(args) names arguments that f converts to numbers
// itself (format's), checked the same way.
func numbersChecked(f function.Function, strings func(args []cty.Value) []cty.Value) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for _, a := range args {
				if err := checkNumbers(a); err != nil {
					return cty.NilVal, err
				}
			}
			if strings != nil {
				for _, a := range strings(args) {
					if err := checkNumericStrings(a); err != nil {
						return cty.NilVal, err
					}
				}
			}
			v, err := f.Call(args)
			if err == nil {
				err = checkNumbers(v)
			}
			if err != nil {
				return cty.NilVal, err
			}
			return v, nil
		},
	})
}

// boundNumbers refuses number literals out of range and puts the checked
// arithmetic operators in place in a parsed tree; it bounds for
// expressions too (see boundFor).
func boundNumbers(n hclsyntax.Node) hcl.Diagnostics {
	if n == nil {
		return nil
	}
	diags := boundFor(n)
	return append(diags, hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			if checkNumbers(e.Val) != nil {
				r := e.SrcRange
				e.Val = cty.NullVal(cty.Number)
				return hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Number out of range",
					Detail:   fmt.Sprintf("%s. Write a smaller number.", ErrNumberOutOfRange),
					Subject:  &r,
				}}
			}
		case *hclsyntax.BinaryOpExpr:
			if op, ok := boundedOps[e.Op]; ok {
				e.Op = op
			}
		}
		return nil
	})...)
}
