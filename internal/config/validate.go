package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NormalizeURL checks a server URL and returns it without a trailing
// slash. The URL must use http or https and name a host; it carries no
// login (profiles keep that apart), query or fragment.
func NormalizeURL(raw string) (string, error) {
	const fix = `give the server's base URL, for example "http://localhost:9080" or "https://mfp.example.com:9443"`

	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("invalid server URL %q: %v: %s", raw, err, fix)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("invalid server URL %q: the scheme must be http or https: %s", raw, fix)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("invalid server URL %q: the host is missing: %s", raw, fix)
	}
	if u.User != nil {
		return "", fmt.Errorf("invalid server URL %q: remove the login from the URL and pass it with --login and --password", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid server URL %q: remove the query and fragment: %s", raw, fix)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// ErrNoPassword is returned by ResolvePassword when no source has a
// password and the user cannot be asked.
var ErrNoPassword = errors.New("no password")

// EnvPasswordValue returns MFPDEV_PASSWORD without a trailing line break,
// which a secret mounted from a file often keeps. "server hash-password"
// likewise reads its input without the line break.
func EnvPasswordValue(getenv func(string) string) string {
	return strings.TrimRight(getenv(EnvPassword), "\r\n")
}

// ResolvePassword returns the password to use with p: the profile's saved
// password, then the MFPDEV_PASSWORD environment variable read through
// getenv, then the answer to ask. A nil ask means the user cannot be
// asked; the error then wraps ErrNoPassword and names the ways to give one.
func ResolvePassword(p Profile, getenv func(string) string, ask func(message string) (string, error)) (string, error) {
	if p.Password != "" {
		return p.Password, nil
	}
	if pw := EnvPasswordValue(getenv); pw != "" {
		return pw, nil
	}

	if ask == nil {
		return "", fmt.Errorf("%w for login %q of server profile %q: pass --password, set %s, "+
			"or save it with \"mfpdev server edit %s --password PASSWORD\"",
			ErrNoPassword, p.Login, p.Name, EnvPassword, p.Name)
	}
	pw, err := ask(fmt.Sprintf("Password for %s at %s:", p.Login, p.URL))
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", fmt.Errorf("%w for login %q of server profile %q: the password is empty", ErrNoPassword, p.Login, p.Name)
	}
	return pw, nil
}
