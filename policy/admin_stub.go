package policy

import (
	"context"
	"errors"
)

// TODO(merge): replaced by the policy-speed branch's admin.go.

// Route is one entry of data.certgate.routes.
type Route struct{ Permission, Method, Path string }

// Permission is a permission with its routes and holders.
type Permission struct {
	Name          string
	Routes        []Route
	Groups, Users []string
}

// Permissions lists the permissions of the loaded data.
func (e *Engine) Permissions(context.Context) ([]Permission, error) {
	return nil, errors.New("not implemented yet")
}
