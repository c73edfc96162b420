package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
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

// The documents the admin API reads besides Query. A policy need not define
// them: the methods that read them then return ErrUndefined.
const (
	routesQuery  = "data.certgate.routes"
	groupsQuery  = "data.certgate.groups"
	usersQuery   = "data.certgate.users"
	matchedQuery = "data.certgate.authz.matched_routes"
	grantedQuery = "data.certgate.authz.granted_permissions"
)

// ErrUndefined is returned (wrapped) when a document the Engine evaluates is
// undefined for the input.
var ErrUndefined = errors.New("undefined")

// Engine evaluates one compiled set of policies and data. It is immutable
// (its decision cache aside) and safe for concurrent use; a reload builds a
// new Engine, which starts with an empty cache.
type Engine struct {
	decision rego.PreparedEvalQuery
	matched  optionalQuery
	granted  optionalQuery
	files    []string
	// routes indexes data.certgate.routes; nil when there is no route
	// array or the policy does not read input.route_candidates.
	routes *routeIndex
	reads  policyReads
	// routeKeyed is set when decisions are remembered by the routes that
	// match the request instead of its method and path (routekey.go).
	routeKeyed bool
	// memo remembers decisions; nil when disabled or not memoizable.
	memo        *memo
	permissions []Permission
	// admin is AdminQuery, evaluated apart from the decision;
	// adminDefined tells whether the policy defines it.
	admin        optionalQuery
	adminDefined bool
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
func Load(ctx context.Context, dir string, opts ...Option) (*Engine, error) {
	if dir == "" {
		return LoadFS(ctx, shipped.Default, opts...)
	}
	return load(ctx, nil, dir, opts)
}

// LoadFS is Load reading from fsys; file names in errors and in Files are
// relative to the root of fsys.
func LoadFS(ctx context.Context, fsys fs.FS, opts ...Option) (*Engine, error) {
	if fsys == nil {
		return nil, errors.New("policy: nil file system")
	}
	return load(ctx, fsys, ".", opts)
}

func load(ctx context.Context, fsys fs.FS, root string, opts []Option) (*Engine, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
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
	modules := make([]*ast.Module, 0, len(res.Modules))
	for _, name := range sortedKeys(res.Modules) {
		modules = append(modules, res.Modules[name].Parsed)
	}
	return compile(ctx, root, modules, res.Documents, files, o)
}

// compile compiles modules over the data documents, prepares the queries
// and checks the decision with the sample inputs; root names in errors what
// was loaded.
func compile(ctx context.Context, root string, modules []*ast.Module, documents map[string]any, files []string, o options) (*Engine, error) {
	if len(modules) == 0 {
		return nil, fmt.Errorf("policy: load %s: no .rego files", root)
	}
	// The data is read-only once loaded: skip the defensive copy on write and
	// keep it as AST values, so an evaluation does not convert the route table
	// from Go values on every request.
	store := inmem.NewFromObjectWithOpts(documents,
		inmem.OptRoundTripOnWrite(false),
		inmem.OptReturnASTValuesOnRead(true))
	// The modules are compiled once, with the decision query; the other
	// queries reuse the compiler.
	compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	regoOpts := []func(*rego.Rego){
		rego.Query(Query),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Store(store),
		rego.Compiler(compiler),
	}
	for _, m := range modules {
		regoOpts = append(regoOpts, rego.ParsedModule(m))
	}
	var err error
	e := &Engine{files: files}
	if e.decision, err = rego.New(regoOpts...).PrepareForEval(ctx); err != nil {
		return nil, fmt.Errorf("policy: compile %s: %w", root, err)
	}
	prepare := func(query string) (rego.PreparedEvalQuery, error) {
		pq, err := rego.New(rego.Query(query), rego.SetRegoVersion(ast.RegoV1),
			rego.Store(store), rego.Compiler(compiler)).PrepareForEval(ctx)
		if err != nil {
			return pq, fmt.Errorf("prepare %s: %w", query, err)
		}
		return pq, nil
	}
	// The admin API's documents are optional: a policy that defines them
	// oddly (as functions, say) still serves; the methods return the error.
	e.matched.pq, e.matched.err = prepare(matchedQuery)
	e.granted.pq, e.granted.err = prepare(grantedQuery)
	e.admin.pq, e.admin.err = prepare(AdminQuery)
	e.adminDefined = e.admin.err == nil && definesAdmin(ctx, e.admin.pq, compiler)
	if err := e.index(ctx, prepare, compiler, modules, documents, o); err != nil {
		return nil, fmt.Errorf("policy: index %s: %w", root, err)
	}
	e.markEveryone(ctx)

	slices.Sort(e.files)
	for _, in := range samples() {
		if _, err := e.eval(ctx, in); err != nil {
			return nil, fmt.Errorf("policy: check %s with %s %s: %w", root, in.Request.Method, in.Request.Path, err)
		}
	}
	return e, nil
}

// index precomputes what requests need: which input fields the policy
// reads, the route index, the permission list and the decision cache.
func (e *Engine) index(ctx context.Context, prepare func(string) (rego.PreparedEvalQuery, error), compiler *ast.Compiler, parsed []*ast.Module, data map[string]any, o options) error {
	e.reads = analyseReads(compiler.Modules)
	var docs [3]ast.Value
	for i, query := range []string{routesQuery, groupsQuery, usersQuery} {
		pq, err := prepare(query)
		if err != nil {
			return err
		}
		docs[i], err = evalValue(ctx, pq)
		if err != nil && !errors.Is(err, ErrUndefined) {
			return fmt.Errorf("evaluate %s: %w", query, err)
		}
	}
	// Routes computed by rules may depend on the input; only a table from
	// data files is indexed, the policy scans any other.
	fromRules := len(compiler.GetRules(ast.MustParseRef(routesQuery))) > 0
	if docs[0] != nil && !fromRules && e.reads.fields&fieldRouteCandidates != 0 {
		e.routes = newRouteIndex(docs[0])
	}
	e.permissions = permissionsOf(docs[0], docs[1], docs[2])
	if e.reads.memoizable() {
		e.memo = newMemo(o.cacheSize, o.cacheBytes)
		e.routeKeyed = e.routes != nil && !authzData(data) && routeMatchOnly(parsed, compiler.Modules)
	}
	return nil
}

// optionalQuery is a query the Engine prepared if it could; err says why
// it could not.
type optionalQuery struct {
	pq  rego.PreparedEvalQuery
	err error
}

// evalValue evaluates a query without input and returns its value, or
// ErrUndefined.
func evalValue(ctx context.Context, pq rego.PreparedEvalQuery, opts ...rego.EvalOption) (ast.Value, error) {
	rs, err := pq.Eval(ctx, append(opts, rego.EvalGenerateJSON(keepTerm))...)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, ErrUndefined
	}
	if len(rs) > 1 {
		return nil, fmt.Errorf("%d results, want 1", len(rs))
	}
	term, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("unexpected result %T", rs[0].Expressions[0].Value)
	}
	return term.Value, nil
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
//
// Decisions are remembered, keyed on the input fields the policy reads
// (found by analysing its references to input), unless the cache is
// disabled or the policy reads request headers, calls a non-deterministic
// built-in such as time.now_ns, or uses input in a way the analysis cannot
// follow. A remembered Decision shares its header maps with every request
// it answers: callers must not modify them.
func (e *Engine) Decide(ctx context.Context, in *Input) (Decision, error) {
	if in == nil || in.Identity == nil {
		return Decision{}, errors.New("policy: decide: input has no identity")
	}
	if e.memo == nil {
		return e.eval(ctx, in)
	}
	sc := scratchPool.Get().(*decideScratch)
	defer sc.release()
	// The routes are part of the key when routeKeyed; otherwise only a
	// miss needs them.
	sc.routes = sc.routes[:0]
	if e.routeKeyed {
		sc.routes = e.routes.match(in.Request.Method, in.Request.Path, sc.routes)
	}
	sc.key = e.appendMemoKey(sc.key[:0], in, sc.routes)
	key := sc.key
	remember := len(key) <= maxMemoKey
	if remember {
		if d, ok := e.memo.get(key); ok {
			return d, nil
		}
	}
	if !e.routeKeyed && e.routes != nil {
		sc.routes = e.routes.match(in.Request.Method, in.Request.Path, sc.routes)
	}
	d, err := e.evalRoutes(ctx, in, sc.routes)
	if err != nil {
		return Decision{}, err
	}
	if remember {
		e.memo.put(key, d)
	}
	return d, nil
}

// decideScratch holds what one Decide builds and drops: the memo key and
// the routes the index found. Both would otherwise be allocated per
// request, as the key goes through the key writers of inputFields and the
// routes through the index's recursion; neither is kept (the memo keeps a
// digest of the key, the input copies the routes).
type decideScratch struct {
	key    []byte
	routes []int
}

var scratchPool = sync.Pool{New: func() any {
	return &decideScratch{key: make([]byte, 0, 256), routes: make([]int, 0, 8)}
}}

// release returns sc to the pool unless a long request grew it: the pool
// then holds at most a key of maxMemoKey and a few routes per P.
func (sc *decideScratch) release() {
	if cap(sc.key) <= 2*maxMemoKey && cap(sc.routes) <= 64 {
		scratchPool.Put(sc)
	}
}

// appendMemoKey appends the key a decision about in is remembered by:
// the fields the policy reads, with the routes that match standing in for
// the method and the path when the policy reads those only to match
// routes (routeKeyed), so that /registry/pull/<id> hits whatever the id.
func (e *Engine) appendMemoKey(buf []byte, in *Input, routes []int) []byte {
	if !e.routeKeyed {
		return appendKey(buf, in, e.reads.fields)
	}
	buf = appendKey(buf, in, e.reads.fields&^(fieldMethod|fieldPath|fieldRouteCandidates))
	return appendRoutes(buf, routes)
}

// CacheStats reports the decision cache's hits, misses and size; all zero
// when the Engine does not cache.
func (e *Engine) CacheStats() CacheStats {
	if e.memo == nil {
		return CacheStats{}
	}
	return e.memo.stats()
}

// eval evaluates the decision without the cache.
func (e *Engine) eval(ctx context.Context, in *Input, opts ...rego.EvalOption) (Decision, error) {
	if in == nil || in.Identity == nil {
		return Decision{}, errors.New("policy: decide: input has no identity")
	}
	var routeBuf [8]int
	var routes []int
	if e.routes != nil {
		routes = e.routes.match(in.Request.Method, in.Request.Path, routeBuf[:0])
	}
	return e.evalRoutes(ctx, in, routes, opts...)
}

// evalRoutes evaluates the decision, routes being the routes the index
// found for in (nil without an index).
func (e *Engine) evalRoutes(ctx context.Context, in *Input, routes []int, opts ...rego.EvalOption) (Decision, error) {
	opts = append(opts, rego.EvalParsedInput(e.inputWith(in, routes)), rego.EvalExternalCancel(cancelOf(ctx)))
	v, err := evalValue(ctx, e.decision, opts...)
	if errors.Is(err, ErrUndefined) {
		return Decision{}, fmt.Errorf("policy: decide: %s is %w", Query, err)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("policy: decide: %w", err)
	}
	d, err := decodeDecision(v)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: decide: %w", err)
	}
	return d, nil
}

// input builds the input document of in with the fields the policy reads.
func (e *Engine) input(in *Input) ast.Value {
	var candidates *ast.Term
	if e.routes != nil {
		candidates = e.routes.candidates(in.Request.Method, in.Request.Path)
	}
	return in.valueOf(e.reads.fields, candidates)
}

// inputWith is input with the routes the index already found.
func (e *Engine) inputWith(in *Input, routes []int) ast.Value {
	var candidates *ast.Term
	if e.routes != nil {
		candidates = e.routes.term(routes)
	}
	return in.valueOf(e.reads.fields, candidates)
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
