package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/identity"
)

// adminJSON encodes an admin API answer in the JSON of every certgate
// command (docs/json.md): the proto field names, which are snake_case;
// 64-bit integers as numbers, where protojson writes strings; every field
// present, null for an absent message; enums by name and timestamps in
// RFC 3339, as protojson writes them.
func adminJSON(m proto.Message) ([]byte, error) {
	v, err := messageJSON(m.ProtoReflect())
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
}

// jsonObject is a JSON object that keeps its fields in order: a message's
// in field order, a map's sorted by key.
type jsonObject []jsonField

type jsonField struct {
	name  string
	value any
}

// MarshalJSON writes the fields in order.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(f.name)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func messageJSON(m protoreflect.Message) (any, error) {
	if id, ok := m.Interface().(*adminv1.Identity); ok {
		// One identity shape in every command's JSON: verify's, with the
		// SANs under sans (the proto's flat fields are its wire form).
		return identityJSON(id), nil
	}
	if strings.HasPrefix(string(m.Descriptor().FullName()), "google.protobuf.") {
		// Well-known types (Timestamp) have their own JSON form.
		b, err := protojson.Marshal(m.Interface())
		return json.RawMessage(b), err
	}
	fields := m.Descriptor().Fields()
	obj := make(jsonObject, 0, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		v, err := fieldJSON(m, fd)
		if err != nil {
			return nil, err
		}
		obj = append(obj, jsonField{string(fd.Name()), v})
	}
	return obj, nil
}

func fieldJSON(m protoreflect.Message, fd protoreflect.FieldDescriptor) (any, error) {
	switch {
	case fd.IsMap():
		mp := m.Get(fd).Map()
		obj := make(jsonObject, 0, mp.Len())
		var err error
		mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			var jv any
			jv, err = valueJSON(fd.MapValue(), v)
			obj = append(obj, jsonField{k.String(), jv})
			return err == nil
		})
		slices.SortFunc(obj, func(a, b jsonField) int { return strings.Compare(a.name, b.name) })
		return obj, err
	case fd.IsList():
		list := m.Get(fd).List()
		out := make([]any, 0, list.Len())
		for i := range list.Len() {
			v, err := valueJSON(fd, list.Get(i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case fd.HasPresence() && !m.Has(fd):
		return nil, nil
	}
	return valueJSON(fd, m.Get(fd))
}

func valueJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, error) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageJSON(v.Message())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return int32(v.Enum()), nil
	default:
		// bool, string, bytes (base64) and every integer kind as a number.
		return v.Interface(), nil
	}
}

// identityJSON is the admin API's Identity as identity.Identity, whose
// JSON verify, decide and pki inspect write; the API does not say where
// the certificate came from, so source is empty, as in verify's.
func identityJSON(id *adminv1.Identity) identity.Identity {
	list := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return identity.Identity{
		User: id.GetUser(), Groups: list(id.GetGroups()), OrgUnits: list(id.GetOrgUnits()),
		Subject: id.GetSubject(), Issuer: id.GetIssuer(), Serial: id.GetSerial(), FingerprintSHA256: id.GetFingerprintSha256(),
		SANs:     identity.SANs{DNS: list(id.GetDnsNames()), IP: list(id.GetIpAddresses()), Email: list(id.GetEmailAddresses()), URI: list(id.GetUris())},
		SPIFFEID: id.GetSpiffeId(), NotBefore: id.GetNotBefore().AsTime(), NotAfter: id.GetNotAfter().AsTime(),
	}
}
