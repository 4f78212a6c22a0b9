package server

import (
	"strings"
	"testing"
	"time"
)

func TestStartAbuseLimitFlags(t *testing.T) {
	opts, err := parseStart(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.AuthFailuresPerMinute != 10 {
		t.Errorf("default AuthFailuresPerMinute = %d, expected 10", opts.AuthFailuresPerMinute)
	}
	if opts.ReadHeaderTimeout != 10*time.Second || opts.BodyTimeout != 30*time.Second {
		t.Errorf("default timeouts = %s, %s, expected 10s, 30s", opts.ReadHeaderTimeout, opts.BodyTimeout)
	}

	opts, err = parseStart(t, nil, "--auth-failures-per-minute", "0", "--read-header-timeout", "2s", "--body-timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	if got := authFailuresPerMinute(opts.AuthFailuresPerMinute); got != -1 {
		t.Errorf("--auth-failures-per-minute 0 gives Config value %d, expected -1 (no limit)", got)
	}
	if opts.ReadHeaderTimeout != 2*time.Second || opts.BodyTimeout != 5*time.Second {
		t.Errorf("timeouts = %s, %s, expected 2s, 5s", opts.ReadHeaderTimeout, opts.BodyTimeout)
	}

	for _, args := range [][]string{
		{"--auth-failures-per-minute", "-1"},
		{"--read-header-timeout", "0s"},
		{"--body-timeout", "-1s"},
	} {
		if _, err := parseStart(t, nil, args...); err == nil {
			t.Errorf("%v accepted, expected a usage error", args)
		}
	}
}

func TestStartCompressionRatioFlag(t *testing.T) {
	opts, err := parseStart(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.MaxCompressionRatio != 200 {
		t.Errorf("default MaxCompressionRatio = %d, expected 200", opts.MaxCompressionRatio)
	}

	opts, err = parseStart(t, nil, "--max-compression-ratio", "1000")
	if err != nil {
		t.Fatal(err)
	}
	if opts.MaxCompressionRatio != 1000 {
		t.Errorf("MaxCompressionRatio = %d, expected 1000", opts.MaxCompressionRatio)
	}
	if _, err := parseStart(t, nil, "--max-compression-ratio", "0"); err == nil {
		t.Error("--max-compression-ratio 0 accepted, expected a usage error")
	}
}

func TestStartTrustedProxyFlag(t *testing.T) {
	opts, err := parseStart(t, nil, "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1,::1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range opts.TrustedProxies {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 127.0.0.1/32 ::1/128"; strings.Join(got, " ") != want {
		t.Errorf("TrustedProxies = %v, expected %s", got, want)
	}

	for _, value := range []string{"proxy.example.com", "10.0.0.0/33"} {
		if _, err := parseStart(t, nil, "--trusted-proxy", value); err == nil {
			t.Errorf("--trusted-proxy %q accepted, expected a usage error", value)
		}
	}
}
