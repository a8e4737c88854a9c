package lsp

import (
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/waymark-dev/waymark/lang"
)

// funcInfo is a function as completion and hover show it.
type funcInfo struct {
	name      string
	signature string // lower(str string) string
	doc       string
}

var (
	funcsOnce sync.Once
	funcList  []funcInfo
	funcIndex map[string]*funcInfo
)

// functions lists every function expressions may call, by name, with its
// signature read from its cty definition and its documentation (lang's own
// for Waymark's functions, go-cty's for the standard library).
func functions() []funcInfo {
	funcsOnce.Do(func() {
		fs := lang.Functions(lang.FuncHooks{})
		for _, name := range lang.FunctionNames() {
			f := fs[name]
			doc := f.Description()
			if own, ok := lang.FuncDocs[name]; ok {
				doc = own
			}
			funcList = append(funcList, funcInfo{name: name, signature: funcSignature(name, f), doc: doc})
		}
		funcIndex = map[string]*funcInfo{}
		for i := range funcList {
			funcIndex[funcList[i].name] = &funcList[i]
		}
	})
	return funcList
}

func lookupFunc(name string) *funcInfo {
	functions()
	return funcIndex[name]
}

func funcSignature(name string, f function.Function) string {
	var params []string
	var types []cty.Type
	for _, p := range f.Params() {
		params = append(params, p.Name+" "+typeName(p.Type))
		types = append(types, p.Type)
	}
	if vp := f.VarParam(); vp != nil {
		params = append(params, "..."+vp.Name+" "+typeName(vp.Type))
	}
	sig := name + "(" + strings.Join(params, ", ") + ")"
	if t, ok := returnType(f, types); ok {
		sig += " " + typeName(t)
	}
	return sig
}

// returnType asks a function its return type for its parameter types; some
// can only tell from values, and then there is none to show.
func returnType(f function.Function, types []cty.Type) (t cty.Type, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	t, err := f.ReturnType(types)
	return t, err == nil && t != cty.DynamicPseudoType
}

func typeName(t cty.Type) string {
	if t == cty.DynamicPseudoType {
		return "any"
	}
	return t.FriendlyName()
}
