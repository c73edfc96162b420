//go:build !unix

package pki

import (
	"context"
	"errors"
)

// lockDir is not implemented where flock is missing: a PKI directory
// shared without a lock could lose a revocation.
func lockDir(context.Context, string) (func(), error) {
	return nil, errors.New("certgate pki needs flock, which this platform lacks")
}
