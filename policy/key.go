package policy

import (
	"encoding/binary"
	"slices"
	"time"
)

// appendKey appends to buf the memo key of in: the fields the policy reads,
// each length-prefixed so that no two inputs share a key. Route candidates
// are a function of the method and the path, which stand in for them.
func appendKey(buf []byte, in *Input, fields fieldSet) []byte {
	id := in.Identity
	r := &in.Request
	if fields&fieldRouteCandidates != 0 {
		fields |= fieldMethod | fieldPath
	}
	str := func(f fieldSet, s string) {
		if fields&f != 0 {
			buf = appendString(buf, s)
		}
	}
	list := func(f fieldSet, ss []string) {
		if fields&f != 0 {
			buf = appendStrings(buf, ss)
		}
	}
	str(fieldUser, id.User)
	list(fieldGroups, id.Groups)
	list(fieldOrgUnits, id.OrgUnits)
	str(fieldSubject, id.Subject)
	str(fieldIssuer, id.Issuer)
	str(fieldSerial, id.Serial)
	str(fieldFingerprint, id.FingerprintSHA256)
	if fields&fieldSANs != 0 {
		buf = appendStrings(buf, id.SANs.DNS)
		buf = appendStrings(buf, id.SANs.IP)
		buf = appendStrings(buf, id.SANs.Email)
		buf = appendStrings(buf, id.SANs.URI)
	}
	str(fieldSPIFFEID, id.SPIFFEID)
	if fields&fieldNotBefore != 0 {
		buf = appendTime(buf, id.NotBefore)
	}
	if fields&fieldNotAfter != 0 {
		buf = appendTime(buf, id.NotAfter)
	}
	str(fieldSource, string(id.Source))
	str(fieldMethod, r.Method)
	str(fieldPath, r.Path)
	str(fieldRawPath, r.RawPath)
	if fields&fieldQuery != 0 {
		names := make([]string, 0, len(r.Query))
		for k := range r.Query {
			names = append(names, k)
		}
		slices.Sort(names)
		buf = binary.AppendUvarint(buf, uint64(len(names)))
		for _, k := range names {
			buf = appendString(buf, k)
			buf = appendStrings(buf, r.Query[k])
		}
	}
	// Headers are never part of a key: a policy reading them is not memoized.
	str(fieldHost, r.Host)
	str(fieldScheme, r.Scheme)
	str(fieldProtocol, r.Protocol)
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendStrings(buf []byte, ss []string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(ss)))
	for _, s := range ss {
		buf = appendString(buf, s)
	}
	return buf
}

// appendTime appends t as the policy sees it (timeTerm), zone included.
func appendTime(buf []byte, t time.Time) []byte {
	var tmp [64]byte
	b := t.AppendFormat(tmp[:0], time.RFC3339Nano)
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}
