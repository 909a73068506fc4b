// Package secrets loads known secret values (from environment variables,
// files, Kubernetes secret mounts, dotenv files, Power Platform solution
// exports and Azure Key Vault) and keeps them fresh, so that every front end
// masks them as literals.
package secrets

import "time"

// Config is the `secrets:` section of a flowmask config file. The zero value
// loads nothing.
type Config struct {
	// Env lists environment variable names whose values are secrets.
	Env []string `yaml:"env"`
	// EnvPrefix lists name prefixes: every variable starting with one is a
	// secret (APP_SECRET_).
	EnvPrefix []string `yaml:"env_prefix"`
	// Files are files of one value per line.
	Files []string `yaml:"files"`
	// Dotenv are dotenv files (NAME=value lines).
	Dotenv []string `yaml:"dotenv"`
	// Dirs are directories holding one value per file, as Kubernetes mounts
	// secrets.
	Dirs []string `yaml:"dirs"`
	// Solutions are Power Platform solution zips whose secret-type
	// environment variable values are loaded.
	Solutions []string `yaml:"solutions"`
	// KeyVaults are Azure Key Vaults to load secrets from.
	KeyVaults []KeyVault `yaml:"keyvaults"`
	// Refresh is how often sources are re-read (±10% jitter). Zero means 5m.
	Refresh time.Duration `yaml:"refresh"`
	// Grace keeps a rotated-out value masked for this long, since logs
	// written before a rotation keep arriving. Zero means 24h.
	Grace time.Duration `yaml:"grace"`
	// MaxFailures is how many refreshes in a row may fail before /readyz
	// reports not ready. Zero means 3.
	MaxFailures int `yaml:"max_failures"`
}

// KeyVault is one Azure Key Vault source.
type KeyVault struct {
	// URL is the vault URL, https://NAME.vault.azure.net.
	URL string `yaml:"url"`
	// Prefix keeps only secrets whose names start with it.
	Prefix string `yaml:"prefix"`
	// Tags keeps only secrets carrying all these tag values.
	Tags map[string]string `yaml:"tags"`
	// Optional lets startup continue when the vault is unreachable.
	Optional bool `yaml:"optional"`
}
