package server

import (
	"context"
	"log/slog"
	"time"
)

// CRLWarner logs a warning, and counts it, for every CRL of the serving
// snapshot whose nextUpdate is less than Lead away, so an operator renews it
// before on_stale_crl applies. It warns at most once per CRL per Every.
type CRLWarner struct {
	Checker *Checker
	Lead    time.Duration
	Every   time.Duration
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// Run checks once a minute until ctx ends.
func (w *CRLWarner) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	warned := map[string]time.Time{}
	for {
		w.check(warned)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check warns about each CRL close to or past its nextUpdate that was not
// warned about within Every; warned maps issuer+number to the last warning.
func (w *CRLWarner) check(warned map[string]time.Time) {
	snap := w.Checker.Snapshot()
	if snap == nil || w.Lead <= 0 {
		return
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, c := range snap.Trust.Status().CRLs {
		left := c.NextUpdate.Sub(now)
		if left > w.Lead {
			continue
		}
		key := c.Issuer + "\x00" + c.Number
		if last, ok := warned[key]; ok && now.Sub(last) < w.Every {
			continue
		}
		warned[key] = now
		w.Metrics.observeCRLWarning()
		msg := "CRL expires soon; publish a new one"
		if left <= 0 {
			msg = "CRL is past its nextUpdate; on_stale_crl applies"
		}
		log.Warn(msg, "issuer", c.Issuer, "crl_number", c.Number, "next_update", c.NextUpdate.UTC().Format(time.RFC3339),
			"seconds_left", int64(left.Seconds()), "on_stale_crl", string(snap.Trust.Status().OnStaleCRL), "file", c.File)
	}
}
