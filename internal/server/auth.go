package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is the set of admin requests a user may make.
type Role string

// Roles, from the most to the least privileged.
const (
	// RoleAdmin may do everything, including deleting deployments.
	RoleAdmin Role = "admin"
	// RoleDeployer may upload archives and read.
	RoleDeployer Role = "deployer"
	// RoleMonitor may only read.
	RoleMonitor Role = "monitor"
)

// action is one kind of admin request, checked against a Role.
type action int

const (
	actionRead action = iota
	actionUpload
	actionDelete
)

func (a action) String() string {
	return [...]string{"read", "upload", "delete"}[a]
}

// rolesFor returns the names of the roles that may do a, for messages.
func rolesFor(a action) string {
	switch a {
	case actionRead:
		return "monitor, deployer or admin"
	case actionUpload:
		return "deployer or admin"
	}
	return "admin"
}

func (r Role) may(a action) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleDeployer:
		return a == actionRead || a == actionUpload
	case RoleMonitor:
		return a == actionRead
	}
	return false
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleDeployer, RoleMonitor:
		return r, nil
	}
	return "", fmt.Errorf("role %q is invalid: use admin, deployer or monitor", s)
}

// User is an admin API user.
type User struct {
	Name string
	Role Role
	// PasswordHash is a bcrypt hash ("$2a$…", "$2b$…" or "$2y$…").
	PasswordHash []byte
}

func (u User) validate() error {
	if u.Name == "" || strings.ContainsAny(u.Name, ":\n") {
		return fmt.Errorf("user name %q is invalid: use a non-empty name without ':'", u.Name)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return fmt.Errorf("user %q: %w", u.Name, err)
	}
	if _, err := bcrypt.Cost(u.PasswordHash); err != nil {
		return fmt.Errorf("user %q: password hash is not a bcrypt hash: %w", u.Name, err)
	}
	return nil
}

// NewUser returns a user whose password is hashed with bcrypt.
func NewUser(name string, role Role, password string) (User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	u := User{Name: name, Role: role, PasswordHash: hash}
	return u, u.validate()
}

// MaxPasswordBytes is the longest password bcrypt accepts.
const MaxPasswordBytes = 72

// HashPassword returns the bcrypt hash of password at bcrypt's default cost.
func HashPassword(password string) ([]byte, error) {
	if password == "" {
		return nil, fmt.Errorf("password is empty")
	}
	if len(password) > MaxPasswordBytes {
		return nil, fmt.Errorf("password is %d bytes long, more than the %d bytes bcrypt uses: choose a shorter one", len(password), MaxPasswordBytes)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// ParseUsers reads a users file: one "name:role:bcrypt-hash" per line.
// Blank lines and lines starting with '#' are skipped. name is the file
// name used in errors.
func ParseUsers(name string, r io.Reader) ([]User, error) {
	var users []User
	firstLine := map[string]int{}
	scanner := bufio.NewScanner(r)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}

		fields := strings.SplitN(text, ":", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want name:role:bcrypt-hash", name, line)
		}
		u := User{Name: fields[0], Role: Role(fields[1]), PasswordHash: []byte(fields[2])}
		if err := u.validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if first, ok := firstLine[u.Name]; ok {
			return nil, fmt.Errorf("%s:%d: user %q is already defined on line %d: keep one definition", name, line, u.Name, first)
		}
		firstLine[u.Name] = line
		users = append(users, u)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return users, nil
}

// dummyHash is compared against when the user name is unknown, so that an
// unknown name costs as much time as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	hash, _ := bcrypt.GenerateFromPassword([]byte("unknown user"), bcrypt.DefaultCost)
	return hash
})

type userKey struct{}

// authenticate returns the user whose Basic credentials r carries, or ok
// false. bcrypt compares in constant time; credentials it accepted are
// remembered for a minute so that repeated requests skip its cost.
func (s *Server) authenticate(r *http.Request) (User, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		return User{}, false
	}
	u, known := s.users[name]
	hash := u.PasswordHash
	if !known {
		hash = dummyHash()
	}
	if known && s.verified.contains(name, password, hash) {
		return u, true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		return User{}, false
	}
	s.verified.add(name, password, hash)
	return u, true
}

// requireRole wraps an admin handler. It responds 401 without valid
// credentials and 403 when the user's role may not do a.
func (s *Server) requireRole(a action, txType string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := s.clientAddress(r)
		if s.failures != nil {
			if wait := s.failures.retryAfter(client); wait > 0 {
				s.tooManyFailures(w, r, txType, wait)
				return
			}
		}

		u, ok := s.authenticate(r)
		if !ok {
			name, _, given := r.BasicAuth()
			if given && s.failures != nil && s.failures.fail(client) {
				s.log.Warn("too many failed admin logins: further attempts get 429 until the client recovers",
					"client", client, "limitPerMinute", s.cfg.AuthFailuresPerMinute, "remote", r.RemoteAddr)
			}
			reason := "credentials missing"
			if given {
				reason = "invalid user name or password"
			}
			s.log.Warn("admin request rejected", "method", r.Method, "path", r.URL.Path, "user", name, "reason", reason, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Basic realm="mfpdev", charset="UTF-8"`)
			s.adminError(w, http.StatusUnauthorized, txType, reason+": send HTTP Basic credentials of a user with role "+rolesFor(a))
			return
		}
		if !u.Role.may(a) {
			s.log.Warn("admin request rejected", "method", r.Method, "path", r.URL.Path, "user", u.Name, "role", string(u.Role), "reason", "role may not "+a.String(), "remote", r.RemoteAddr)
			s.adminError(w, http.StatusForbidden, txType, fmt.Sprintf("user %q has role %s, which may not %s", u.Name, u.Role, a))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// tooManyFailures writes the 429 response of a client over the limit of
// failed logins.
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, txType string, wait time.Duration) {
	seconds := int(math.Ceil(wait.Seconds()))
	// Logged at debug level: the Warn when the client went over the limit
	// is enough, and a client hammering the server must not flood the log.
	s.log.Debug("admin request rejected", "method", r.Method, "path", r.URL.Path,
		"reason", "too many failed logins", "retryAfterSeconds", seconds, "remote", r.RemoteAddr)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	s.adminError(w, http.StatusTooManyRequests, txType, fmt.Sprintf(
		"too many failed logins from %s: retry in %d s with valid credentials; the server's --auth-failures-per-minute sets the limit (%d per minute)",
		s.clientAddress(r), seconds, s.cfg.AuthFailuresPerMinute))
}

func userFrom(ctx context.Context) User {
	u, _ := ctx.Value(userKey{}).(User)
	return u
}
