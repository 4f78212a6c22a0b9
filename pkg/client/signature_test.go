package client

import (
	"testing"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

func TestUpdateVerifiesSignature(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	signed := buildArchive(t, filesV2, testPlugin, key)
	unsigned := buildArchive(t, filesV2, testPlugin, nil)
	byOther := buildArchive(t, filesV2, testPlugin, other)
	tampered := buildArchive(t, filesV2, testPlugin, key)
	// Inside the signed bytes but outside the comment, with the announced
	// SHA-256 matching, so only the signature can catch it.
	tampered.Bytes[len(tampered.Bytes)-600] ^= 0x01
	tampered.SHA256 = sha256Hex(tampered.Bytes)

	tests := []struct {
		name    string
		archive testArchive
		want    Status
	}{
		{"signed with the key", signed, StatusSuccess},
		{"unsigned", unsigned, StatusFailureIntegrity},
		{"signed with another key", byOther, StatusFailureIntegrity},
		{"tampered after signing", tampered, StatusFailureIntegrity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, tt.archive, serveArchive(tt.archive.Bytes))
			www, _ := deviceFolder(t, filesV1)
			before := snapshot(t, www)
			d := newDevice(www, fake.URL)
			d.PublicKey = &key.PublicKey

			mustUpdate(t, d, tt.want)
			if tt.want == StatusSuccess {
				assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
			} else {
				assertSameTree(t, snapshot(t, www), before)
			}
		})
	}
}

func TestUpdateReportsSigned(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		archive testArchive
		want    bool
	}{
		{"signed", buildArchive(t, filesV2, testPlugin, key), true},
		{"unsigned", buildArchive(t, filesV2, testPlugin, nil), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, tt.archive, serveArchive(tt.archive.Bytes))
			www, _ := deviceFolder(t, filesV1)
			// Without a PublicKey, the result still reports whether there was a signature.
			result := mustUpdate(t, newDevice(www, fake.URL), StatusSuccess)
			if result.Signed != tt.want {
				t.Errorf("Signed = %v, want %v", result.Signed, tt.want)
			}
		})
	}
}
