package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/certgate/certgate/config"
)

// TestAConfigFileMeansTheSameFromAnyDirectory: `decide --config
// /etc/x/config.yaml` finds the files the config names beside it, wherever
// it runs, while a --ca flag stays relative to the working directory.
func TestAConfigFileMeansTheSameFromAnyDirectory(t *testing.T) {
	d := demo(t)
	cfg := filepath.Join(d.Dir, "config.yaml")
	yaml := "trust:\n  ca_files: [ca.pem]\n  crl_files: [crl.pem]\ndecision_log:\n  output: decisions.jsonl\nlog:\n  level: error\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if code, stdout, stderr := runCLI("decide", "--config", cfg, "--cert", d.ClientCert("jenkins"), "--method", "POST", "--path", "/api/v1/vm"); code != exitOK {
		t.Errorf("decide from another directory: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("decide", "--config", cfg, "--ca", "ca.pem", "--cert", d.ClientCert("jenkins"), "--path", "/api/v1/vm"); code != exitUsage {
		t.Errorf("decide with --ca ca.pem where there is none: exit %d, want %d (flags are relative to the working directory)\nstdout: %s\nstderr: %s", code, exitUsage, stdout, stderr)
	}
	t.Chdir(d.Dir)
	if code, stdout, stderr := runCLI("decide", "--config", cfg, "--ca", "ca.pem", "--cert", d.ClientCert("jenkins"), "--method", "POST", "--path", "/api/v1/vm"); code != exitOK {
		t.Errorf("decide with --ca ca.pem beside it: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestDevWritesAConfigThatWorksFromAnyDirectory: dev's relative --dir is
// relative to where dev ran, so the config.yaml it writes names absolute
// paths, and `decide --config .certgate-dev/config.yaml` (the command it
// prints) reads the demo's files.
func TestDevWritesAConfigThatWorksFromAnyDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("demo", 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Trust.CAFiles, cfg.Admin.Listen = []string{filepath.Join("demo", "ca.pem")}, "unix:"+filepath.Join("demo", "admin.sock")
	if err := writeDevConfig(filepath.Join("demo", "config.yaml"), cfg); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(filepath.Join("demo", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(wd, "demo", "ca.pem")}; !slices.Equal(got.Trust.CAFiles, want) {
		t.Errorf("ca_files %v, want %v", got.Trust.CAFiles, want)
	}
	if want := "unix:" + filepath.Join(wd, "demo", "admin.sock"); got.Admin.Listen != want {
		t.Errorf("admin.listen %q, want %q", got.Admin.Listen, want)
	}
}
