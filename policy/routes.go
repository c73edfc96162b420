package policy

import (
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// routeIndex finds the routes of data.certgate.routes that may match a
// request, so that the policy compares a request with a handful of
// candidates instead of the whole table. It follows the matching rules of
// rego/authz.rego exactly, but the policy still matches every candidate
// itself: the index only narrows, and a route it wrongly offered would not
// match.
type routeIndex struct {
	// routes are the route objects as the data holds them.
	routes []*ast.Term
	// byMethod is keyed by the upper-cased route method; anyMethod holds
	// the routes whose method is "*".
	byMethod  map[string]*methodRoutes
	anyMethod *methodRoutes
	// none is the empty candidate list, shared by every request no route
	// may match.
	none *ast.Term
}

// methodRoutes are the routes of one method: literal paths by path, and
// patterns (a "*" segment or a trailing "/**") in a tree of segments.
type methodRoutes struct {
	exact    map[string][]int
	patterns *segmentNode
}

// segmentNode is a node of the pattern tree, reached by consuming one path
// segment per level (split on "/", as the policy splits).
type segmentNode struct {
	literal map[string]*segmentNode
	star    *segmentNode
	// end holds the patterns that end at this node; rest the ones that
	// end here followed by "/**".
	end, rest []int
}

// newRouteIndex indexes routes, the value of data.certgate.routes. It
// returns nil when routes is not an array: the policy then scans whatever
// it is. Entries without a string method and path are left out, as the
// policy can never match them.
func newRouteIndex(routes ast.Value) *routeIndex {
	arr, ok := routes.(*ast.Array)
	if !ok {
		return nil
	}
	ix := &routeIndex{byMethod: map[string]*methodRoutes{}, none: ast.ArrayTerm()}
	for i := range arr.Len() {
		t := arr.Elem(i)
		ix.routes = append(ix.routes, t)
		obj, ok := t.Value.(ast.Object)
		if !ok {
			continue
		}
		method, ok1 := stringAt(obj, "method")
		pattern, ok2 := stringAt(obj, "path")
		if !ok1 || !ok2 {
			continue
		}
		ix.forMethod(method).add(pattern, i)
	}
	return ix
}

func stringAt(obj ast.Object, key string) (string, bool) {
	t := obj.Get(ast.InternedTerm(key))
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

func (ix *routeIndex) forMethod(method string) *methodRoutes {
	if method == "*" {
		if ix.anyMethod == nil {
			ix.anyMethod = &methodRoutes{}
		}
		return ix.anyMethod
	}
	method = strings.ToUpper(method)
	m := ix.byMethod[method]
	if m == nil {
		m = &methodRoutes{}
		ix.byMethod[method] = m
	}
	return m
}

func (m *methodRoutes) add(pattern string, i int) {
	prefix, rest := strings.CutSuffix(pattern, "/**")
	segments := strings.Split(prefix, "/")
	if !rest && !slices.Contains(segments, "*") {
		if m.exact == nil {
			m.exact = map[string][]int{}
		}
		m.exact[pattern] = append(m.exact[pattern], i)
		return
	}
	if m.patterns == nil {
		m.patterns = &segmentNode{}
	}
	n := m.patterns
	for _, s := range segments {
		n = n.child(s)
	}
	if rest {
		n.rest = append(n.rest, i)
	} else {
		n.end = append(n.end, i)
	}
}

func (n *segmentNode) child(segment string) *segmentNode {
	if segment == "*" {
		if n.star == nil {
			n.star = &segmentNode{}
		}
		return n.star
	}
	c := n.literal[segment]
	if c == nil {
		if n.literal == nil {
			n.literal = map[string]*segmentNode{}
		}
		c = &segmentNode{}
		n.literal[segment] = c
	}
	return c
}

// candidates returns the routes that may match method and path, in table
// order, as the array the policy reads from input.route_candidates.
func (ix *routeIndex) candidates(method, path string) *ast.Term {
	var buf [8]int
	return ix.term(ix.match(method, path, buf[:0]))
}

// match appends to found the indexes of the routes that match method and
// path, in table order. When the engine keys decisions on the routes
// (Engine.routeKeyed), it relies on this being exactly the routes the
// policy matches, no more: FuzzRouteIndexMatchesThePolicy holds the two
// together.
func (ix *routeIndex) match(method, path string, found []int) []int {
	if m := ix.byMethod[method]; m != nil {
		found = m.match(path, found)
	}
	if ix.anyMethod != nil {
		found = ix.anyMethod.match(path, found)
	}
	slices.Sort(found)
	return found
}

// term is the candidate array of the routes found.
func (ix *routeIndex) term(found []int) *ast.Term {
	if len(found) == 0 {
		return ix.none
	}
	terms := make([]*ast.Term, len(found))
	for i, r := range found {
		terms[i] = ix.routes[r]
	}
	return ast.ArrayTerm(terms...)
}

// match appends the routes of m that match path. Each route sits at one
// place in m, so none is appended twice.
func (m *methodRoutes) match(path string, out []int) []int {
	out = append(out, m.exact[path]...)
	if m.patterns != nil {
		out = m.patterns.match(path, out)
	}
	return out
}

// match appends the patterns below n that match rest, the part of the path
// not consumed yet. rest always holds at least one segment: splitting ""
// gives one empty segment.
func (n *segmentNode) match(rest string, out []int) []int {
	segment, tail, more := strings.Cut(rest, "/")
	if c := n.literal[segment]; c != nil {
		out = c.matchAfter(tail, more, out)
	}
	if n.star != nil && segment != "" {
		out = n.star.matchAfter(tail, more, out)
	}
	return out
}

// matchAfter continues at n, one segment consumed; more reports whether
// segments remain in tail.
func (n *segmentNode) matchAfter(tail string, more bool, out []int) []int {
	if !more {
		return append(out, n.end...)
	}
	if len(n.rest) > 0 && allSegmentsNonEmpty(tail) {
		out = append(out, n.rest...)
	}
	if n.literal != nil || n.star != nil {
		out = n.match(tail, out)
	}
	return out
}

// allSegmentsNonEmpty reports whether no segment of s split on "/" is empty.
func allSegmentsNonEmpty(s string) bool {
	return s != "" && s[0] != '/' && s[len(s)-1] != '/' && !strings.Contains(s, "//")
}
