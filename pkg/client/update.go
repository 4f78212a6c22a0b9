package client

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Update runs the whole device procedure: check, download (resuming a
// partial download of the same archive), verify, unpack, swap. The result
// is never nil. The error is nil for UP_TO_DATE and SUCCESS; otherwise it
// is a *Failure whose Status equals the result's Status, and WWW still
// holds the tree it held before the call.
func (d *Device) Update(ctx context.Context, progress Progress) (*UpdateResult, error) {
	result := &UpdateResult{}
	fail := func(err error) (*UpdateResult, error) {
		failure := failureOf(err)
		if ctx.Err() != nil && failure.Status != StatusFailureIntegrity {
			failure = &Failure{Status: StatusCanceled, Err: failure.Err}
		}
		result.Status = failure.Status
		return result, failure
	}

	if err := d.validate(); err != nil {
		return fail(err)
	}
	st, err := openState(d.WWW)
	if err != nil {
		return fail(err)
	}
	lock, err := st.tryLock()
	if errors.Is(err, errLocked) {
		return fail(&Failure{Status: StatusFailureAlreadyInProgress, Err: err})
	}
	if err != nil {
		return fail(err)
	}
	defer lock.unlock()
	if err := st.recover(); err != nil {
		return fail(err)
	}

	// The folder's checksum is reported even when the check fails.
	if sum, err := d.CurrentChecksum(); err == nil {
		result.PreviousChecksum, result.Checksum = sum, sum
	}
	req, resp, err := d.check(ctx, st)
	if err != nil {
		return fail(checkFailure(ctx, err))
	}
	result.PreviousChecksum, result.Checksum = req.Checksum, req.Checksum
	result.Reason, result.Message, result.Type = resp.Reason, resp.Message, resp.Type
	if !resp.UpdateAvailable {
		result.Status = StatusUpToDate
		result.DeployedPluginVersion, result.DevicePluginVersion = resp.DeployedPluginVersion, resp.DevicePluginVersion
		return result, nil
	}
	if err := checkOffer(req, resp); err != nil {
		return fail(err)
	}

	n, err := d.fetchArchive(ctx, st, resp, progress)
	result.BytesDownloaded = n
	if err != nil {
		return fail(d.noteIntegrity(st, err))
	}

	signed, err := d.install(ctx, st, resp)
	if err != nil {
		return fail(d.noteIntegrity(st, err))
	}
	result.Status, result.Checksum, result.Signed = StatusSuccess, resp.Checksum, signed
	return result, nil
}

// checkFailure classifies a failed check request.
func checkFailure(ctx context.Context, err error) error {
	var httpErr *HTTPError
	switch {
	case ctx.Err() != nil:
		return &Failure{Status: StatusCanceled, Err: err}
	case errors.As(err, &httpErr) && httpErr.StatusCode >= 500:
		return &Failure{Status: StatusFailureNetworkProblem, Err: err}
	case errors.As(err, &httpErr):
		return &Failure{Status: StatusFailureUnknown, Err: err}
	case isTransportError(err):
		return &Failure{Status: StatusFailureNetworkProblem, Err: err}
	}
	return &Failure{Status: StatusFailureUnknown, Err: err}
}

// checkOffer rejects an update offer this client cannot act on.
func checkOffer(req *protocol.CheckRequest, resp *protocol.CheckResponse) error {
	switch {
	case resp.Type == protocol.TypeDelta && resp.BaseChecksum != req.Checksum:
		return &Failure{Status: StatusFailureUnknown,
			Err: fmt.Errorf("the server offers a delta from checksum %d, but the device has %d", resp.BaseChecksum, req.Checksum)}
	case resp.Type != "" && resp.Type != protocol.TypeFull && resp.Type != protocol.TypeDelta:
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("the server offers an update of unknown type %q", resp.Type)}
	case resp.DirectUpdateLink == "":
		return &Failure{Status: StatusFailureUnknown, Err: errors.New("the server offers an update without a download link")}
	case resp.PackedSize <= 0:
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("the server offers an archive of %d bytes", resp.PackedSize)}
	}
	return nil
}

// fetchArchive checks the free space, then downloads the archive.
func (d *Device) fetchArchive(ctx context.Context, st *state, resp *protocol.CheckResponse, progress Progress) (int64, error) {
	saved, err := st.load()
	if err != nil {
		return 0, err
	}
	have, _ := st.resumable(saved, targetOf(resp, ""))
	unpacked := resp.UnpackedSize
	if resp.Type == protocol.TypeDelta {
		// The files ddu.script lists are copied from the current tree, so
		// the new tree needs up to the current tree's size on top.
		size, err := treeSize(st.www)
		if err != nil {
			return 0, err
		}
		unpacked += size
	}
	if err := checkSpace(st.dir, resp.PackedSize-have, unpacked); err != nil {
		return 0, err
	}
	return d.download(ctx, st, resp, progress)
}

// install verifies the downloaded archive, unpacks it into a staging
// folder and swaps it in, then deletes the download and clears the
// integrity flag. It reports whether the archive carried a signature.
func (d *Device) install(ctx context.Context, st *state, resp *protocol.CheckResponse) (signed bool, err error) {
	path := st.path(downloadName)
	archive, err := d.verifyArchive(ctx, path, resp)
	if err != nil {
		return false, err
	}

	staging := fmt.Sprintf("%s%d", stagingStem, resp.Checksum)
	if err := os.RemoveAll(st.path(staging)); err != nil {
		return false, err
	}
	if err := unpack(ctx, path, st.path(staging), st.www, resp.Checksum); err != nil {
		os.RemoveAll(st.path(staging))
		return false, err
	}
	if err := ctx.Err(); err != nil {
		os.RemoveAll(st.path(staging))
		return false, &Failure{Status: StatusCanceled, Err: err}
	}

	// From here on the context is ignored: stopping half-way through the
	// swap would only leave work for the next run.
	if err := st.swap(staging, resp.Checksum); err != nil {
		return false, err
	}

	return archive.Signed, st.completeInstall(resp.Checksum)
}

// noteIntegrity sets the integrity-failure flag when err is
// FAILURE_INTEGRITY, and discards the archive that failed, then returns err.
func (d *Device) noteIntegrity(st *state, err error) error {
	if failureOf(err).Status != StatusFailureIntegrity {
		return err
	}
	os.Remove(st.path(downloadName))
	if saveErr := st.update(func(saved *savedState) {
		saved.Download = nil
		saved.IntegrityFailure = true
	}); saveErr != nil {
		return fmt.Errorf("%w (recording the integrity failure also failed: %v)", err, saveErr)
	}
	return err
}
