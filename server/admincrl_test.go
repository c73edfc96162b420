package server

import (
	"context"
	"crypto/x509"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certgate/certgate/crlfetch"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// TestGetStatusShowsEveryCRLSource: a fetched URL with its ETag, CRL
// number and dates, a failing one with its error and no CRL.
func TestGetStatusShowsEveryCRLSource(t *testing.T) {
	ca := pkitest.New(t, "crl ca")
	body := ca.CRLWith(pki.CRLOptions{Number: big.NewInt(7)}).Raw
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("ETag", `"seven"`)
		_, _ = rw.Write(body)
	}))
	t.Cleanup(srv.Close)
	down := "http://127.0.0.1:1/down.crl"
	f, err := crlfetch.New(crlfetch.Options{URLs: []string{srv.URL, down}, Logger: slog.New(slog.DiscardHandler),
		Check: func(doc crlfetch.Document, _ *crlfetch.Document) (crlfetch.Info, error) {
			crls, err := trust.CheckCRLDocument([]*x509.Certificate{ca.Cert}, trust.CRLDocument{Name: doc.URL, Data: doc.Data}, nil, nil)
			if err != nil {
				return crlfetch.Info{}, err
			}
			return crlfetch.Info{ThisUpdate: crls[0].ThisUpdate, NextUpdate: crls[0].NextUpdate, Number: crls[0].Number.String()}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(context.Background())
	a := &AdminService{Checker: NewChecker(nil, Options{Logger: slog.New(slog.DiscardHandler)}), CRLFetcher: f}
	st, err := a.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sources := st.GetCrlFetch().GetSources()
	if len(sources) != 2 {
		t.Fatalf("%d sources, want 2", len(sources))
	}
	up, failing := sources[0], sources[1]
	if up.GetUrl() != srv.URL || !up.GetAvailable() || up.GetEtag() != `"seven"` || up.GetNumber() != "7" ||
		up.GetLastSuccess() == nil || up.GetNextUpdate() == nil || up.GetLastError() != "" {
		t.Errorf("fetched source: %v", up)
	}
	if failing.GetUrl() != down || failing.GetAvailable() || failing.GetLastError() == "" || failing.GetFailures() != 1 || failing.GetLastSuccess() != nil {
		t.Errorf("failing source: %v", failing)
	}
	if (&AdminService{Checker: a.Checker}).statusWithoutFetcher(t) != nil {
		t.Error("crl_fetch set without a fetcher")
	}
}

func (a *AdminService) statusWithoutFetcher(t *testing.T) *adminv1.CRLFetchStatus {
	st, err := a.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return st.GetCrlFetch()
}
