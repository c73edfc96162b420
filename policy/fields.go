package policy

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// inputField is one field of the input document: input.<part>.<name>.
// inputFields is the one list of them; what the policy reads (reads.go),
// the input it is given (input.go) and the decision memo's key (key.go)
// all follow it, so a new field is one row there.
type inputField struct {
	// part is the top-level key, "identity" or "request"; name the key
	// below it, which is the json tag of the Go field (identity.Identity,
	// Request), so the policy sees what the decision log records.
	part, name string
	// nameTerm is name as a term, made once: terms are never modified
	// once built, and ast.InternedTerm interns only a few strings.
	nameTerm *ast.Term
	// term builds the field's value as the policy sees it.
	term func(*Input) *ast.Term
	// key appends the field to a memo key, length-prefixed so that no two
	// values share a key, and exactly as fine as term: two inputs with
	// the same key give the same term.
	key func([]byte, *Input) []byte
}

// The parts of the input document built from inputFields.
const (
	partIdentity = "identity"
	partRequest  = "request"
)

// inputFields are the fields of input.identity and input.request, in the
// order they are built and keyed. The bit of a field is 1 << its index.
var inputFields = [...]inputField{
	textField(partIdentity, "user", func(in *Input) string { return in.Identity.User }),
	listField(partIdentity, "groups", func(in *Input) []string { return in.Identity.Groups }),
	listField(partIdentity, "org_units", func(in *Input) []string { return in.Identity.OrgUnits }),
	textField(partIdentity, "subject", func(in *Input) string { return in.Identity.Subject }),
	textField(partIdentity, "issuer", func(in *Input) string { return in.Identity.Issuer }),
	textField(partIdentity, "serial", func(in *Input) string { return in.Identity.Serial }),
	textField(partIdentity, "fingerprint_sha256", func(in *Input) string { return in.Identity.FingerprintSHA256 }),
	newField(partIdentity, "sans", sansTerm, appendSANs),
	textField(partIdentity, "spiffe_id", func(in *Input) string { return in.Identity.SPIFFEID }),
	timeField(partIdentity, "not_before", func(in *Input) time.Time { return in.Identity.NotBefore }),
	timeField(partIdentity, "not_after", func(in *Input) time.Time { return in.Identity.NotAfter }),
	textField(partIdentity, "source", func(in *Input) string { return string(in.Identity.Source) }),
	textField(partRequest, "method", func(in *Input) string { return in.Request.Method }),
	textField(partRequest, "path", func(in *Input) string { return in.Request.Path }),
	textField(partRequest, "raw_path", func(in *Input) string { return in.Request.RawPath }),
	newField(partRequest, "query", func(in *Input) *ast.Term { return queryTerm(in.Request.Query) }, appendQuery),
	newField(partRequest, "headers", func(in *Input) *ast.Term { return headersTerm(in.Request.Headers) }, appendHeaders),
	textField(partRequest, "host", func(in *Input) string { return in.Request.Host }),
	textField(partRequest, "scheme", func(in *Input) string { return in.Request.Scheme }),
	textField(partRequest, "protocol", func(in *Input) string { return in.Request.Protocol }),
}

// fieldSet names fields of the input document: bit i is inputFields[i].
// A policy is given only the fields it reads, and its decisions are
// memoized on those fields alone.
type fieldSet uint32

// fieldRouteCandidates is input.route_candidates, which the engine computes
// from the method and the path; it follows the table's bits.
const fieldRouteCandidates fieldSet = 1 << len(inputFields)

// The table and input.route_candidates must fit a fieldSet.
var _ [32 - len(inputFields) - 1]struct{}

// Field sets the code names; the rest is reached through the table.
var (
	fieldMethod  = fieldsNamed(partRequest + ".method")
	fieldPath    = fieldsNamed(partRequest + ".path")
	fieldHeaders = fieldsNamed(partRequest + ".headers")

	identityFields = partFields(partIdentity)
	requestFields  = partFields(partRequest)
	allFields      = identityFields | requestFields | fieldRouteCandidates
)

// inputPart is one top-level part of the input document built from the
// table: its fields and their bits by name.
type inputPart struct {
	name   string
	key    *ast.Term
	fields fieldSet
	byName map[string]fieldSet
}

// inputParts are the parts in the order the document is built.
var inputParts = func() []*inputPart {
	var parts []*inputPart
	for i, f := range inputFields {
		if len(parts) == 0 || parts[len(parts)-1].name != f.part {
			parts = append(parts, &inputPart{name: f.part, key: ast.StringTerm(f.part), byName: map[string]fieldSet{}})
		}
		p := parts[len(parts)-1]
		p.fields |= 1 << i
		p.byName[f.name] = 1 << i
	}
	return parts
}()

// partNamed returns the part called name, or nil.
func partNamed(name string) *inputPart {
	for _, p := range inputParts {
		if p.name == name {
			return p
		}
	}
	return nil
}

func partFields(name string) fieldSet {
	return partNamed(name).fields
}

// fieldsNamed returns the bits of the fields named "part.name"; a name the
// table does not hold has none (TestNamedFieldSets holds the ones the code
// names to their rows).
func fieldsNamed(names ...string) fieldSet {
	var set fieldSet
	for i, f := range inputFields {
		if slices.Contains(names, f.part+"."+f.name) {
			set |= 1 << i
		}
	}
	return set
}

func newField(part, name string, term func(*Input) *ast.Term, key func([]byte, *Input) []byte) inputField {
	return inputField{part: part, name: name, nameTerm: ast.StringTerm(name), term: term, key: key}
}

func textField(part, name string, get func(*Input) string) inputField {
	return newField(part, name,
		func(in *Input) *ast.Term { return ast.StringTerm(get(in)) },
		func(buf []byte, in *Input) []byte { return appendString(buf, get(in)) })
}

func listField(part, name string, get func(*Input) []string) inputField {
	return newField(part, name,
		func(in *Input) *ast.Term { return stringsTerm(get(in)) },
		func(buf []byte, in *Input) []byte { return appendStrings(buf, get(in)) })
}

func timeField(part, name string, get func(*Input) time.Time) inputField {
	return newField(part, name,
		func(in *Input) *ast.Term { return timeTerm(get(in)) },
		func(buf []byte, in *Input) []byte { return appendTime(buf, get(in)) })
}

// sanKeys are the keys of input.identity.sans (the json tags of identity.SANs).
var sanKeys = [4]*ast.Term{ast.StringTerm("dns"), ast.StringTerm("ip"), ast.StringTerm("email"), ast.StringTerm("uri")}

func sansTerm(in *Input) *ast.Term {
	s := &in.Identity.SANs
	return ast.ObjectTerm(
		[2]*ast.Term{sanKeys[0], stringsTerm(s.DNS)},
		[2]*ast.Term{sanKeys[1], stringsTerm(s.IP)},
		[2]*ast.Term{sanKeys[2], stringsTerm(s.Email)},
		[2]*ast.Term{sanKeys[3], stringsTerm(s.URI)},
	)
}

func appendSANs(buf []byte, in *Input) []byte {
	s := &in.Identity.SANs
	for _, l := range [][]string{s.DNS, s.IP, s.Email, s.URI} {
		buf = appendStrings(buf, l)
	}
	return buf
}

func appendQuery(buf []byte, in *Input) []byte {
	return appendStringMap(buf, in.Request.Query, appendStrings)
}

// appendHeaders keys the headers although no memoized policy reads them
// (policyReads.memoizable): a key as fine as the term is never wrong.
func appendHeaders(buf []byte, in *Input) []byte {
	return appendStringMap(buf, in.Request.Headers, appendString)
}

// appendStringMap appends m's entries sorted by name.
func appendStringMap[V any](buf []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	buf = binary.AppendUvarint(buf, uint64(len(names)))
	for _, k := range names {
		buf = appendString(buf, k)
		buf = value(buf, m[k])
	}
	return buf
}
