package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/bundles"
	"github.com/certgate/certgate/config"
)

// firstSnapshot builds the Service's Source (serviceSource) with the policy
// of policy.dir (or the embedded policy) or policy.opa, and loads the first
// snapshot. With a
// bundle it may be nil (bundles.FirstLoad): no bundle was ever activated
// nor persisted, and certgate fails closed until one activates.
func (s *Service) firstSnapshot(ctx context.Context) (*Snapshot, error) {
	var ps PolicySource = PolicyDir(s.cfg.Policy.Dir)
	if s.cfg.Policy.OPA != nil {
		bp, err := newBundlePolicy(s.cfg, s.log)
		if err != nil {
			return nil, err
		}
		s.bundle, ps = bp, bp
	}
	s.source = serviceSource{s: s, policy: ps, shadow: s.cfg.Policy.Shadow.Dir}
	load := func(ctx context.Context) (*Snapshot, error) { return s.source.Load(ctx, 1) }
	if s.bundle == nil {
		return load(ctx)
	}
	return bundles.FirstLoad(ctx, s.bundle, load)
}

// newBundlePolicy reads policy.opa; bundles persist under the state
// directory (config.DefaultStateDir) unless persistence_directory says
// otherwise.
func newBundlePolicy(cfg config.Config, log *slog.Logger) (*bundles.Policy, error) {
	raw, err := json.Marshal(cfg.Policy.OPA)
	if err != nil {
		return nil, fmt.Errorf("policy.opa: %w", err)
	}
	stateDir := config.DefaultStateDir(os.Getuid(), os.LookupEnv)
	bc, err := bundles.Parse(raw, filepath.Join(stateDir, "bundles"), log)
	if err != nil {
		return nil, err
	}
	return bundles.New(bc, log), nil
}

// attachBundle makes the bundle's status part of GetStatus and /metrics.
func (s *Service) attachBundle(registry *prometheus.Registry) {
	if s.bundle == nil {
		return
	}
	registry.MustRegister(s.bundle)
	s.admin.Bundles = s.bundle.Status
}

// runBundle downloads the bundle until ctx ends; each new one is tried
// through the Reloader, as a file change is.
func (s *Service) runBundle(ctx context.Context) {
	activate := func(ctx context.Context, trigger string) bundles.Activation {
		a := s.reloader.Attempt(ctx, trigger)
		return bundles.Activation{Swapped: a.Result == ReloadSuccess, Err: a.Err, Revision: a.Revision}
	}
	if err := s.bundle.Run(ctx, activate); err != nil {
		s.log.Error("bundle downloads stopped; the serving snapshot stays", "bundle", s.bundle.Name(), "error", err.Error())
	}
}
