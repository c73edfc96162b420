package main

import (
	"log/slog"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// logRevocation says at start, and after each reload, which crl_mode is
// in effect and why, and warns loudly about the set-ups that start quietly
// but deny every client (a CA no CRL speaks for) or accept every revoked
// certificate (no CRL, so crl_mode defaults to off).
func logRevocation(log *slog.Logger, configured trust.CRLMode, store *trust.Store) {
	mode := store.Status().Mode
	setBy := "trust.crl_mode"
	switch {
	case configured != "":
	case mode == trust.CRLModeOff:
		setBy = "default without CRLs"
	default:
		setBy = "default with CRLs"
	}
	log.Info("revocation checking", "crl_mode", string(mode), "set_by", setBy)
	if mode == trust.CRLModeOff {
		if configured == "" {
			log.Warn("no CRL is configured, so crl_mode is off: revoked client certificates are accepted; add trust.crl_files (--crl), or set crl_mode: off to say this is meant",
				"crl_mode", string(mode))
		}
		return
	}
	every := "every client certificate below it (crl_mode full_chain checks the whole chain)"
	if mode == trust.CRLModeLeaf {
		every = "every client certificate it issues directly"
	}
	for _, ca := range store.CAsWithoutCRL() {
		log.Warn("no usable CRL of this CA is configured: "+every+" will be denied with 401 crl_unavailable; add its CRL to trust.crl_files (--crl)",
			"ca", pki.SubjectString(ca), "crl_mode", string(mode))
	}
}
