package store

import (
	"fmt"
	"time"
)

// DeltaState is the outcome of one delta build.
type DeltaState string

// Delta build outcomes.
const (
	// DeltaBuilt means the delta archive is in the blob store under
	// DeltaBuild.SHA256.
	DeltaBuilt DeltaState = "built"
	// DeltaSkipped means no delta archive was kept because it would save
	// too little. DeltaBuild.Reason contains the sizes compared.
	DeltaSkipped DeltaState = "skipped"
	// DeltaFailed means the last build failed. DeltaBuild.Reason contains
	// the error, and the next try waits for a time after DeltaBuild.UpdatedAt.
	DeltaFailed DeltaState = "failed"
)

// DeltaKey names one delta archive: the archives it leads from and to
// (their blob keys, so that new archive bytes never get a stale delta),
// the signing key that signs it and the layout it is built in.
type DeltaKey struct {
	AppKey
	BaseSHA256   string
	TargetSHA256 string
	// KeyID is "unsigned" or names the key that signs the delta.
	KeyID string
	// Format names the delta layout and diff rules, so that a new format
	// builds every delta again.
	Format string
}

func (k DeltaKey) String() string {
	return fmt.Sprintf("%s from %s to %s (key %s, format %s)", k.AppKey, k.BaseSHA256, k.TargetSHA256, k.KeyID, k.Format)
}

// DeltaBuild is the delta index entry of one DeltaKey. Every server
// instance sharing the metadata reads it, so a delta is built once.
type DeltaBuild struct {
	DeltaKey
	BaseChecksum   uint32
	TargetChecksum uint32
	State          DeltaState
	// SHA256 is the delta archive's blob key, empty unless State is
	// DeltaBuilt.
	SHA256       string
	PackedSize   int64
	UnpackedSize int64
	// MinSavings is the minimum savings in percent a skipped delta
	// missed, or 0.
	MinSavings int
	// Reason is the cause of a skipped or failed build.
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
}
