package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

func TestCheckResponsesEncodeAsJSON(t *testing.T) {
	var c checkResponses
	for _, resp := range []protocol.CheckResponse{
		{Reason: protocol.ReasonUpToDate, Message: "up to date", Checksum: 7},
		{UpdateAvailable: true, Reason: protocol.ReasonAvailable, Checksum: 8, PackedSize: 100, Type: protocol.TypeFull},
		{Reason: protocol.ReasonNoWebResources, Message: "no web resources are deployed for a b c"},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		for range 2 {
			got, err := c.encode(resp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encode(%s) = %s, want %s", resp.Reason, got, want)
			}
		}
	}
}

func TestCheckResponsesCacheOnlyDeploymentAnswers(t *testing.T) {
	var c checkResponses
	c.encode(protocol.CheckResponse{Reason: protocol.ReasonUpToDate, Checksum: 7})
	c.encode(protocol.CheckResponse{UpdateAvailable: true, Reason: protocol.ReasonAvailable, Checksum: 8})
	c.encode(protocol.CheckResponse{Reason: protocol.ReasonNoWebResources, Message: "no web resources are deployed for x"})
	c.encode(protocol.CheckResponse{Reason: protocol.ReasonPluginVersionMismatch, DevicePluginVersion: "1.2.3"})

	if n := len(c.encoded); n != 2 {
		t.Errorf("cached responses = %d, want 2 (up to date and the offer)", n)
	}
}

func TestCheckResponsesBoundEntries(t *testing.T) {
	var c checkResponses
	for i := range maxCachedResponses + 5 {
		c.encode(protocol.CheckResponse{Reason: protocol.ReasonUpToDate, Checksum: uint32(i)})
		d := store.Deployment{AppKey: store.AppKey{AppVersion: fmt.Sprint(i)}}
		c.link(d, func() string { return "link" })
	}
	if n := len(c.encoded); n > maxCachedResponses {
		t.Errorf("cached responses = %d, want at most %d", n, maxCachedResponses)
	}
	if n := len(c.links); n > maxCachedResponses {
		t.Errorf("cached links = %d, want at most %d", n, maxCachedResponses)
	}
}

func TestCheckResponsesLinkPerDeployment(t *testing.T) {
	var c checkResponses
	builds := 0
	for _, checksum := range []uint32{1, 1, 2, 2} {
		d := store.Deployment{AppKey: store.AppKey{Runtime: "mfp", AppID: "a", Platform: "android", AppVersion: "1.0"}, Checksum: checksum}
		got := c.link(d, func() string {
			builds++
			return fmt.Sprint("link-", checksum)
		})
		if want := fmt.Sprint("link-", checksum); got != want {
			t.Errorf("link for checksum %d = %q, want %q", checksum, got, want)
		}
	}
	if builds != 2 {
		t.Errorf("links built %d times, want 2 (once per checksum)", builds)
	}
}
