package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// LoadBundle compiles the modules and data of an OPA bundle, as `opa build`
// makes it, the way Load compiles a directory: *_test.rego modules are left
// out, the data is the bundle's, and the sample inputs must be decided.
// name (the bundle's configured name) appears in errors.
func LoadBundle(ctx context.Context, name string, b *bundle.Bundle, opts ...Option) (*Engine, error) {
	if b == nil {
		return nil, errors.New("policy: nil bundle")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	// The modules are compiled in the order of their paths, as a
	// directory's are.
	mods := slices.Clone(b.Modules)
	slices.SortFunc(mods, func(x, y bundle.ModuleFile) int { return strings.Compare(modulePath(x), modulePath(y)) })
	var modules []*ast.Module
	var files []string
	for _, m := range mods {
		if strings.HasSuffix(m.Path, "_test.rego") {
			continue
		}
		parsed := m.Parsed
		if parsed == nil {
			var err error
			if parsed, err = ast.ParseModuleWithOpts(m.Path, string(m.Raw), ast.ParserOptions{RegoVersion: ast.RegoV1}); err != nil {
				return nil, fmt.Errorf("policy: bundle %s: %w", name, err)
			}
		}
		modules = append(modules, parsed)
		files = append(files, modulePath(m))
	}
	data := b.Data
	if data == nil {
		data = map[string]any{}
	}
	return compile(ctx, "bundle "+name, modules, data, files, o)
}

// modulePath is a module's path inside the bundle, without the URL the
// downloader puts before it.
func modulePath(m bundle.ModuleFile) string {
	if m.RelativePath != "" {
		return m.RelativePath
	}
	return m.Path
}
