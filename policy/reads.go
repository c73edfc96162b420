package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// policyReads is what analysing the compiled modules found out about the
// input a policy depends on.
type policyReads struct {
	// fields are the input fields the policy may read; allFields when a
	// read could not be pinned down (input passed whole to a function,
	// input[x] with a variable x, a field certgate does not know).
	fields fieldSet
	// deterministic is false when the policy calls a built-in whose result
	// may differ between two evaluations of the same input (time.now_ns,
	// http.send, rand.intn, …).
	deterministic bool
}

// memoizable reports whether decisions may be cached keyed on the fields
// read. Request headers carry per-request values (ids, dates), so a
// policy that reads them would hardly ever hit the cache: it is not cached.
func (r policyReads) memoizable() bool {
	return r.deterministic && r.fields != allFields && r.fields&fieldHeaders == 0
}

// analyseReads walks every reference to input in modules. It errs on the
// side of reading more: a reference it cannot resolve to known fields
// counts as reading everything.
func analyseReads(modules map[string]*ast.Module) policyReads {
	a := &readAnalysis{reads: policyReads{deterministic: true}}
	a.vis = ast.NewGenericVisitor(a.visit)
	for _, m := range modules {
		a.vis.Walk(m)
	}
	return a.reads
}

// readAnalysis is the state of analyseReads' walk.
type readAnalysis struct {
	reads policyReads
	vis   *ast.GenericVisitor
}

// visit records what node x reads; it returns true when it has walked
// x's children itself.
func (a *readAnalysis) visit(x any) bool {
	switch x := x.(type) {
	case ast.Ref:
		a.visitRef(x)
		return true
	case ast.Var:
		// A bare input that was not part of a reference: the policy
		// may use all of it.
		if x.Equal(ast.InputRootDocument.Value) {
			a.reads.fields = allFields
		}
	case *ast.Expr:
		if x.IsCall() && nondeterministic(x.Operator().String()) {
			a.reads.deterministic = false
		}
	case ast.Call:
		if len(x) > 0 {
			if ref, ok := x[0].Value.(ast.Ref); ok && nondeterministic(ref.String()) {
				a.reads.deterministic = false
			}
		}
	}
	return false
}

// visitRef records the fields a reference to input reads, and walks the
// parts of any reference that may hold more.
func (a *readAnalysis) visitRef(x ast.Ref) {
	if len(x) == 0 {
		return
	}
	if x.HasPrefix(ast.InputRootRef) {
		a.reads.fields |= refFields(x)
	} else if _, ok := x[0].Value.(ast.Var); !ok {
		a.vis.Walk(x[0]) // a call or a composite value at the head
	}
	// Walk the operands (input.a[input.b]), not the head var again.
	for _, t := range x[1:] {
		a.vis.Walk(t)
	}
}

// nondeterministic reports whether the built-in named name may return
// different results for the same arguments: OPA's Nondeterministic ones,
// and those that read the clock without OPA marking them so.
func nondeterministic(name string) bool {
	if _, clock := clockBuiltins[name]; clock {
		return true
	}
	b, ok := ast.BuiltinMap[name]
	return ok && b.Nondeterministic
}

// clockBuiltins read the evaluation's time although OPA does not mark them
// Nondeterministic: crypto.x509.parse_and_verify_certificates checks the
// chain's validity at the current time (and the _with_options form does
// unless given CurrentTime), so a remembered answer would outlive the
// certificates it verified.
var clockBuiltins = map[string]struct{}{
	"crypto.x509.parse_and_verify_certificates":              {},
	"crypto.x509.parse_and_verify_certificates_with_options": {},
}

// refFields maps one reference to input to the fields it may read.
func refFields(ref ast.Ref) fieldSet {
	if len(ref) < 2 {
		return allFields
	}
	top, ok := ref[1].Value.(ast.String)
	if !ok {
		return allFields
	}
	switch string(top) {
	case "route_candidates":
		return fieldRouteCandidates
	case "method":
		// The admin entry point's input (AdminQuery); a decision's input
		// never has it, so reading it cannot make two decisions differ.
		return 0
	}
	if p := partNamed(string(top)); p != nil {
		return subField(ref, p)
	}
	return allFields
}

// subField maps a reference below input.<part> to the fields it reads.
func subField(ref ast.Ref, p *inputPart) fieldSet {
	if len(ref) < 3 {
		return p.fields
	}
	name, ok := ref[2].Value.(ast.String)
	if !ok {
		return p.fields
	}
	if f, ok := p.byName[string(name)]; ok {
		return f
	}
	return allFields
}
