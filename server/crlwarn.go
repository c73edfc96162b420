package server

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
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

	once  sync.Once
	poked chan struct{}
}

func (w *CRLWarner) init() { w.once.Do(func() { w.poked = make(chan struct{}, 1) }) }

// Poke makes Run check now, as after a reload brought new CRLs. It never
// blocks.
func (w *CRLWarner) Poke() {
	w.init()
	select {
	case w.poked <- struct{}{}:
	default:
	}
}

// Run checks at once, when poked, at the moment a CRL enters its lead time
// or passes its nextUpdate, and at least once a minute, until ctx ends.
func (w *CRLWarner) Run(ctx context.Context) {
	w.init()
	warned := map[string]time.Time{}
	for {
		timer := time.NewTimer(w.check(warned))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case <-w.poked:
			timer.Stop()
		}
	}
}

// check warns about each CRL close to or past its nextUpdate that was not
// warned about within Every; warned maps issuer+number to the last warning.
// It returns how long to wait before the next check.
func (w *CRLWarner) check(warned map[string]time.Time) (next time.Duration) {
	next = time.Minute
	snap := w.Checker.Snapshot()
	if snap == nil || w.Lead <= 0 {
		return next
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	status := snap.Trust.Status()
	seen := make(map[string]bool, len(status.CRLs))
	defer func() {
		// Forget CRLs that are no longer loaded, so the map stays as
		// small as the CRL set however many times CRLs are renewed.
		for key := range warned {
			if !seen[key] {
				delete(warned, key)
			}
		}
	}()
	for _, c := range status.CRLs {
		left := c.NextUpdate.Sub(now)
		for _, edge := range []time.Duration{left - w.Lead, left} {
			if edge > 0 && edge+10*time.Millisecond < next {
				next = edge + 10*time.Millisecond
			}
		}
		if left > w.Lead {
			continue
		}
		// Passing nextUpdate is news even right after an "expires soon".
		key := c.Issuer + "\x00" + c.Number + "\x00" + strconv.FormatBool(left <= 0)
		seen[key] = true
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
			"seconds_left", int64(left.Seconds()), "on_stale_crl", string(status.OnStaleCRL), "file", c.File)
	}
	return next
}
