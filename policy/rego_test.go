package policy

import (
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestShippedRegoTestsPass runs rego/*_test.rego through OPA's test runner, as
// `opa test rego/` does, so that `go test ./...` fails when a Rego test does.
func TestShippedRegoTestsPass(t *testing.T) {
	// Fewer than this means tests were lost (renamed without the test_ prefix,
	// or a file no longer loaded), which would otherwise pass silently.
	const minTests = 60

	modules, store, err := tester.LoadWithRegoVersion([]string{filepath.Join("..", "rego")}, nil, ast.RegoV1)
	if err != nil {
		t.Fatalf("load rego/: %v", err)
	}
	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetStore(store).
		SetModules(modules).
		RunTests(t.Context(), nil)
	if err != nil {
		t.Fatalf("run rego tests: %v", err)
	}
	var ran, passed int
	for r := range ch {
		ran++
		switch {
		case r.Error != nil:
			t.Errorf("%s.%s: error: %v", r.Package, r.Name, r.Error)
		case r.Skip:
			t.Errorf("%s.%s: skipped (todo_test_): finish or remove it", r.Package, r.Name)
		case r.Fail:
			t.Errorf("%s.%s: FAIL at %v", r.Package, r.Name, r.Location)
		default:
			passed++
		}
	}
	if ran < minTests {
		t.Errorf("ran %d Rego tests, want at least %d", ran, minTests)
	}
	t.Logf("%d/%d Rego tests passed", passed, ran)
}
