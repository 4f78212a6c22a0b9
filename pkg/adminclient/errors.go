package adminclient

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors that HTTPError and UnreachableError match with errors.Is,
// so that callers can map them to their own advice and exit codes.
var (
	ErrUnauthorized = errors.New("unauthorized")      // 401
	ErrForbidden    = errors.New("forbidden")         // 403
	ErrNotFound     = errors.New("not found")         // 404
	ErrTooLarge     = errors.New("archive too large") // 413
	ErrUnreachable  = errors.New("server unreachable")
	// ErrMismatch means the server stored something other than what was sent.
	ErrMismatch = errors.New("upload not verified")
)

// HTTPError is a response with a status other than 2xx, or a 2xx response
// whose body reports a failure.
type HTTPError struct {
	Method string
	// URL is the request URL. It never carries credentials, because the
	// client sends them in the Authorization header.
	URL        string
	StatusCode int
	// Details are the server's transaction.errors[].details, if any.
	Details []string
	// Excerpt is the start of the body with control characters removed,
	// set when the body carries no Details.
	Excerpt string
	// Hint is the next step to take. Callers may replace it with advice that
	// names their own commands.
	Hint string
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Details) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(e.Details, "; "))
	} else if e.Excerpt != "" {
		fmt.Fprintf(&b, ": %q", e.Excerpt)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, ": %s", e.Hint)
	}
	return b.String()
}

// Is matches the sentinel error of the status code.
func (e *HTTPError) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusRequestEntityTooLarge:
		return target == ErrTooLarge
	}
	return false
}

// UnreachableError is a request that got no HTTP response: the connection
// was refused, timed out or broke.
type UnreachableError struct {
	// BaseURL is the server's URL without credentials.
	BaseURL string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s (%v): %s", e.BaseURL, e.Err, unreachableHint(e.BaseURL))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is matches ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// unreachableHint suggests starting the local server when the URL names
// this machine, and checking the URL otherwise.
func unreachableHint(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err == nil && isLocalHost(u.Hostname()) {
		return `is "mfpdev server start" running?`
	}
	return "check the server URL and the network"
}

func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxExcerpt is the number of characters of a response body quoted in an
// error.
const maxExcerpt = 200

// sanitizeExcerpt returns the start of body for an error message: spaces
// collapsed, control characters dropped, the password masked as
// maskPassword does, at most maxExcerpt characters.
func sanitizeExcerpt(body []byte, password string) string {
	text := maskPassword(string(body), password)

	var b strings.Builder
	count := 0
	lastSpace := true
	for _, r := range text {
		if count == maxExcerpt {
			b.WriteString("…")
			break
		}
		switch {
		case unicode.IsSpace(r):
			if lastSpace {
				continue
			}
			b.WriteByte(' ')
			lastSpace = true
		case !unicode.IsPrint(r) || r == unicode.ReplacementChar:
			continue
		default:
			b.WriteRune(r)
			lastSpace = false
		}
		count++
	}
	return strings.TrimSpace(b.String())
}

// roleNames are the roles of the mfpdev update server. Its 401 and 403
// messages name them, as in "send HTTP Basic credentials of a user with
// role deployer or admin".
var roleNames = map[string]bool{"admin": true, "deployer": true, "monitor": true}

// maskPassword replaces each whole-word occurrence of password in text
// with "****". An occurrence is not a whole word when a letter, digit or
// underscore at its edge runs on into the text around it, so a password
// "pass" is masked in "pass," but not in "passed" or "password".
//
// A password that is one of roleNames is never masked. The server's fixed
// messages use these names as ordinary words, so masking would garble the
// messages and show which word is the password. Such a password is no
// secret to keep, and "admin" is the documented password of the local server.
func maskPassword(text, password string) string {
	if password == "" || roleNames[password] {
		return text
	}

	var b strings.Builder
	start := 0 // text[:start] is already in b
	for from := 0; ; {
		i := strings.Index(text[from:], password)
		if i < 0 {
			break
		}
		i += from
		end := i + len(password)
		if continuesWord(text[:i], password, text[end:]) {
			// A later occurrence may overlap this one and still be a
			// whole word.
			from = i + 1
			continue
		}
		b.WriteString(text[start:i])
		b.WriteString("****")
		start, from = end, end
	}
	b.WriteString(text[start:])
	return b.String()
}

// continuesWord reports whether the word characters at the edges of
// password run on into the text before or after it.
func continuesWord(before, password, after string) bool {
	first, _ := utf8.DecodeRuneInString(password)
	last, _ := utf8.DecodeLastRuneInString(password)
	previous, _ := utf8.DecodeLastRuneInString(before)
	next, _ := utf8.DecodeRuneInString(after)
	return (before != "" && isWordRune(first) && isWordRune(previous)) ||
		(after != "" && isWordRune(last) && isWordRune(next))
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// redactURL returns u without its user information.
func redactURL(u *url.URL) string {
	clean := *u
	clean.User = nil
	return clean.String()
}
