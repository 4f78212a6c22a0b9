package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// Size of the load test. Every loop is bounded by a count as well as by
// the push schedule, so the test stops by itself.
const (
	loadDevices = 200
	// loadPushes archives are uploaded one after the other while the
	// devices run, loadPushInterval apart.
	loadPushes       = 6
	loadPushInterval = 400 * time.Millisecond
	// loadMaxRounds bounds the check-and-update rounds of one device.
	loadMaxRounds = 40
	// loadMaxHeapGrowth bounds how much the server's heap in use may grow
	// between before and after the load, in bytes.
	loadMaxHeapGrowth = 32 << 20
	// loadMaxRSS bounds the server's resident memory after the load, and
	// its peak resident memory where /proc shows it, in bytes.
	loadMaxRSS = 256 << 20
)

// loadServerEnv names the data folder of the server process that
// TestLoadServerProcess runs for TestLoadDevicesDuringPushes.
const loadServerEnv = "MFPDEV_LOAD_TEST_SERVER_DATA"

// TestLoadServerProcess is not a test: TestLoadDevicesDuringPushes runs the
// test binary again with only this function, so the server has a process
// of its own whose memory can be measured. It prints its address on
// stdout and serves until stdin is closed.
func TestLoadServerProcess(t *testing.T) {
	dataDir := os.Getenv(loadServerEnv)
	if dataDir == "" {
		t.Skip("runs only as the server process of TestLoadDevicesDuringPushes")
	}

	s, err := server.New(server.Config{DataDir: dataDir, Users: testUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr().String())

	// The server stops when the parent closes stdin or dies, and after
	// two minutes at the latest.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := s.Serve(ctx, ln); err != nil {
		t.Fatal(err)
	}
}

// startServerProcess starts TestLoadServerProcess in a child process and
// returns the server's URL and its process id.
func startServerProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), loadServerEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("server process: %v", err)
		}
	})

	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read the server process's address: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	return "http://" + strings.TrimSpace(addr), cmd.Process.Pid
}

// serverMemory returns the server's heap in use and resident set size in
// bytes, from go_memstats_heap_inuse_bytes and
// process_resident_memory_bytes of its /metrics. The RSS is 0 where the
// process collector cannot read it, as on macOS.
func serverMemory(t *testing.T, url string) (heapInuse, rss float64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			values[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	heapInuse, ok := values["go_memstats_heap_inuse_bytes"]
	if !ok {
		t.Fatal("/metrics has no go_memstats_heap_inuse_bytes")
	}
	return heapInuse, values["process_resident_memory_bytes"]
}

// peakRSS returns the peak resident set size of process pid in bytes
// (VmHWM of /proc/PID/status), and false where /proc does not show it.
func peakRSS(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) == 3 && fields[0] == "VmHWM:" && fields[2] == "kB" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			return kib << 10, err == nil
		}
	}
	return 0, false
}

// newLoadDevice copies a www tree whose checksum.js carries checksum 0,
// which no archive has, into its own folder and returns a Device on it.
func newLoadDevice(t *testing.T, root string, i int, serverURL string, httpClient *http.Client) *client.Device {
	t.Helper()
	www := filepath.Join(root, fmt.Sprintf("device-%03d", i), "www")
	files := map[string][]byte{
		"index.html":                 []byte("<html><body>installed</body></html>\n"),
		webres.ChecksumJSPath:        webres.ChecksumJS(0, time.Unix(1700000000, 0)),
		"js/index.js":                []byte("console.log('installed');\n"),
		"cordova_plugins.js":         []byte("module.exports = [];\n"),
		"plugins/some-plugin/www.js": []byte("// plugin\n"),
	}
	for p, content := range files {
		full := filepath.Join(www, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &client.Device{
		WWW: www, AppID: appID, Platform: platform, AppVersion: appVersion, PluginVersion: pluginVersion,
		HTTPClient: httpClient, ServerURL: serverURL,
	}
}

// loadCounts are the outcomes of the devices' requests.
type loadCounts struct {
	checks, updated, upToDate, failed atomic.Int64
}

// TestLoadDevicesDuringPushes runs 200 devices that check and update
// against a server process while six archives are uploaded one after the
// other. It takes about 10 s, so -short skips it.
func TestLoadDevicesDuringPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	serverURL, pid := startServerProcess(t)
	ts := &testServer{URL: serverURL}

	archives := make([]archive, loadPushes)
	for i := range archives {
		archives[i] = buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles(fmt.Sprintf("push %d", i)), nil)
	}
	deployed := map[uint32]bool{}
	upload(t, ts, archives[0], appID, platform, appVersion)
	deployed[archives[0].Checksum] = true

	httpClient := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: loadDevices, IdleConnTimeout: time.Minute},
		Timeout:   30 * time.Second,
	}
	defer httpClient.CloseIdleConnections()
	root := t.TempDir()
	devices := make([]*client.Device, loadDevices)
	for i := range devices {
		devices[i] = newLoadDevice(t, root, i, serverURL, httpClient)
	}

	heapBefore, rssBefore := serverMemory(t, serverURL)
	start := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var counts loadCounts
	var firstErrors sync.Map
	// Closing pushing signals the devices that the last push is done. The
	// deferred call also releases them when an upload fails the test.
	pushing := make(chan struct{})
	stopPushing := sync.OnceFunc(func() { close(pushing) })
	defer stopPushing()
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLoadDevice(ctx, d, i, pushing, &counts, &firstErrors)
		}()
	}

	for _, a := range archives[1:] {
		time.Sleep(loadPushInterval)
		upload(t, ts, a, appID, platform, appVersion)
		deployed[a.Checksum] = true
	}
	stopPushing()
	wg.Wait()
	elapsed := time.Since(start)

	firstErrors.Range(func(key, value any) bool {
		t.Errorf("device %d: %v", key, value)
		return true
	})
	if n := counts.failed.Load(); n != 0 {
		t.Errorf("%d failed requests, want 0", n)
	}

	last := archives[len(archives)-1].Checksum
	for i, d := range devices {
		tree, err := webres.Scan(context.Background(), d.WWW)
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		sum, err := tree.Sum(context.Background())
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		if !deployed[sum.Checksum] {
			t.Errorf("device %d: tree checksum %d is not a deployed one", i, sum.Checksum)
		}
		if sum.Checksum != last {
			t.Errorf("device %d: tree checksum %d, want the last deployed %d", i, sum.Checksum, last)
		}
	}

	heapAfter, rssAfter := serverMemory(t, serverURL)
	t.Logf("%d devices, %d pushes in %s: %d checks, %d updates, %d up to date, %d failed",
		loadDevices, loadPushes, elapsed.Round(time.Millisecond), counts.checks.Load(), counts.updated.Load(),
		counts.upToDate.Load(), counts.failed.Load())
	t.Logf("server heap in use %.1f MiB before, %.1f MiB after; RSS %.1f MiB before, %.1f MiB after",
		heapBefore/(1<<20), heapAfter/(1<<20), rssBefore/(1<<20), rssAfter/(1<<20))
	if heapAfter-heapBefore > loadMaxHeapGrowth {
		t.Errorf("server heap in use grew by %.1f MiB, want at most %d MiB", (heapAfter-heapBefore)/(1<<20), loadMaxHeapGrowth>>20)
	}
	if rssAfter > loadMaxRSS {
		t.Errorf("server RSS %.1f MiB after the load, want at most %d MiB", rssAfter/(1<<20), loadMaxRSS>>20)
	}
	if peak, ok := peakRSS(pid); ok {
		t.Logf("server peak RSS %.1f MiB", float64(peak)/(1<<20))
		if peak > loadMaxRSS {
			t.Errorf("server peak RSS %.1f MiB, want at most %d MiB", float64(peak)/(1<<20), loadMaxRSS>>20)
		}
	}
}

// runLoadDevice checks and updates one device in rounds until the pushes
// are over, then updates it once more so it ends on the last deployment.
func runLoadDevice(ctx context.Context, d *client.Device, i int, pushing <-chan struct{}, counts *loadCounts, firstErrors *sync.Map) {
	rng := rand.New(rand.NewPCG(uint64(i), 1))
	fail := func(err error) {
		counts.failed.Add(1)
		firstErrors.LoadOrStore(i, err)
	}
	update := func() {
		result, err := d.Update(ctx, nil)
		switch {
		case err != nil:
			fail(err)
		case result.Status == client.StatusSuccess:
			counts.updated.Add(1)
		default:
			counts.upToDate.Add(1)
		}
	}

	for range loadMaxRounds {
		select {
		case <-pushing:
			update()
			return
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(20+rng.IntN(80)) * time.Millisecond):
		}

		if _, err := d.Check(ctx); err != nil {
			fail(err)
		}
		counts.checks.Add(1)
		update()
	}
	select {
	case <-pushing:
		update()
	case <-ctx.Done():
	}
}
