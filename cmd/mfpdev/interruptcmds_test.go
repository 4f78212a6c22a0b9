package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdBigFiles writes COUNT files of SIZE bytes of poorly compressible
// text into DIR, so that building an archive of them takes a while:
// bigfiles DIR COUNT SIZE.
func cmdBigFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: bigfiles DIR COUNT SIZE")
	}
	dir := ts.MkAbs(args[0])
	count, err := strconv.Atoi(args[1])
	ts.Check(err)
	size, err := strconv.Atoi(args[2])
	ts.Check(err)
	ts.Check(os.MkdirAll(dir, 0o755))

	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	rng := rand.New(rand.NewPCG(uint64(count), uint64(size)))
	buf := make([]byte, size)
	for i := range count {
		for j := range buf {
			buf[j] = letters[rng.IntN(len(letters))]
		}
		ts.Check(os.WriteFile(filepath.Join(dir, fmt.Sprintf("big%04d.txt", i)), buf, 0o644))
	}
}

// cmdSnapshot writes one line per file and folder under DIR (path, mode
// type and SHA-256) to OUT, so that cmp can tell whether a tree changed:
// snapshot DIR OUT.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: snapshot DIR OUT")
	}
	root := ts.MkAbs(args[0])

	var lines []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			lines = append(lines, fmt.Sprintf("%s %v", rel, d.Type()))
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		lines = append(lines, rel+" "+hex.EncodeToString(h.Sum(nil)))
		return nil
	})
	ts.Check(err)

	sort.Strings(lines)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// cmdWaitFile waits up to 60 seconds for a file whose name matches the
// glob PATTERN to exist: waitfile PATTERN.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATTERN")
	}
	pattern := ts.MkAbs(args[0])
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if matches, _ := filepath.Glob(pattern); len(matches) > 0 {
			return
		}
	}
	ts.Fatalf("no file matches %s after 60 s", args[0])
}

// cmdTarpit starts an HTTP server on loopback that reads requests and
// never responds, and sets $TARPIT_URL to it. Each connection that sends
// bytes creates $WORK/tarpit.connected. The server stops with the script:
// tarpit.
func cmdTarpit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: tarpit")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	marker := ts.MkAbs("tarpit.connected")

	done := make(chan struct{})
	ts.Defer(func() {
		close(done)
		ln.Close()
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := conn.Read(buf)
					if n > 0 {
						os.WriteFile(marker, nil, 0o644)
					}
					if err != nil {
						return
					}
					select {
					case <-done:
						return
					default:
					}
				}
			}()
		}
	}()

	ts.Setenv("TARPIT_URL", "http://"+ln.Addr().String())
}
