package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// rsaFleet is an RSA-2048 root and intermediate, with CRLs, and one
// RSA-2048 key that every client certificate of the fleet carries (a
// fresh key per certificate would cost minutes of key generation and
// change nothing the verdict cache keeps).
type rsaFleet struct {
	inter *pki.CA
	key   *rsa.PrivateKey
	snap  *Snapshot
}

func newRSAFleet(tb testing.TB) *rsaFleet {
	tb.Helper()
	root, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "fleet root", Organization: []string{"certgate tests"}}, KeyAlgorithm: pki.RSA2048})
	if err != nil {
		tb.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "fleet devices", Organization: []string{"certgate tests"}}, KeyAlgorithm: pki.RSA2048})
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := inter.Issue(pki.Options{Subject: pkix.Name{CommonName: "key holder"}, KeyAlgorithm: pki.RSA2048})
	if err != nil {
		tb.Fatal(err)
	}
	var crls []*x509.RevocationList
	for _, ca := range []*pki.CA{root, inter} {
		der, err := ca.CRL(pki.CRLOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			tb.Fatal(err)
		}
		crls = append(crls, crl)
	}
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, crls, trust.CRLModeFullChain)
	if err != nil {
		tb.Fatal(err)
	}
	engine, err := policy.Load(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return &rsaFleet{inter: inter, key: leaf.Key.(*rsa.PrivateKey), snap: &Snapshot{Trust: store, Policy: engine, Revision: 1}}
}

// device issues the certificate of device i, as a fleet's are named.
func (f *rsaFleet) device(tb testing.TB, i int) []byte {
	cert, err := f.inter.Issue(pki.Options{Subject: pkix.Name{CommonName: "device-" + strconv.Itoa(100000+i), Organization: []string{"fleet", "builders"}}, Key: f.key})
	if err != nil {
		tb.Fatal(err)
	}
	return cert.CertPEM()
}

// fill issues n device certificates on every core and checks each once
// through c as Envoy sends it, so that c caches n verdicts; no
// certificate is kept.
func (f *rsaFleet) fill(tb testing.TB, c *Checker, n int) {
	pems := make(chan []byte, 64)
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				pems <- f.device(tb, i)
			}
		})
	}
	go func() { wg.Wait(); close(pems) }()
	var checkers sync.WaitGroup
	for range 2 {
		checkers.Go(func() {
			for pem := range pems {
				if res := c.Check(context.Background(), envoyShaped(pem, "GET", "/api/v1/vm")); !res.Allow {
					tb.Errorf("device denied: %d %s", res.Status, res.Reason)
				}
			}
		})
	}
	checkers.Wait()
}

// vmRSS is this process's resident set (VmRSS of /proc/self/status).
func vmRSS(tb testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkVerdictCacheMemory fills a Checker with the default cache
// bounds with n verdicts of distinct RSA-2048 client certificates and
// reports what it takes: rss-MiB is this process's resident set after a
// collection (what the Go runtime has not yet returned counts, as it does
// for a running certgate), heap-MiB the live heap, and B/verdict the live
// heap that each cached verdict adds. One iteration is one fill; run it
// with -benchtime 1x.
func BenchmarkVerdictCacheMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("verdicts=%d", n), func(b *testing.B) {
			f := newRSAFleet(b)
			var c *Checker
			base := liveHeap()
			for b.Loop() {
				c = NewChecker(f.snap, Options{Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(io.Discard, 1)})
				f.fill(b, c, n)
			}
			heap := liveHeap()
			st := c.state.Load()
			st.verdicts.cleanUp()
			entries, estimated := st.verdicts.stats()
			if entries < n*9/10 {
				b.Errorf("%d verdicts cached of %d", entries, n)
			}
			time.Sleep(time.Second) // let the background scavenger run as it would
			b.ReportMetric(float64(vmRSS(b))/(1<<20), "rss-MiB")
			b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(heap-base)/float64(entries), "B/verdict")
			b.ReportMetric(float64(estimated)/float64(entries), "estimated-B/verdict")
			b.ReportMetric(float64(entries), "verdicts")
			runtime.KeepAlive(c)
		})
	}
}
