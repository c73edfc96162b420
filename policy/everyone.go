package policy

import (
	"context"
	"slices"
)

// markEveryone marks the permissions the policy grants an identity it
// knows nothing about (the "authenticated" pseudo-permission of the
// shipped policy): every authenticated identity holds them, so listing the
// groups and users that hold them through "*" would say less than the
// truth. A policy without granted_permissions marks none.
func (e *Engine) markEveryone(ctx context.Context) {
	if e.granted.err != nil {
		return
	}
	granted, err := e.Granted(ctx, samples()[0])
	if err != nil {
		return
	}
	for i := range e.permissions {
		if p := &e.permissions[i]; slices.Contains(granted, p.Name) {
			p.Everyone, p.Groups, p.Users = true, nil, nil
		}
	}
}
