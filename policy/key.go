package policy

import (
	"encoding/binary"
	"time"
)

// appendKey appends to buf the memo key of in: the fields the policy reads
// (inputFields), each length-prefixed so that no two inputs share a key.
// Route candidates are a function of the method and the path, which stand
// in for them.
func appendKey(buf []byte, in *Input, fields fieldSet) []byte {
	if fields&fieldRouteCandidates != 0 {
		fields |= fieldMethod | fieldPath
	}
	for i := range inputFields {
		if fields&(1<<i) != 0 {
			buf = inputFields[i].key(buf, in)
		}
	}
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

// appendRoutes appends the indexes of the routes that match a request.
func appendRoutes(buf []byte, routes []int) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(routes)))
	for _, r := range routes {
		buf = binary.AppendUvarint(buf, uint64(r))
	}
	return buf
}
