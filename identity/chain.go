package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// ChainLimit is the most certificates a presented chain may hold under o,
// leaf included.
func (o Options) ChainLimit() int { return o.maxChainLength() }

// CheckChain checks a chain that a caller holds already parsed (a TLS
// handshake's peer certificates, a file) as Extract checks one it decodes:
// it must hold a leaf and at most opts.ChainLimit() certificates. The error
// wraps ErrNoCertificate or ErrMalformed.
func CheckChain(p Presented, opts Options) error {
	switch n := len(p.Chain); {
	case n == 0:
		return ErrNoCertificate
	case n > opts.maxChainLength():
		return fmt.Errorf("%w: more than %d certificate(s)", ErrMalformed, opts.maxChainLength())
	}
	for i, c := range p.Chain {
		if c == nil {
			return fmt.Errorf("%w: certificate %d is missing", ErrMalformed, i+1)
		}
	}
	return nil
}

// ChainDigest is the PresentedDigest of a parsed chain: a SHA-256 digest of
// its source, the chain limit and the DER of each certificate, leaf first.
// Its domain differs from PresentedDigest's, so that a parsed chain and a
// header-borne value never share a digest. A chain over the limit, which
// CheckChain refuses from its length alone, is hashed by its length.
func ChainDigest(p Presented, opts Options) Digest {
	limit := opts.maxChainLength()
	h := sha256.New()
	b := make([]byte, 0, 64)
	b = append(b, "certgate parsed chain v1\x00"...)
	b = binary.AppendUvarint(b, uint64(len(p.Source)))
	b = append(b, p.Source...)
	b = binary.AppendUvarint(b, uint64(limit))
	b = binary.AppendUvarint(b, uint64(len(p.Chain)))
	h.Write(b)
	if len(p.Chain) <= limit {
		for _, c := range p.Chain {
			if c == nil {
				h.Write([]byte{0})
				continue
			}
			b = binary.AppendUvarint(b[:0], uint64(len(c.Raw))+1)
			h.Write(b)
			h.Write(c.Raw)
		}
	}
	var d Digest
	h.Sum(d[:0])
	return d
}
