// Package config stores the CLI's server profiles: where "mfpdev app
// webupdate" pushes archives and with which login.
//
// Profiles live in one JSON file, MFPDEV_CONFIG when set, otherwise
// mfpdev/config.json under the user's configuration folder
// ($XDG_CONFIG_HOME or its platform equivalent). The file may hold
// passwords, so it is written with mode 0600 in a folder with mode 0700,
// through a temporary file renamed into place so that a crash never leaves
// half a file behind.
//
// With no profile at all, the target is the local server that
// "mfpdev server start" runs: http://localhost:9080 with login admin and
// password admin.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/adrg/xdg"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Environment variables the CLI reads for profiles.
const (
	// EnvConfig overrides the path of the profiles file.
	EnvConfig = "MFPDEV_CONFIG"
	// EnvPassword is the password used when a profile saves none.
	EnvPassword = "MFPDEV_PASSWORD"
)

// Values of the local server that "mfpdev server start" runs.
const (
	LocalProfileName = "local"
	LocalLogin       = "admin"
	LocalPassword    = "admin"
)

// DefaultTimeout is the timeout of a new profile in seconds.
const DefaultTimeout = 30

// Profile is one server that archives are pushed to.
type Profile struct {
	Name string `json:"name"`
	// URL is the server's base URL, scheme and host, for example
	// "https://mfp.example.com:9443".
	URL   string `json:"url"`
	Login string `json:"login"`
	// Password is empty when the profile saves none. ResolvePassword then
	// looks for one elsewhere.
	Password string `json:"password,omitempty"`
	// AdminContext is the context root of the admin API. Empty means
	// protocol.DefaultAdminContext.
	AdminContext string `json:"adminContext,omitempty"`
	// Runtime is the runtime pushed to when the command names none. Empty
	// means protocol.DefaultRuntime.
	Runtime string `json:"runtime,omitempty"`
	// Timeout is the wait for the server's response to one request, in
	// seconds. Zero means DefaultTimeout.
	Timeout int `json:"timeout,omitempty"`
}

// AdminContextRoot returns the admin context root, defaulted.
func (p Profile) AdminContextRoot() string {
	if p.AdminContext == "" {
		return protocol.DefaultAdminContext
	}
	return p.AdminContext
}

// RuntimeName returns the runtime, defaulted.
func (p Profile) RuntimeName() string {
	if p.Runtime == "" {
		return protocol.DefaultRuntime
	}
	return p.Runtime
}

// TimeoutDuration returns the request timeout, defaulted.
func (p Profile) TimeoutDuration() time.Duration {
	if p.Timeout <= 0 {
		return DefaultTimeout * time.Second
	}
	return time.Duration(p.Timeout) * time.Second
}

// LocalProfile returns the profile of the local server used when no
// profile is configured.
func LocalProfile() Profile {
	return Profile{
		Name:     LocalProfileName,
		URL:      protocol.DefaultServerURL,
		Login:    LocalLogin,
		Password: LocalPassword,
	}
}

// Config is the content of the profiles file.
type Config struct {
	// Default names the profile used when a command names none.
	Default  string    `json:"default,omitempty"`
	Profiles []Profile `json:"profiles"`
}

// Path returns the path of the profiles file: the value of MFPDEV_CONFIG
// read through getenv, otherwise mfpdev/config.json in the user's
// configuration folder.
func Path(getenv func(string) string) string {
	if p := getenv(EnvConfig); p != "" {
		return p
	}
	return filepath.Join(xdg.ConfigHome, "mfpdev", "config.json")
}

// Load reads the profiles file at path. A missing file is an empty Config.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read server profiles: %w", err)
	}

	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, corruptError(path, err)
	}
	if err := c.validate(); err != nil {
		return nil, corruptError(path, err)
	}
	return &c, nil
}

func corruptError(path string, err error) error {
	return fmt.Errorf("read server profiles: %s is not a valid profiles file (%v): fix it, "+
		"or delete it and add the profiles again with \"mfpdev server add\"", path, err)
}

func (c *Config) validate() error {
	seen := make(map[string]bool, len(c.Profiles))
	for _, p := range c.Profiles {
		if err := ValidateName(p.Name); err != nil {
			return err
		}
		if seen[p.Name] {
			return fmt.Errorf("profile %q appears twice", p.Name)
		}
		seen[p.Name] = true
	}
	if c.Default != "" && !seen[c.Default] {
		return fmt.Errorf("default profile %q does not exist", c.Default)
	}
	return nil
}

// Save writes c to path atomically: a temporary file with mode 0600 in
// the same folder, renamed over path. The folder is created with mode 0700
// when missing.
func (c *Config) Save(path string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save server profiles: %w", err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save server profiles: %w", err)
	}

	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("save server profiles: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed

	// CreateTemp already uses 0600, and Chmod makes sure of it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save server profiles: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save server profiles: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save server profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save server profiles: %w", err)
	}

	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save server profiles: %w", err)
	}
	return nil
}

// Get returns the profile called name.
func (c *Config) Get(name string) (Profile, bool) {
	i := c.index(name)
	if i < 0 {
		return Profile{}, false
	}
	return c.Profiles[i], true
}

func (c *Config) index(name string) int {
	return slices.IndexFunc(c.Profiles, func(p Profile) bool { return p.Name == name })
}

// Add appends p. The first profile added becomes the default.
func (c *Config) Add(p Profile) error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	if c.index(p.Name) >= 0 {
		return fmt.Errorf("server profile %q already exists: change it with \"mfpdev server edit %s\"", p.Name, p.Name)
	}
	c.Profiles = append(c.Profiles, p)
	if len(c.Profiles) == 1 {
		c.Default = p.Name
	}
	return nil
}

// Update replaces the profile with p's name.
func (c *Config) Update(p Profile) error {
	i := c.index(p.Name)
	if i < 0 {
		return NotFoundError(p.Name)
	}
	c.Profiles[i] = p
	return nil
}

// Remove deletes the profile called name, and the default when it named it.
func (c *Config) Remove(name string) error {
	i := c.index(name)
	if i < 0 {
		return NotFoundError(name)
	}
	c.Profiles = slices.Delete(c.Profiles, i, i+1)
	if c.Default == name {
		c.Default = ""
	}
	return nil
}

// Resolve returns the profile a command uses: the one called name, or
// with an empty name the default profile, or the only profile, or
// LocalProfile when none is configured.
func (c *Config) Resolve(name string) (Profile, error) {
	if name != "" {
		p, ok := c.Get(name)
		if !ok {
			return Profile{}, NotFoundError(name)
		}
		return p, nil
	}

	if c.Default != "" {
		if p, ok := c.Get(c.Default); ok {
			return p, nil
		}
	}
	switch len(c.Profiles) {
	case 0:
		return LocalProfile(), nil
	case 1:
		return c.Profiles[0], nil
	}
	return Profile{}, fmt.Errorf("no default server profile among %d profiles: name one, "+
		"or set a default with \"mfpdev server edit NAME --setdefault\"", len(c.Profiles))
}

// NotFoundError returns the error for a profile name that does not exist.
func NotFoundError(name string) error {
	return fmt.Errorf("server profile %q not found: list the profiles with \"mfpdev server list\", "+
		"or add it with \"mfpdev server add %s\"", name, name)
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateName checks a profile name: 1 to 64 letters, digits, '.', '_'
// or '-', starting with a letter or digit.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("invalid server profile name %q: use 1 to 64 letters, digits, '.', '_' or '-', "+
			"starting with a letter or digit", name)
	}
	return nil
}

// ValidateContextRoot checks an admin context root such as "mfpadmin".
func ValidateContextRoot(root string) error {
	trimmed := strings.Trim(root, "/")
	if trimmed == "" || strings.ContainsAny(trimmed, "/?#% ") {
		return fmt.Errorf("invalid admin context root %q: give one path segment such as %q",
			root, protocol.DefaultAdminContext)
	}
	return nil
}
