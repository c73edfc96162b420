package bundles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"
	"github.com/open-policy-agent/opa/v1/plugins"
	bundleplugin "github.com/open-policy-agent/opa/v1/plugins/bundle"
	"github.com/open-policy-agent/opa/v1/plugins/rest"
)

// DefaultSizeLimitBytes bounds a downloaded bundle unless its
// size_limit_bytes says otherwise: certgate's policy is small, and OPA's
// own default (1 GiB) is memory a misbehaving bundle server could fill.
const DefaultSizeLimitBytes = 64 << 20

// Config is a parsed policy.opa section: OPA's services, bundles and keys,
// and persistence_directory.
type Config struct {
	// Bundles are the configured bundles by name; certgate serves one.
	Bundles map[string]*bundleplugin.Source
	// Services are the HTTP clients of the configured services by name.
	Services map[string]rest.Client
	// PersistDir is where bundles with persist: true are kept,
	// PersistDir/NAME/bundle.tar.gz.
	PersistDir string
}

// opaConfig is the part of OPA's configuration file that certgate reads;
// any other key (decision_logs, plugins, …) is an error rather than
// silently ignored.
type opaConfig struct {
	Services             json.RawMessage `json:"services"`
	Bundles              json.RawMessage `json:"bundles"`
	Keys                 json.RawMessage `json:"keys"`
	PersistenceDirectory *string         `json:"persistence_directory"`
}

// Parse reads policy.opa, given as the JSON of its YAML. A relative
// persistence_directory is relative to the working directory (config.Load
// makes one from a file relative to the file); without one, bundles persist
// under defaultPersistDir. log receives OPA's own log lines.
func Parse(raw []byte, defaultPersistDir string, log *slog.Logger) (*Config, error) {
	var oc opaConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&oc); err != nil {
		return nil, fmt.Errorf("policy.opa: %w (certgate reads services, bundles, keys and persistence_directory)", err)
	}
	keyConfigs, err := keys.ParseKeysConfig(oc.Keys)
	if err != nil {
		return nil, fmt.Errorf("policy.opa.keys: %w", err)
	}
	services, err := parseServices(oc.Services, keyConfigs, log)
	if err != nil {
		return nil, fmt.Errorf("policy.opa.services: %w", err)
	}
	if len(oc.Bundles) == 0 || string(oc.Bundles) == "null" {
		return nil, errors.New("policy.opa.bundles: name the bundle to serve")
	}
	parsed, err := bundleplugin.NewConfigBuilder().
		WithBytes(oc.Bundles).
		WithServices(slices.Sorted(maps.Keys(services))).
		WithKeyConfigs(keyConfigs).
		Parse()
	if err != nil {
		return nil, fmt.Errorf("policy.opa.bundles: %w", err)
	}
	if err := checkBundles(parsed.Bundles, oc.Bundles, keyConfigs); err != nil {
		return nil, err
	}
	for name, client := range services {
		// OPA pulls from an OCI registry with a downloader of its own,
		// which certgate does not run.
		if client.Config().Type == "oci" {
			return nil, fmt.Errorf("policy.opa.services.%s: type oci: certgate downloads bundles over HTTP(S) only", name)
		}
	}
	c := &Config{Bundles: parsed.Bundles, Services: services, PersistDir: defaultPersistDir}
	if oc.PersistenceDirectory != nil {
		c.PersistDir = *oc.PersistenceDirectory
	}
	return c, nil
}

// checkBundles refuses what certgate does not do, and makes signatures
// required wherever keys are configured.
func checkBundles(bundles map[string]*bundleplugin.Source, raw json.RawMessage, keyConfigs map[string]*keys.Config) error {
	if len(bundles) != 1 {
		return fmt.Errorf("policy.opa.bundles: certgate serves exactly one bundle, %d are configured", len(bundles))
	}
	var sizes map[string]struct {
		SizeLimitBytes *int64 `json:"size_limit_bytes"`
	}
	if err := json.Unmarshal(raw, &sizes); err != nil {
		return fmt.Errorf("policy.opa.bundles: %w", err)
	}
	for name, src := range bundles {
		if strings.HasPrefix(src.Resource, "file://") {
			return fmt.Errorf("policy.opa.bundles.%s: a file:// resource is not downloaded; use policy.dir for local files", name)
		}
		if src.Trigger != nil && *src.Trigger != plugins.TriggerPeriodic {
			return fmt.Errorf("policy.opa.bundles.%s: trigger %q: certgate polls (periodic)", name, *src.Trigger)
		}
		if sizes[name].SizeLimitBytes == nil {
			src.SizeLimitBytes = DefaultSizeLimitBytes
		}
		// OPA accepts an unsigned bundle when keys exist but the bundle
		// has no signing block; certgate does not: with keys configured,
		// every bundle must be signed by one of them.
		if len(keyConfigs) > 0 && !src.Signing.SignatureRequired() {
			src.Signing = bundle.NewVerificationConfig(keyConfigs, "", "", nil)
		}
	}
	return nil
}

// parseServices builds a client per service, given as OPA accepts them: a
// map by name or a list with names.
func parseServices(raw json.RawMessage, keyConfigs map[string]*keys.Config, log *slog.Logger) (map[string]rest.Client, error) {
	services := map[string]rest.Client{}
	if len(raw) == 0 || string(raw) == "null" {
		return services, nil
	}
	opts := []func(*rest.Client){rest.Logger(opaLogger{log: log})}
	var byName map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byName); err == nil {
		for name, svc := range byName {
			client, err := rest.New(svc, keyConfigs, append(opts, rest.Name(name))...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			services[name] = client
		}
		return services, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("want a map of services by name or a list of services")
	}
	for i, svc := range list {
		client, err := rest.New(svc, keyConfigs, opts...)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if client.Service() == "" {
			return nil, fmt.Errorf("[%d]: a service in a list needs a name", i)
		}
		services[client.Service()] = client
	}
	return services, nil
}
