package config

import (
	"maps"
	"path/filepath"
	"strings"
)

// ResolvePaths makes every relative path of c relative to dir: the trust
// files (a ca_bindings ca_file included), policy.dir,
// policy.opa.persistence_directory, the admin certificate, key and Unix socket, the data listeners' TLS files, and a
// decision_log.output that is a file. Load calls it with the config file's
// directory, so that a file means the same wherever certgate runs (as
// Prometheus reads its rule_files); values from flags and CERTGATE_*
// variables are applied after it and stay relative to the working
// directory.
func (c *Config) ResolvePaths(dir string) {
	resolve := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for _, list := range []*[]string{&c.Trust.CAFiles, &c.Trust.IntermediateFiles, &c.Trust.CRLFiles, &c.Listen.TLS.ClientCAFiles} {
		*list = append([]string(nil), *list...) // a copy of c may share the array
		for i := range *list {
			resolve(&(*list)[i])
		}
	}
	c.Trust.CABindings = append([]CABinding(nil), c.Trust.CABindings...)
	for i := range c.Trust.CABindings {
		resolve(&c.Trust.CABindings[i].CAFile)
	}
	for _, p := range []*string{&c.Policy.Dir, &c.Policy.Shadow.Dir, &c.Admin.CertFile, &c.Admin.KeyFile, &c.Trust.CacheDir, &c.Listen.TLS.CertFile, &c.Listen.TLS.KeyFile} {
		resolve(p)
	}
	if isDecisionLogFile(c.DecisionLog.Output) {
		resolve(&c.DecisionLog.Output)
	}
	if pd, ok := c.Policy.OPA["persistence_directory"].(string); ok {
		resolve(&pd)
		c.Policy.OPA = maps.Clone(c.Policy.OPA)
		c.Policy.OPA["persistence_directory"] = pd
	}
	if sock, ok := strings.CutPrefix(c.Admin.Listen, "unix:"); ok && sock != "" {
		resolve(&sock)
		c.Admin.Listen = "unix:" + sock
	}
}

// isDecisionLogFile says whether a decision_log.output names a file rather
// than stdout, stderr or off.
func isDecisionLogFile(output string) bool {
	switch output {
	case "", "stdout", "stderr", "off":
		return false
	}
	return true
}
