package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/internal/cli"
)

// TestMain lets the test binary run as the mfpdev binary inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mfpdev": func() { os.Exit(int(cli.Main())) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script. Each script
// runs the real mfpdev binary in its own temporary folder, with $SAMPLE
// naming the committed sample Cordova project and no network beyond
// loopback.
func TestScripts(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("SAMPLE", sample)
			env.Setenv("MFPDEV_CONFIG", filepath.Join(env.WorkDir, ".config", "mfpdev.json"))
			env.Setenv("SOURCE_DATE_EPOCH", "")
			port, err := freePort()
			if err != nil {
				return err
			}
			env.Setenv("PORT", port)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cpdir":           cmdCopyDir,
			"waitready":       cmdWaitReady,
			"hostilezip":      cmdHostileZip,
			"validzip":        cmdValidZip,
			"countfiles":      cmdCountFiles,
			"mkkeystore":      cmdMakeKeystore,
			"nosecrets":       cmdNoSecrets,
			"bigfiles":        cmdBigFiles,
			"snapshot":        cmdSnapshot,
			"waitfile":        cmdWaitFile,
			"tarpit":          cmdTarpit,
			"sleeprandom":     cmdSleepRandom,
			"storeconsistent": cmdStoreConsistent,
		},
		RequireExplicitExec: true,
	})
}

// cmdCopyDir copies a folder tree: cpdir SRC DST.
func cmdCopyDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cpdir SRC DST")
	}
	src, dst := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	ts.Check(err)
}

// Script servers get ports from testPortFirst to testPortLast, below the
// Linux ephemeral range (32768 to 60999 by default). The kernel never hands
// these out for ":0", so another test cannot take one after freePort closes it.
const (
	testPortFirst = 10000
	testPortLast  = 19999
)

var (
	usedPortsMutex sync.Mutex
	usedPorts      = map[int]bool{}
)

// freePort returns a free TCP port on 127.0.0.1 for a server that a script
// starts. It never returns the same port twice in one test binary.
func freePort() (string, error) {
	usedPortsMutex.Lock()
	defer usedPortsMutex.Unlock()

	const count = testPortLast - testPortFirst + 1
	offset := rand.IntN(count)
	for i := range count {
		port := testPortFirst + (offset+i)%count
		if usedPorts[port] {
			continue
		}
		listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		listener.Close()
		usedPorts[port] = true
		return strconv.Itoa(port), nil
	}
	return "", fmt.Errorf("no free port on 127.0.0.1 from %d to %d: stop the servers that use them", testPortFirst, testPortLast)
}

// cmdWaitReady waits until GET URL returns 200, for at most 20 seconds:
// waitready URL.
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitready URL")
	}
	client := &http.Client{Timeout: time.Second}
	var lastErr error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get(args[0])
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		lastErr = fmt.Errorf("status %s", resp.Status)
	}
	ts.Fatalf("%s not ready after 20s: %v", args[0], lastErr)
}
