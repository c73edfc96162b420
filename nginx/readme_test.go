package nginx_test

import (
	"strings"
	"testing"
)

// TestKubernetesStepsRunInOrder keeps the README's Kubernetes steps
// runnable as written: the manifest that creates the certgate namespace
// comes before the Secrets created in it, and no step asks for a SIGHUP
// that the file watcher makes unnecessary.
func TestKubernetesStepsRunInOrder(t *testing.T) {
	readme := readFile(t, "README.md")
	apply := strings.Index(readme, "kubectl apply -f nginx/kubernetes/certgate.yaml")
	secret := strings.Index(readme, "kubectl -n certgate create secret")
	if apply < 0 || secret < 0 || apply > secret {
		t.Errorf("README.md: kubectl apply of certgate.yaml at %d, the first Secret in its namespace at %d; the namespace must exist first", apply, secret)
	}
	if strings.Contains(readme, "send SIGHUP") {
		t.Error("README.md asks for a SIGHUP; certgate's watcher reloads changed Secrets itself")
	}
}
