package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mfpdev/mfpdev/internal/store"
)

func deltaKeyOf(base, target *store.Deployment) store.DeltaKey {
	return store.DeltaKey{AppKey: key, BaseSHA256: base.SHA256, TargetSHA256: target.SHA256, KeyID: "unsigned", Format: "d1"}
}

func TestDeltaBuildPutFindDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, _ := b.open(t, t.TempDir())
		base, target := deployment(1, []byte("base")), deployment(2, []byte("target"))
		k := deltaKeyOf(base, target)

		if _, err := meta.DeltaBuild(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DeltaBuild before any build: err = %v, want ErrNotFound", err)
		}

		failed := store.DeltaBuild{DeltaKey: k, BaseChecksum: 1, TargetChecksum: 4000000000, State: store.DeltaFailed, Reason: "disk full"}
		if err := meta.PutDeltaBuild(ctx, &failed); err != nil {
			t.Fatal(err)
		}
		built := store.DeltaBuild{DeltaKey: k, BaseChecksum: 1, TargetChecksum: 4000000000, State: store.DeltaBuilt,
			SHA256: sha([]byte("delta")), PackedSize: 5, UnpackedSize: 9}
		if err := meta.PutDeltaBuild(ctx, &built); err != nil {
			t.Fatal(err)
		}
		if built.CreatedAt != failed.CreatedAt || built.UpdatedAt.Before(failed.UpdatedAt) {
			t.Errorf("times after replacing = created %v updated %v, want created %v kept and updated not before %v",
				built.CreatedAt, built.UpdatedAt, failed.CreatedAt, failed.UpdatedAt)
		}

		// A build that failed on another instance never hides a built delta.
		if err := meta.PutDeltaBuild(ctx, &store.DeltaBuild{DeltaKey: k, BaseChecksum: 1, TargetChecksum: 4000000000,
			State: store.DeltaFailed, Reason: "cancelled"}); err != nil {
			t.Fatal(err)
		}
		got, err := meta.DeltaBuild(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if got != built {
			t.Errorf("DeltaBuild = %+v, want %+v", got, built)
		}

		other := k
		other.KeyID = "0123456789abcdef"
		if _, err := meta.DeltaBuild(ctx, other); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeltaBuild with another signing key: err = %v, want ErrNotFound", err)
		}

		if err := meta.DeleteDeltaBuild(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := meta.DeltaBuild(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeltaBuild after DeleteDeltaBuild: err = %v, want ErrNotFound", err)
		}
		if err := meta.DeleteDeltaBuild(ctx, k); err != nil {
			t.Errorf("second DeleteDeltaBuild: %v", err)
		}
	})
}

func TestRemoveUnreferencedKeepsBuiltDeltas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, blobs := b.open(t, t.TempDir())
		base, target := []byte("base"), []byte("target")
		keptDelta, orphanDelta := []byte("delta kept"), []byte("delta of a deleted base")
		for _, content := range [][]byte{base, target, keptDelta, orphanDelta} {
			if err := blobs.Put(ctx, sha(content), bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
		}
		// Two bases lead to one target, and the second base is deleted.
		d1, d2, d3 := deployment(1, base), deployment(2, []byte("deleted base")), deployment(3, target)
		for _, d := range []*store.Deployment{d1, d2, d3} {
			if err := meta.Insert(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		keptKey, goneKey := deltaKeyOf(d1, d3), deltaKeyOf(d2, d3)
		for _, build := range []store.DeltaBuild{
			{DeltaKey: keptKey, BaseChecksum: 1, TargetChecksum: 3, State: store.DeltaBuilt, SHA256: sha(keptDelta)},
			{DeltaKey: goneKey, BaseChecksum: 2, TargetChecksum: 3, State: store.DeltaBuilt, SHA256: sha(orphanDelta)},
		} {
			if err := meta.PutDeltaBuild(ctx, &build); err != nil {
				t.Fatal(err)
			}
		}
		if err := meta.Delete(ctx, d2.ID); err != nil {
			t.Fatal(err)
		}

		removed, err := store.RemoveUnreferenced(ctx, meta, blobs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(removed, []string{sha(orphanDelta)}) {
			t.Errorf("removed = %v, want only the delta of the deleted base %s", removed, sha(orphanDelta))
		}
		if _, err := meta.DeltaBuild(ctx, goneKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("index entry of the deleted base: err = %v, want ErrNotFound", err)
		}
		if _, err := meta.DeltaBuild(ctx, keptKey); err != nil {
			t.Errorf("index entry of the kept delta: %v", err)
		}
		keys, err := blobs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{sha(base), sha(target), sha(keptDelta)}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("blobs left = %v, want %v", keys, want)
		}
	})
}

func TestDeltaBuildConcurrentPuts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dir := t.TempDir()
		first, _ := b.open(t, dir)
		second, _ := b.open(t, dir)
		base, target := deployment(1, []byte("base")), deployment(2, []byte("target"))
		k := deltaKeyOf(base, target)
		built := store.DeltaBuild{DeltaKey: k, BaseChecksum: 1, TargetChecksum: 2, State: store.DeltaBuilt,
			SHA256: sha([]byte("delta")), PackedSize: 5, UnpackedSize: 9}

		// Two instances that build the same delta store it at the same time.
		errs := make(chan error, 8)
		for i := range cap(errs) {
			meta := first
			if i%2 == 1 {
				meta = second
			}
			go func() {
				entry := built
				errs <- meta.PutDeltaBuild(ctx, &entry)
			}()
		}
		for range cap(errs) {
			if err := <-errs; err != nil {
				t.Errorf("PutDeltaBuild: %v", err)
			}
		}

		got, err := second.DeltaBuild(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.DeltaBuilt || got.SHA256 != built.SHA256 {
			t.Errorf("DeltaBuild = %+v, want the built delta %s", got, built.SHA256)
		}
	})
}
