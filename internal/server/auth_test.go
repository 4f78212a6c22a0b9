package server_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfpdev/mfpdev/internal/server"
)

func TestParseUsers(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	input := "# team\n\nalice:admin:" + string(hash) + "\n  bob:monitor:" + string(hash) + "  \n"

	users, err := server.ParseUsers("users.txt", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Fatalf("parsed %d users, want 2", len(users))
	}
	if users[0].Name != "alice" || users[0].Role != server.RoleAdmin {
		t.Errorf("first user = %s/%s", users[0].Name, users[0].Role)
	}
	if users[1].Name != "bob" || users[1].Role != server.RoleMonitor {
		t.Errorf("second user = %s/%s", users[1].Name, users[1].Role)
	}
}

func TestParseUsersRejects(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, line, want string
	}{
		{"two fields", "alice:admin", "users.txt:2: want name:role:bcrypt-hash"},
		{"unknown role", "alice:root:" + string(hash), `role "root" is invalid`},
		{"plain password", "alice:admin:secret", "not a bcrypt hash"},
		{"empty name", ":admin:" + string(hash), "user name"},
		{"duplicate", "alice:admin:" + string(hash) + "\nalice:monitor:" + string(hash), `users.txt:3: user "alice" is already defined on line 2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.ParseUsers("users.txt", strings.NewReader("# first line\n"+tt.line+"\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
