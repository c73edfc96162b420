package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/certgate/certgate/identity"
	shipped "github.com/certgate/certgate/rego"
)

// Query is the document every certgate policy must define.
const Query = "data.certgate.authz.decision"

// Engine evaluates one compiled set of policies and data. It is immutable and
// safe for concurrent use; a reload builds a new Engine.
type Engine struct {
	query rego.PreparedEvalQuery
	files []string
}

// Load reads every .rego file (except *_test.rego) and every .json, .yaml and
// .yml data file under dir, recursively, compiles them and prepares Query.
// Data files are placed by their directory, as OPA does: a data file in a/b
// is merged at data.a.b. Hidden files and directories (a leading ".", such as
// the ..data links of a Kubernetes ConfigMap volume) are skipped. An empty dir
// loads the shipped default policy (rego.Default).
//
// Load fails unless the prepared query yields a well-formed Decision for a few
// sample inputs, so a policy that compiles but decides nothing is never served.
func Load(ctx context.Context, dir string) (*Engine, error) {
	if dir == "" {
		return LoadFS(ctx, shipped.Default)
	}
	return load(ctx, nil, dir)
}

// LoadFS is Load reading from fsys; file names in errors and in Files are
// relative to the root of fsys.
func LoadFS(ctx context.Context, fsys fs.FS) (*Engine, error) {
	if fsys == nil {
		return nil, errors.New("policy: nil file system")
	}
	return load(ctx, fsys, ".")
}

func load(ctx context.Context, fsys fs.FS, root string) (*Engine, error) {
	var files []string
	filter := func(name string, info fs.FileInfo, depth int) bool {
		if depth > 0 && strings.HasPrefix(info.Name(), ".") {
			return true
		}
		if info.IsDir() {
			return false
		}
		if !isPolicyFile(info.Name()) {
			return true
		}
		files = append(files, name)
		return false
	}
	res, err := loader.NewFileLoader().
		WithFS(fsys).
		WithRegoVersion(ast.RegoV1).
		Filtered([]string{root}, filter)
	if err != nil {
		return nil, fmt.Errorf("policy: load %s: %w", root, err)
	}
	if len(res.Modules) == 0 {
		return nil, fmt.Errorf("policy: load %s: no .rego files", root)
	}

	// The data is read-only once loaded: skip the defensive copy on write and
	// keep it as AST values, so an evaluation does not convert the route table
	// from Go values on every request.
	store := inmem.NewFromObjectWithOpts(res.Documents,
		inmem.OptRoundTripOnWrite(false),
		inmem.OptReturnASTValuesOnRead(true))
	opts := []func(*rego.Rego){
		rego.Query(Query),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Store(store),
	}
	for _, name := range sortedKeys(res.Modules) {
		opts = append(opts, rego.ParsedModule(res.Modules[name].Parsed))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: compile %s: %w", root, err)
	}

	slices.Sort(files)
	e := &Engine{query: pq, files: files}
	for _, in := range samples() {
		if _, err := e.Decide(ctx, in); err != nil {
			return nil, fmt.Errorf("policy: check %s with %s %s: %w", root, in.Request.Method, in.Request.Path, err)
		}
	}
	return e, nil
}

func isPolicyFile(name string) bool {
	switch path.Ext(name) {
	case ".rego":
		return !strings.HasSuffix(name, "_test.rego")
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// samples are the inputs a freshly prepared query must decide. They are not
// about any real route: a policy must give a decision (usually a deny) for
// every authenticated request, including ones it knows nothing about.
func samples() []*Input {
	id := &identity.Identity{
		User:              "certgate-load-check",
		Groups:            []string{"certgate-load-check"},
		OrgUnits:          []string{"load-check"},
		Subject:           "CN=certgate-load-check,O=certgate-load-check",
		Issuer:            "CN=certgate-load-check-ca",
		Serial:            "01",
		FingerprintSHA256: strings.Repeat("0", 64),
		NotBefore:         time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:          time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		Source:            identity.SourceEnvoy,
	}
	return []*Input{
		{Identity: id, Request: Request{Method: "GET", Path: "/", RawPath: "/", Host: "localhost", Scheme: "https", Protocol: "HTTP/1.1"}},
		{Identity: id, Request: Request{
			Method: "POST", Path: "/certgate/load/check", RawPath: "/certgate/load/check?x=1",
			Query:   map[string][]string{"x": {"1"}},
			Headers: map[string]string{"content-type": "application/json"},
			Host:    "localhost", Scheme: "https", Protocol: "HTTP/2",
		}},
		{Identity: &identity.Identity{User: "certgate-load-check"}, Request: Request{Method: "DELETE", Path: "/certgate-load-check"}},
	}
}

// Decide evaluates the policy for in. An evaluation error, an undefined
// decision or one of the wrong shape is an error: the caller must deny.
func (e *Engine) Decide(ctx context.Context, in *Input) (Decision, error) {
	if in == nil || in.Identity == nil {
		return Decision{}, errors.New("policy: decide: input has no identity")
	}
	rs, err := e.query.Eval(ctx,
		rego.EvalParsedInput(in.value()),
		rego.EvalExternalCancel(cancelOf(ctx)),
		rego.EvalGenerateJSON(keepTerm))
	if err != nil {
		return Decision{}, fmt.Errorf("policy: decide: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return Decision{}, fmt.Errorf("policy: decide: %s is undefined", Query)
	}
	if len(rs) > 1 {
		return Decision{}, fmt.Errorf("policy: decide: %s has %d results, want 1", Query, len(rs))
	}
	term, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return Decision{}, fmt.Errorf("policy: decide: unexpected result %T", rs[0].Expressions[0].Value)
	}
	d, err := decodeDecision(term.Value)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: decide: %w", err)
	}
	return d, nil
}

// Files lists the policy and data files the Engine was loaded from, sorted.
func (e *Engine) Files() []string {
	return slices.Clone(e.files)
}

// keepTerm hands the result term back as it is; Decide decodes it into a
// Decision without the map[string]any detour of the default conversion.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) {
	return t, nil
}

// cancelOf adapts ctx to topdown.Cancel. Without an external Cancel every
// evaluation starts a goroutine that waits on ctx.Done(); polling ctx.Err()
// (an atomic load) from the evaluator is cheaper and equally prompt.
func cancelOf(ctx context.Context) topdown.Cancel {
	if ctx.Done() == nil {
		return never{}
	}
	return contextCancel{ctx}
}

type contextCancel struct{ ctx context.Context }

// Cancel does nothing: cancellation comes from the context's owner.
func (contextCancel) Cancel() {}

func (c contextCancel) Cancelled() bool { return c.ctx.Err() != nil }

// never is the Cancel of a context that cannot be cancelled.
type never struct{}

func (never) Cancel() {}

func (never) Cancelled() bool { return false }
