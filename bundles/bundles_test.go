package bundles_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/bundles"
)

// TestEachNewBundleBecomesTheServingPolicy: a replica without a bundle
// serves no snapshot (fail closed); the first download becomes snapshot 1,
// a changed bundle snapshot 2, and the status tells revision and ETag.
func TestEachNewBundleBecomesTheServingPolicy(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(nil, http.StatusServiceUnavailable)
	r := startReplica(t, policyOPA(srv.URL, ""), trustFiles(t))
	if snap := r.checker.Snapshot(); snap != nil {
		t.Fatalf("a snapshot (revision %d) before any bundle", snap.Revision)
	}
	eventually(t, "the unavailable server is reported", func() bool { return r.status().Failures > 0 })
	if st := r.status(); !strings.Contains(st.LastError, "Service Unavailable") {
		t.Errorf("last error %q, want the server's 503", st.LastError)
	}

	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "", ""), 0)
	eventually(t, "bundle r1 serves", func() bool { return r.serves(t, "rev1") })
	srv.set(tarball(t, shippedBundle(t, "r2", "rev2"), "", ""), 0)
	r.activates(t, "rev2", "r2")
	if r.serves(t, "rev1") {
		t.Error("r1's route still serves beside r2's")
	}
	snap := r.checker.Snapshot()
	if snap.Revision != 2 {
		t.Errorf("snapshot revision %d, want 2 (one per bundle)", snap.Revision)
	}
	st := r.status()
	if st.Revision != "r2" || st.ETag != srv.etag || st.LastError != "" || st.ActivatedAt.IsZero() || st.Activations != 2 {
		t.Errorf("status %+v, want revision r2, ETag %s, no error, 2 activations", st, srv.etag)
	}
	if want := srv.URL + "/certgate.tar.gz"; st.URL != want {
		t.Errorf("URL %q, want %q", st.URL, want)
	}
	if files := snap.Policy.Files(); strings.Join(files, ",") != "/admin.rego,/authz.rego" {
		t.Errorf("policy files %q", files)
	}
}

// TestAnUnchangedBundleIsNotDownloadedAgain: polls send the ETag, the
// server answers 304, and nothing is compiled again.
func TestAnUnchangedBundleIsNotDownloadedAgain(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "", ""), 0)
	// Plain polling, once a second: each poll after the first is a 304.
	cfg := strings.Replace(policyOPA(srv.URL, ""), `, "long_polling_timeout_seconds": 5`, "", 1)
	r := startReplica(t, cfg, trustFiles(t))
	eventually(t, "bundle r1 serves", func() bool { return r.serves(t, "rev1") })
	eventually(t, "two polls answered 304", func() bool { return r.policy.Updates(bundles.UpdateNotModified) >= 2 })
	if snap := r.checker.Snapshot(); snap.Revision != 1 {
		t.Errorf("snapshot revision %d after 304s, want 1", snap.Revision)
	}
	if st := r.status(); st.Activations != 1 || st.CheckedAt.Before(st.ActivatedAt) {
		t.Errorf("status %+v: want one activation, checked since", st)
	}
}

// TestASignedBundleMustVerify: with keys configured every bundle must be
// signed by one of them (certgate requires it even without a signing
// block, where OPA would accept an unsigned bundle). A bad signature or
// none keeps the serving policy and is reported.
func TestASignedBundleMustVerify(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "fleet-key", "s3cret"), 0)
	keys := `, "keys": {"fleet-key": {"algorithm": "HS256", "key": "s3cret"}}`
	cfg := strings.TrimSuffix(policyOPA(srv.URL, ""), "}") + keys + "}"
	r := startReplica(t, cfg, trustFiles(t))
	eventually(t, "signed bundle r1 serves", func() bool { return r.serves(t, "rev1") })

	for _, tc := range []struct {
		name, keyID, secret, want string
	}{
		{"signed with another secret", "fleet-key", "not-the-secret", "invalid HMAC signature"},
		{"signed under another key id", "other-key", "s3cret", "ID other-key not found"},
		{"not signed", "", "", ".signatures.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.set(tarball(t, shippedBundle(t, "bad", "forged"), tc.keyID, tc.secret), 0)
			eventually(t, "the bundle is refused", func() bool { return strings.Contains(r.status().LastError, tc.want) })
			if r.serves(t, "forged") || !r.serves(t, "rev1") {
				t.Fatalf("serving %v, want r1's policy", r.permissions(t))
			}
			if st := r.status(); !strings.Contains(st.LastError, tc.want) || st.Revision != "r1" {
				t.Errorf("status %+v, want revision r1 and an error naming %q", st, tc.want)
			}
		})
	}
}

// TestABundleThatDoesNotCompileOrDecideKeepsTheServingPolicy: a bundle
// whose Rego does not parse, one that compiles but decides nothing and a
// truncated download each leave r1 serving, are
// reported, and a good bundle after them activates.
func TestABundleThatDoesNotCompileOrDecideKeepsTheServingPolicy(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "", ""), 0)
	r := startReplica(t, policyOPA(srv.URL, ""), trustFiles(t))
	eventually(t, "bundle r1 serves", func() bool { return r.serves(t, "rev1") })

	replaceAuthz := func(src string) []byte {
		b := shippedBundle(t, "bad", "bad")
		b.Modules[0].Raw = []byte(src)
		return tarball(t, b, "", "")
	}
	good := tarball(t, shippedBundle(t, "r3", "rev3"), "", "")
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"rego that does not parse", replaceAuthz("package certgate.authz\n\nthis is not rego {\n"), "rego_parse_error"},
		{"a decision of the wrong shape", replaceAuthz("package certgate.authz\n\ndecision := 42\n"), "decision"},
		{"a truncated download", good[:len(good)/2], "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.set(tc.body, 0)
			eventually(t, "the bundle is refused", func() bool { return strings.Contains(r.status().LastError, tc.want) })
			if r.serves(t, "bad") || !r.serves(t, "rev1") {
				t.Fatalf("serving %v, want r1's policy", r.permissions(t))
			}
			if st := r.status(); !strings.Contains(st.LastError, tc.want) {
				t.Errorf("last error %q, want it to name %q", st.LastError, tc.want)
			}
			if len(r.logs.Records(t, "bundle not activated; the serving snapshot stays")) == 0 {
				t.Error("the refusal was not logged")
			}
		})
	}
	srv.set(good, 0)
	r.activates(t, "rev3", "r3")
	if st := r.status(); st.LastError != "" {
		t.Errorf("last error %q after an activation, want none", st.LastError)
	}
}

// TestAPersistedBundleServesWhileTheServerIsDown: with persist: true the
// last activated bundle is kept on disk; a replica that starts while the
// server is down serves it, and one without it serves nothing.
func TestAPersistedBundleServesWhileTheServerIsDown(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "", ""), 0)
	dir := t.TempDir()
	cfg := strings.TrimSuffix(policyOPA(srv.URL, `, "persist": true`), "}") + `, "persistence_directory": "` + dir + `"}`
	tc := trustFiles(t)
	first := startReplica(t, cfg, tc)
	eventually(t, "bundle r1 serves", func() bool { return first.serves(t, "rev1") })
	first.stop()

	srv.set(nil, http.StatusInternalServerError)
	restarted := startReplica(t, cfg, tc)
	if !restarted.serves(t, "rev1") {
		t.Fatalf("after a restart with the server down: serving %v, want r1's policy", restarted.permissions(t))
	}
	if st := restarted.status(); !st.FromDisk || st.Revision != "r1" || st.ActivatedAt.IsZero() {
		t.Errorf("status %+v, want r1 from disk", st)
	}
	eventually(t, "the down server is reported", func() bool { return restarted.status().LastError != "" })
	if !restarted.serves(t, "rev1") {
		t.Fatal("the failed download replaced the persisted bundle")
	}

	empty := strings.Replace(cfg, dir, t.TempDir(), 1)
	if snap := startReplica(t, empty, tc).checker.Snapshot(); snap != nil {
		t.Fatalf("without a persisted bundle: snapshot %d, want none (fail closed)", snap.Revision)
	}
}

// TestASlowServerKeepsTheServingPolicy: a bundle server slower than the
// service's response_header_timeout_seconds is a failed download; the
// policy serving stays and the timeout is reported.
func TestASlowServerKeepsTheServingPolicy(t *testing.T) {
	srv := newBundleServer(t)
	srv.set(tarball(t, shippedBundle(t, "r1", "rev1"), "", ""), 0)
	cfg := strings.Replace(policyOPA(srv.URL, ""), `{"url": "`+srv.URL+`"}`, `{"url": "`+srv.URL+`", "response_header_timeout_seconds": 1}`, 1)
	cfg = strings.Replace(cfg, `, "long_polling_timeout_seconds": 5`, "", 1)
	r := startReplica(t, cfg, trustFiles(t))
	eventually(t, "bundle r1 serves", func() bool { return r.serves(t, "rev1") })
	srv.slow(3 * time.Second)
	srv.set(tarball(t, shippedBundle(t, "r2", "rev2"), "", ""), 0)
	eventually(t, "the slow server is reported", func() bool { return strings.Contains(r.status().LastError, "timeout") })
	if r.serves(t, "rev2") || !r.serves(t, "rev1") {
		t.Fatalf("serving %v, want r1's policy", r.permissions(t))
	}
	srv.slow(0)
	eventually(t, "r2 serves once the server answers in time", func() bool { return r.serves(t, "rev2") })
}
