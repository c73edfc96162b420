package pki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside a PKI directory.
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
	// ChainFile holds the CA certificate followed by its parents; it exists
	// for intermediates only.
	ChainFile = "chain.pem"
	StateFile = "state.json"
	LockFile  = "state.lock"
	CRLFile   = "crl.pem"
	CRLDER    = "crl.der"
)

// StateVersion is the version of the state file format this package writes.
const StateVersion = 1

// State is the record a PKI directory keeps beside its CA: what was issued,
// what was revoked, and the number of the last CRL. It is JSON, meant to be
// read by people and by `jq` as much as by certgate.
type State struct {
	Version int `json:"version"`
	// CA describes the CA the directory belongs to.
	CA StateCA `json:"ca"`
	// CRLNumber is the number of the last CRL signed; the next one gets
	// CRLNumber+1, so CRL numbers only ever increase.
	CRLNumber int64 `json:"crl_number"`
	// LastCRL is when the last CRL was signed (zero before the first).
	LastCRL time.Time `json:"last_crl,omitzero"`
	// CRLURLs are where this CA's CRL is published (`pki init --crl-url`):
	// every certificate it issues names them as its CRL distribution
	// points, so a relying party knows where to fetch the CRL.
	CRLURLs []string       `json:"crl_urls,omitempty"`
	Issued  []IssuedEntry  `json:"issued"`
	Revoked []RevokedEntry `json:"revoked"`
}

// StateCA identifies the CA of a PKI directory.
type StateCA struct {
	Subject  string    `json:"subject"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	// Parent is the issuer's subject for an intermediate, empty for a root.
	Parent string `json:"parent,omitempty"`
}

// IssuedEntry is one certificate the CA issued.
type IssuedEntry struct {
	Serial   string    `json:"serial"`
	Subject  string    `json:"subject"`
	Kind     string    `json:"kind"` // client or server
	IssuedAt time.Time `json:"issued_at"`
	NotAfter time.Time `json:"not_after"`
	File     string    `json:"file"`
}

// RevokedEntry is one revoked certificate.
type RevokedEntry struct {
	Serial    string    `json:"serial"`
	Subject   string    `json:"subject,omitempty"`
	RevokedAt time.Time `json:"revoked_at"`
	Reason    Reason    `json:"reason"`
}

// FormatSerial writes a serial the way state files and `openssl x509 -serial`
// do: upper-case hex, without colons, with an even number of digits.
func FormatSerial(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// ParseSerial reads a hex serial with or without colons or a 0x prefix
// ("0A:1B", "0a1b", "0x0A1B").
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	t = strings.ReplaceAll(t, ":", "")
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || t == "" || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q: want a positive hex number such as 3F:A2:09 or 3fa209", s)
	}
	return n, nil
}

// findIssued returns the index of the issued entry with serial, or -1.
func (s *State) findIssued(serial string) int {
	for i, e := range s.Issued {
		if e.Serial == serial {
			return i
		}
	}
	return -1
}

// findRevoked returns the index of the revoked entry with serial, or -1.
func (s *State) findRevoked(serial string) int {
	for i, e := range s.Revoked {
		if e.Serial == serial {
			return i
		}
	}
	return -1
}

// ReadState reads the state file of the PKI directory dir without locking:
// the file is only ever replaced by a rename, so a reader sees either the
// old or the new state, never half of one.
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read state: %s is not a PKI directory (no %s; create one with `certgate pki init`): %w", dir, StateFile, err)
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("read state %s: version %d, this certgate reads version %d", path, st.Version, StateVersion)
	}
	return &st, nil
}

// writeState replaces the state file: temporary file, fsync, rename, fsync
// of the directory, so a crash leaves the old state or the new one.
func writeState(dir string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return writeFileSync(filepath.Join(dir, StateFile), append(data, '\n'), 0o644)
}

// UpdateState runs fn on the state of dir while holding an exclusive lock
// on dir's lock file, and writes the state back when fn succeeds. Another
// process or goroutine updating the same directory waits until the lock is
// free or ctx ends.
func UpdateState(ctx context.Context, dir string, fn func(*State) error) error {
	unlock, err := lockDir(ctx, filepath.Join(dir, LockFile))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	return writeState(dir, st)
}

// writeFileSync is writeFile made durable: the data is synced before the
// rename and the directory after it.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails harmlessly after the rename
	fail := func(err error) error {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs directories
		_ = d.Close()
	}
	return nil
}

// writeNewFile writes path through writeFileSync unless it exists and
// overwrite is false.
func writeNewFile(path string, data []byte, perm os.FileMode, overwrite bool) error {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists: %w", path, ErrExists)
		}
	}
	return writeFileSync(path, data, perm)
}

// ErrExists is returned when a file would be overwritten without Force.
var ErrExists = errors.New("refusing to overwrite (use --force)")
