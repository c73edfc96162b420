package policy

import (
	"encoding/json"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestEveryInputFieldIsInTheTable walks policy.Input by reflection: every
// part (Identity, Request) and every field below it must have its row in
// inputFields under its json name, and every row a field, so a field added
// to identity.Identity or Request cannot be left out of the policy's input,
// the read analysis or the memo key.
func TestEveryInputFieldIsInTheTable(t *testing.T) {
	inputType := reflect.TypeFor[Input]()
	var parts []string
	for sf := range fields(inputType) {
		name := jsonName(t, sf)
		parts = append(parts, name)
		p := partNamed(name)
		if p == nil {
			t.Errorf("Input.%s (json %q) is not a part of inputFields", sf.Name, name)
			continue
		}
		var names []string
		for f := range fields(sf.Type) {
			n := jsonName(t, f)
			names = append(names, n)
			if _, ok := p.byName[n]; !ok {
				t.Errorf("%s.%s (json %q) has no row in inputFields", sf.Type, f.Name, n)
			}
		}
		for n := range p.byName {
			if !slices.Contains(names, n) {
				t.Errorf("inputFields row %s.%s has no field in %s", name, n, sf.Type)
			}
		}
	}
	for _, p := range inputParts {
		if !slices.Contains(parts, p.name) {
			t.Errorf("inputFields part %q is no field of Input", p.name)
		}
	}
}

// TestEachRowReadsItsField fills every field of an Input with a value of
// its own, then changes one field at a time: the whole input must be the
// document encoding/json gives (names and values follow the json tags),
// and of the rows exactly the field's own must see the change, in its term
// and in its memo key.
func TestEachRowReadsItsField(t *testing.T) {
	base := filledInput(t, "")
	if got, want := base.value(), viaJSON(t, base); want.Compare(got) != 0 {
		t.Fatalf("input is not its JSON document:\n got: %v\nwant: %v", got, want)
	}
	for i, row := range inputFields {
		t.Run(row.part+"."+row.name, func(t *testing.T) {
			changed := filledInput(t, "")
			fillField(t, changed, row.part, row.name, "changed")
			if got, want := changed.value(), viaJSON(t, changed); want.Compare(got) != 0 {
				t.Errorf("input is not its JSON document:\n got: %v\nwant: %v", got, want)
			}
			for j, other := range inputFields {
				bit := fieldSet(1) << j
				sameTerm := other.term(base).Equal(other.term(changed))
				sameKey := string(appendKey(nil, base, bit)) == string(appendKey(nil, changed, bit))
				if (i == j) == sameTerm {
					t.Errorf("changing %s: term of %s.%s unchanged = %v", row.name, other.part, other.name, sameTerm)
				}
				if (i == j) == sameKey {
					t.Errorf("changing %s: key of %s.%s unchanged = %v", row.name, other.part, other.name, sameKey)
				}
			}
		})
	}
}

// TestNamedFieldSets: the field sets the code refers to by name are the
// rows they name (fieldsNamed gives nothing for a name it does not know).
func TestNamedFieldSets(t *testing.T) {
	for name, set := range map[string]fieldSet{
		"request.method": fieldMethod, "request.path": fieldPath, "request.headers": fieldHeaders,
	} {
		i := slices.IndexFunc(inputFields[:], func(f inputField) bool { return f.part+"."+f.name == name })
		if i < 0 || set != 1<<i {
			t.Errorf("the field set of %s is %b; the row is at %d", name, set, i)
		}
	}
	if identityFields&requestFields != 0 || identityFields|requestFields != 1<<len(inputFields)-1 {
		t.Errorf("identity %b and request %b do not split the table", identityFields, requestFields)
	}
}

func fields(t reflect.Type) func(func(reflect.StructField) bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return func(yield func(reflect.StructField) bool) {
		for i := range t.NumField() {
			if !yield(t.Field(i)) {
				return
			}
		}
	}
}

func jsonName(t *testing.T, sf reflect.StructField) string {
	t.Helper()
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if name == "" || name == "-" {
		t.Fatalf("field %s has no json name: the policy sees fields by their json names", sf.Name)
	}
	return name
}

// filledInput is an Input whose every field holds a value derived from
// its json name and salt, so no two fields hold the same.
func filledInput(t *testing.T, salt string) *Input {
	t.Helper()
	in := &Input{}
	v := reflect.ValueOf(in).Elem()
	for i := range v.NumField() {
		part := v.Field(i)
		if part.Kind() == reflect.Pointer {
			part.Set(reflect.New(part.Type().Elem()))
			part = part.Elem()
		}
		fill(t, part, jsonName(t, v.Type().Field(i))+salt)
	}
	return in
}

// fillField gives the field part.name of in a value derived from salt.
func fillField(t *testing.T, in *Input, part, name, salt string) {
	t.Helper()
	v := reflect.ValueOf(in).Elem()
	for sf := range fields(v.Type()) {
		if jsonName(t, sf) != part {
			continue
		}
		pv := reflect.Indirect(v.FieldByIndex(sf.Index))
		for f := range fields(pv.Type()) {
			if jsonName(t, f) == name {
				fill(t, pv.FieldByIndex(f.Index), part+"."+name+salt)
				return
			}
		}
	}
	t.Fatalf("no field %s.%s", part, name)
}

// fill sets v, and every field below it, to values derived from seed.
func fill(t *testing.T, v reflect.Value, seed string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		h := fnv.New32a()
		h.Write([]byte(seed))
		v.Set(reflect.ValueOf(time.Unix(int64(h.Sum32()), int64(h.Sum32()%1e9)).In(time.FixedZone("z", 3600))))
	case v.Kind() == reflect.String:
		v.SetString(seed)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf([]string{seed + "-a", seed + "-b"}))
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"k1", "k2"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(t, e, seed+"-"+k)
			m.SetMapIndex(reflect.ValueOf(seed+k), e)
		}
		v.Set(m)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), seed+"."+jsonName(t, v.Type().Field(i)))
		}
	default:
		t.Fatalf("cannot fill a %s (%s): teach the test the new field's type", v.Type(), seed)
	}
}

// viaJSON is in as encoding/json sees it.
func viaJSON(t *testing.T, in *Input) ast.Value {
	t.Helper()
	bs, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ast.ValueFromReader(strings.NewReader(string(bs)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
