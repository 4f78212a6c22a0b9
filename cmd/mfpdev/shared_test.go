package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// TestSharedStoreScripts runs the scripts in testdata/shared, which start
// several servers sharing one PostgreSQL database and one S3 bucket. Each
// script gets its own schema ($DATABASE) and object prefix ($BLOBS), and
// two free ports, $PORT and $PORT2. scripts/ci-services.sh starts the
// services and sets MFPDEV_TEST_POSTGRES and MFPDEV_TEST_S3.
func TestSharedStoreScripts(t *testing.T) {
	postgresURL, s3URL := os.Getenv("MFPDEV_TEST_POSTGRES"), os.Getenv("MFPDEV_TEST_S3")
	if postgresURL == "" || s3URL == "" {
		msg := "MFPDEV_TEST_POSTGRES and MFPDEV_TEST_S3 are not set: run \". scripts/ci-services.sh\" to start PostgreSQL and an S3 server"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	sample, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sample"))
	if err != nil {
		t.Fatal(err)
	}

	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "shared"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("SAMPLE", sample)
			env.Setenv("MFPDEV_CONFIG", filepath.Join(env.WorkDir, ".config", "mfpdev.json"))
			env.Setenv("SOURCE_DATE_EPOCH", "")
			for _, name := range []string{"PORT", "PORT2"} {
				port, err := freePort()
				if err != nil {
					return err
				}
				env.Setenv(name, port)
			}

			namespace := "t_" + strings.ToLower(rand.Text())
			database, err := createTestSchema(postgresURL, namespace, env.Defer)
			if err != nil {
				return err
			}
			env.Setenv("DATABASE", database)
			bucket, query, _ := strings.Cut(s3URL, "?")
			env.Setenv("BLOBS", strings.TrimRight(bucket, "/")+"/"+namespace+"?"+query)
			env.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("AWS_ACCESS_KEY_ID"))
			env.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("AWS_SECRET_ACCESS_KEY"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cpdir":     cmdCopyDir,
			"waitready": cmdWaitReady,
			"history":   cmdHistory,
		},
		RequireExplicitExec: true,
	})
}

// createTestSchema creates schema in the database of postgresURL, has
// deferFunc drop it, and returns a URL whose connections use it.
func createTestSchema(postgresURL, schema string, deferFunc func(func())) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	deferFunc(func() {
		conn, err := pgx.Connect(ctx, postgresURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})

	sep := "?"
	if strings.Contains(postgresURL, "?") {
		sep = "&"
	}
	return postgresURL + sep + "search_path=" + schema, nil
}

// cmdHistory checks the deployments of one app version through the admin
// API of a server, as admin/admin:
//
//	history URL APP_ID PLATFORM APP_VERSION COUNT
//
// It fails unless there are COUNT deployments, exactly one of them active,
// and it prints the active checksum.
func cmdHistory(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: history URL APP_ID PLATFORM APP_VERSION COUNT")
	}
	want, err := strconv.Atoi(args[4])
	if err != nil {
		ts.Fatalf("COUNT %q is not a number", args[4])
	}
	url := fmt.Sprintf("%s/%s/management-apis/2.0/runtimes/%s/applications/%s/%s/%s/web",
		args[0], protocol.DefaultAdminContext, protocol.DefaultRuntime, args[1], args[2], args[3])
	req, err := http.NewRequest(http.MethodGet, url, nil)
	ts.Check(err)
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ts.Fatalf("GET %s: status %s", url, resp.Status)
	}
	var body protocol.AdminResponse
	ts.Check(json.NewDecoder(resp.Body).Decode(&body))

	if body.Deployment == nil || !body.Deployment.Active {
		ts.Fatalf("GET %s: no active deployment", url)
	}
	if got := 1 + len(body.History); got != want {
		ts.Fatalf("GET %s: %d deployments, want %d", url, got, want)
	}
	for _, d := range body.History {
		if d.Active {
			ts.Fatalf("GET %s: history deployment with checksum %d is active too", url, d.Checksum)
		}
	}
	fmt.Fprintf(ts.Stdout(), "active checksum %d\n", body.Deployment.Checksum)
}
