package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/rego"
)

// faultFile is an input file of certgate with good content (different in
// every generation, so that each good write makes a new snapshot) and
// broken variants that must never be loaded.
type faultFile struct {
	name   string
	path   string
	good   func(gen int) []byte
	broken [][]byte
}

// faultFiles are the inputs the broken-files scenario rewrites.
func faultFiles(t *testing.T, w *world, policyDir string) []faultFile {
	t.Helper()
	authz, err := fs.ReadFile(rego.Default, "authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	dataJSON, err := fs.ReadFile(rego.Default, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(dataJSON, &data); err != nil {
		t.Fatal(err)
	}
	// A CRL with the issuing CA's name signed by another key: a reload
	// must refuse it rather than drop the revocation of "revoked".
	forger, err := pki.NewRootCA(pki.Options{Subject: w.issuing.Cert.Subject})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.CRL(pki.CRLOptions{Number: big.NewInt(1 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	if string(forger.Cert.RawSubject) != string(w.issuing.Cert.RawSubject) {
		t.Fatal("the forged CRL issuer does not match the issuing CA's name byte for byte")
	}
	rootPEM := w.root.CertPEM()
	inters := pki.EncodeCertsPEM(w.issuing.Cert, w.revokedCA.Cert)
	comment := func(gen int, pemData []byte) []byte {
		return append(fmt.Appendf(nil, "fault generation %d\n", gen), pemData...)
	}
	return []faultFile{
		{
			name: "policy", path: filepath.Join(policyDir, "authz.rego"),
			good: func(gen int) []byte {
				return append(authz[:len(authz):len(authz)], fmt.Appendf(nil, "\n# fault generation %d\n", gen)...)
			},
			broken: [][]byte{
				[]byte("package certgate.authz\n\ndecision := {\n"),
				{},
				[]byte("this is not Rego\n"),
			},
		},
		{
			name: "data", path: filepath.Join(policyDir, "data.json"),
			good: func(gen int) []byte {
				data["fault_generation"] = gen
				out, err := json.Marshal(data)
				if err != nil {
					t.Fatal(err)
				}
				return out
			},
			broken: [][]byte{
				[]byte(`{"certgate": {"routes": [`),
				{},
				[]byte("not JSON"),
			},
		},
		{
			name: "crl", path: w.crls[1],
			good: func(gen int) []byte {
				crl := w.issuing.CRLWith(pki.CRLOptions{Number: big.NewInt(int64(10 + gen))}, w.keys["revoked"].Cert)
				return pki.EncodeCRLPEM(crl.Raw)
			},
			broken: [][]byte{
				{},
				[]byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
				pki.EncodeCRLPEM(forged),
			},
		},
		{
			name: "ca", path: w.caFile,
			good: func(gen int) []byte { return comment(gen, rootPEM) },
			broken: [][]byte{
				{},
				w.clients["viewer"], // not a CA certificate
				rootPEM[:len(rootPEM)/2],
			},
		},
		{
			name: "intermediates", path: w.inters,
			good: func(gen int) []byte { return comment(gen, inters) },
			broken: [][]byte{
				inters[:len(inters)*3/4], // the second certificate cut short
				[]byte("garbage\n"),
			},
		},
	}
}

// TestFaultBrokenFilesUnderLoad rewrites the policy, data, CRL, CA and
// intermediate files every second, broken then good, in place and by
// rename, under load. Broken content must never be loaded (the serving
// snapshot stays, so no decision changes) and each good write must be
// served again soon.
func TestFaultBrokenFilesUnderLoad(t *testing.T) {
	steps := 30
	if testing.Short() {
		steps = 10
	}
	w, _, _, _ := newWorldWithKeys(t)
	p := startFaultCertgate(t, w, faultConfig{})
	admin := p.admin()
	files := faultFiles(t, w, p.policyDir)
	rssStart := p.rssBytes()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loadDone := make(chan loadReport, 1)
	go func() {
		loadDone <- runLoad(ctx, faultTarget(p, w, steadyClasses), time.Duration(steps+10)*time.Second)
	}()

	var recoveries, detections []time.Duration
	accepted := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := range steps {
		<-tick.C
		f := files[(i/2)%len(files)]
		rename := (i/2+i/(2*len(files)))%2 == 1
		write := writeInPlace
		how := "in place"
		if rename {
			write, how = writeRename, "by rename"
		}
		at := time.Now()
		if i%2 == 0 {
			content := f.broken[(i/(2*len(files)))%len(f.broken)]
			if err := write(f.path, content); err != nil {
				t.Fatal(err)
			}
			took, st, err := waitStatus(ctx, admin, at, 5*time.Second, func(st *adminv1.GetStatusResponse) bool {
				lr := st.GetLastReload()
				return lr != nil && !lr.GetAttemptedAt().AsTime().Before(at)
			})
			switch {
			case err != nil:
				t.Errorf("step %d: broken %s written %s: no reload attempt seen: %v", i, f.name, how, err)
			case st.GetLastReload().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_FAILURE || st.GetLastReload().GetError() == "":
				accepted++
				t.Errorf("step %d: broken %s (%q…) written %s was LOADED: %v", i, f.name, truncateBytes(content, 40), how, st.GetLastReload())
			default:
				detections = append(detections, took)
			}
			continue
		}
		st, err := admin.GetStatus(ctx, &adminv1.GetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		rev := st.GetSnapshot().GetRevision()
		at = time.Now()
		if err := write(f.path, f.good(i)); err != nil {
			t.Fatal(err)
		}
		took, _, err := waitStatus(ctx, admin, at, 5*time.Second, func(st *adminv1.GetStatusResponse) bool {
			lr := st.GetLastReload()
			return st.GetSnapshot().GetRevision() > rev && lr.GetResult() == adminv1.ReloadResult_RELOAD_RESULT_SUCCESS && lr.GetError() == ""
		})
		if err != nil {
			t.Errorf("step %d: good %s written %s: not served: %v", i, f.name, how, err)
			continue
		}
		recoveries = append(recoveries, took)
	}
	cancel()
	report := <-loadDone
	finishFaultRun(t, p, faultResult{
		Scenario: "broken files", Load: report, Recovery: recoveries,
		RecoveryOf: "good write → GetStatus shows a new revision, no error",
		RSSStart:   rssStart,
		Extra: fmt.Sprintf("%d writes, broken detected n=%d median %v, broken accepted %d",
			steps, len(detections), median(detections), accepted),
	})
	checkLoad(t, report)
}

// truncateBytes is the start of b, for messages about file content.
func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n])
	}
	return string(b)
}

// median is the middle of ds, rounded to the millisecond; 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

// exitText is an exit status for the report.
func exitText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}
