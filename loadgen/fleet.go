package loadgen

import (
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/certgate/certgate/pki"
)

// FleetOptions describe a fleet of client certificates: many devices or
// CI runners, each with its own certificate, issued by the demo CA.
type FleetOptions struct {
	// N is the number of distinct certificates.
	N int
	// Key is the key type of the certificates ("" is ECDSA P-256).
	Key pki.KeyAlgorithm
	// Keys is the number of distinct key pairs the certificates share,
	// round-robin (0: min(N, DefaultFleetKeys)). certgate never sees a
	// client's private key, and a leaf's key is only parsed, not used, when
	// its chain is verified: what a distinct certificate costs certgate is
	// its own parse, signature check (the CA's key) and cache entry, so a
	// few keys make 12,000 RSA-4096 certificates in seconds rather than
	// hours.
	Keys int
	// Group is the certificates' O (the policy group); "" is "ci".
	Group string
	// CA, when set, issues the fleet instead of the demo CA.
	CA *FleetCA
}

// DefaultFleetKeys is the number of key pairs a fleet shares by default.
const DefaultFleetKeys = 8

// FleetCert is one certificate of a fleet with its private key (for a TLS
// client through NGINX).
type FleetCert struct {
	PEM []byte
	Key crypto.Signer
}

// IssueFleet issues o.N client certificates (CN fleet-<i>) from the CA of
// the demo PKI in dir. The CA signs with its own key (ECDSA P-256 for the
// demo), whatever o.Key is.
func IssueFleet(dir string, o FleetOptions) ([]FleetCert, error) {
	if o.N <= 0 {
		return nil, nil
	}
	ca, err := fleetIssuer(dir, o.CA)
	if err != nil {
		return nil, err
	}
	keys, err := generateKeys(o.Key, fleetKeys(o))
	if err != nil {
		return nil, err
	}
	group := o.Group
	if group == "" {
		group = "ci"
	}
	out := make([]FleetCert, o.N)
	err = onEveryCore(o.N, func(i int) error {
		key := keys[i%len(keys)]
		cert, err := ca.Issue(pki.Options{Subject: pkix.Name{CommonName: "fleet-" + strconv.Itoa(i), Organization: []string{group}}, Key: key})
		if err != nil {
			return fmt.Errorf("fleet certificate %d: %w", i, err)
		}
		out[i] = FleetCert{PEM: cert.CertPEM(), Key: key}
		return nil
	})
	return out, err
}

// fleetIssuer is the CA that signs a fleet: ca, or the demo CA of dir.
func fleetIssuer(dir string, ca *FleetCA) (*pki.CA, error) {
	if ca == nil {
		return loadCA(dir)
	}
	return ca.load()
}

// onEveryCore calls do(0) … do(n-1) from one goroutine per core and
// returns the first error.
func onEveryCore(n int, do func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = do(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func fleetKeys(o FleetOptions) int {
	if o.Keys > 0 {
		return min(o.Keys, o.N)
	}
	return min(o.N, DefaultFleetKeys)
}

// generateKeys makes n keys of alg on every core.
func generateKeys(alg pki.KeyAlgorithm, n int) ([]crypto.Signer, error) {
	keys := make([]crypto.Signer, n)
	err := onEveryCore(n, func(i int) error {
		k, err := pki.GenerateKey(alg)
		if err != nil {
			return fmt.Errorf("fleet key: %w", err)
		}
		keys[i] = k
		return nil
	})
	return keys, err
}

// FleetPEMs returns the certificates of a fleet.
func FleetPEMs(fleet []FleetCert) [][]byte {
	out := make([][]byte, len(fleet))
	for i, c := range fleet {
		out[i] = c.PEM
	}
	return out
}
