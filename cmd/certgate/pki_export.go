package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/certgate/certgate/pki"
)

const pkiExportExamples = `  # For a browser or the macOS keychain (replaces: openssl pkcs12 -export -inkey alice-key.pem
  #   -in alice.pem -certfile ca.pem -out alice.p12); asks for the password
  certgate pki export --dir ca --out alice.p12 ca/certs/alice.pem

  # Old macOS (before 15) or Windows Server 2016 cannot read AES-encrypted files
  certgate pki export --dir ca --legacy --password-file pw.txt --out alice.p12 ca/certs/alice.pem

  # For a tool that keeps the file in a secret store anyway
  certgate pki export --dir ca --no-password --out jenkins.p12 ca/certs/jenkins.pem
`

// runPKIExport writes a PKCS #12 file. Exit 0 written, 1 failed, 2 usage.
func runPKIExport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki export", "pki export [--dir DIR] [--key FILE] [--out FILE] [--password-file FILE | --no-password] CERT", pkiExportExamples, stderr)
	dir := fs.String("dir", defaultPKIDir, "PKI `dir`ectory whose CA (and chain) is added to the file")
	keyFile := fs.String("key", "", "private key `file` (default: CERT with -key.pem for .pem)")
	out := fs.String("out", "", "PKCS #12 `file` to write (default: CERT with .p12 for .pem)")
	noChain := fs.Bool("no-chain", false, "leave the CA certificates out")
	password := fs.String("password", "", "export `password` (visible in ps and shell history: prefer --password-file or the prompt)")
	passwordFile := fs.String("password-file", "", "read the password from the first line of `file`")
	noPassword := fs.Bool("no-password", false, "write the file without a password (unencrypted)")
	legacy := fs.Bool("legacy", false, "3DES/SHA-1 encryption for old macOS and Windows instead of AES-256")
	force := fs.Bool("force", false, "overwrite an existing output file")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "certgate pki export: name exactly one certificate file")
		fs.Usage()
		return exitUsage
	}
	certPath := fs.Arg(0)
	stem := strings.TrimSuffix(certPath, ".pem")
	if *keyFile == "" {
		*keyFile = stem + "-key.pem"
	}
	if *out == "" {
		*out = stem + ".p12"
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return pkiFail(stderr, "export", exitUsage, err)
	}
	certs, err := pki.ParseCertsPEM(certPEM)
	if err != nil {
		return pkiFail(stderr, "export", exitUsage, fmt.Errorf("%s: %w", certPath, err))
	}
	keyPEM, err := os.ReadFile(*keyFile)
	if err != nil {
		return pkiFail(stderr, "export", exitUsage, err)
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		return pkiFail(stderr, "export", exitUsage, fmt.Errorf("%s: %w", *keyFile, err))
	}
	chain := certs[1:]
	if !*noChain && len(chain) == 0 {
		if chain, err = exportChain(*dir, certs[0]); err != nil {
			return pkiFail(stderr, "export", exitFail, err)
		}
	}
	if *noChain {
		chain = nil
	}
	opts := pki.ExportOptions{NoPassword: *noPassword, Legacy: *legacy}
	if !*noPassword {
		if opts.Password, err = exportPassword(*password, *passwordFile, stderr); err != nil {
			return pkiFail(stderr, "export", exitUsage, err)
		}
	}
	pfx, err := pki.ExportPKCS12(certs[0], key, chain, opts)
	if err != nil {
		code := exitFail
		if errors.Is(err, pki.ErrEmptyPassword) {
			code = exitUsage
		}
		return pkiFail(stderr, "export", code, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*out, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%s exists: %w", *out, pki.ErrExists)
		}
		return pkiFail(stderr, "export", exitFail, err)
	}
	if _, err := f.Write(pfx); err != nil {
		_ = f.Close()
		return pkiFail(stderr, "export", exitFail, err)
	}
	if err := f.Close(); err != nil {
		return pkiFail(stderr, "export", exitFail, err)
	}
	enc := "AES-256-CBC, PBKDF2-SHA256"
	switch {
	case *noPassword:
		enc = "no encryption"
	case *legacy:
		enc = "legacy 3DES, SHA-1"
	}
	fmt.Fprintf(stdout, "wrote %s: %q with %d CA certificate(s), %s\n", *out, pki.SubjectString(certs[0]), len(chain), enc)
	return exitOK
}

// exportChain returns the CA of dir and its parents when they issued cert,
// and nothing when dir holds no CA or another one.
func exportChain(dir string, cert *x509.Certificate) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(filepath.Join(dir, pki.ChainFile))
	if errors.Is(err, fs.ErrNotExist) {
		data, err = os.ReadFile(filepath.Join(dir, pki.CACertFile))
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil // no PKI directory: export the certificate alone
	case err != nil:
		return nil, fmt.Errorf("CA of %s: %w", dir, err)
	}
	chain, err := pki.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("CA of %s: %w", dir, err)
	}
	if !bytes.Equal(cert.RawIssuer, chain[0].RawSubject) || cert.CheckSignatureFrom(chain[0]) != nil {
		return nil, fmt.Errorf("%q was not issued by the CA in %s (%q): pass the right --dir or --no-chain", pki.SubjectString(cert), dir, pki.SubjectString(chain[0]))
	}
	return chain, nil
}

// exportPassword takes the password from the flag, the file, or a prompt
// on the terminal (asked twice).
func exportPassword(flagValue, file string, stderr io.Writer) (string, error) {
	switch {
	case flagValue != "" && file != "":
		return "", errors.New("--password and --password-file: choose one")
	case flagValue != "":
		return flagValue, nil
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no password: give --password-file FILE (or --password), or --no-password for an unencrypted file")
	}
	fmt.Fprint(stderr, "Export password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(stderr, "Repeat password: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if !bytes.Equal(p1, p2) {
		return "", errors.New("the passwords differ")
	}
	return string(p1), nil
}
