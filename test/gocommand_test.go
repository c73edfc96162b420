package test

import (
	"os"
	"os/exec"
	"strings"
)

// goCommand runs the go command in the configuration `make` builds
// everything but the race tests in: static (CGO_ENABLED=0) and -trimpath,
// as the release image is built (Dockerfile). The race tests' own
// environment has cgo on, so without this the certgate binary and the opa
// tool these tests build would compile every dependency once more instead
// of reusing what `make vet` compiled.
func goCommand(args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	flags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -trimpath")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS="+flags)
	return cmd
}
