package policy

import (
	"context"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Permission is one permission named in the policy data, with what grants
// it and what it guards.
type Permission struct {
	// Name is the permission as the data spells it.
	Name string
	// Routes are the routes that need it, in table order.
	Routes []Route
	// Groups and Users hold it, sorted; a holder of "*" holds every
	// permission and is listed under each.
	Groups []string
	Users  []string
	// Everyone says that every authenticated identity holds it (the
	// policy grants it to an identity it knows nothing about, as the
	// shipped policy grants "authenticated"); Groups and Users are then
	// empty.
	Everyone bool
}

// Route is one entry of data.certgate.routes.
type Route struct {
	Method string
	Path   string
}

// Permissions lists every permission named in data.certgate (by a route, a
// group or a user entry), sorted by name. "*", the wildcard, is not listed
// as a permission of its own. The list is computed once per Engine.
func (e *Engine) Permissions(_ context.Context) ([]Permission, error) {
	out := make([]Permission, len(e.permissions))
	for i, p := range e.permissions {
		out[i] = Permission{Name: p.Name, Routes: slices.Clone(p.Routes),
			Groups: slices.Clone(p.Groups), Users: slices.Clone(p.Users), Everyone: p.Everyone}
	}
	return out, nil
}

// permissionsOf reads the permissions out of the route table and the
// group and user maps; values of an unexpected shape are skipped, as the
// policy cannot use them either.
func permissionsOf(routes, groups, users ast.Value) []Permission {
	byName := map[string]*Permission{}
	get := func(name string) *Permission {
		p := byName[name]
		if p == nil {
			p = &Permission{Name: name}
			byName[name] = p
		}
		return p
	}
	if arr, ok := routes.(*ast.Array); ok {
		arr.Foreach(func(t *ast.Term) {
			obj, ok := t.Value.(ast.Object)
			if !ok {
				return
			}
			name, ok1 := stringAt(obj, "permission")
			method, ok2 := stringAt(obj, "method")
			path, ok3 := stringAt(obj, "path")
			if ok1 && ok2 && ok3 {
				p := get(name)
				p.Routes = append(p.Routes, Route{Method: method, Path: path})
			}
		})
	}
	var wildGroups, wildUsers []string
	holders := func(doc ast.Value, add func(p *Permission, holder string), wild *[]string) {
		obj, ok := doc.(ast.Object)
		if !ok {
			return
		}
		obj.Foreach(func(k, v *ast.Term) {
			holder, ok := k.Value.(ast.String)
			if !ok {
				return
			}
			list, ok := v.Value.(*ast.Array)
			if !ok {
				return
			}
			list.Foreach(func(t *ast.Term) {
				name, ok := t.Value.(ast.String)
				switch {
				case !ok:
				case name == "*":
					*wild = append(*wild, string(holder))
				default:
					add(get(string(name)), string(holder))
				}
			})
		})
	}
	holders(groups, func(p *Permission, g string) { p.Groups = append(p.Groups, g) }, &wildGroups)
	holders(users, func(p *Permission, u string) { p.Users = append(p.Users, u) }, &wildUsers)

	out := make([]Permission, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		p := byName[name]
		p.Groups = sortedUnique(append(p.Groups, wildGroups...))
		p.Users = sortedUnique(append(p.Users, wildUsers...))
		out = append(out, *p)
	}
	return out
}

func sortedUnique(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}
