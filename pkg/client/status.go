package client

import (
	"errors"
	"fmt"
	"syscall"
)

// Status is the outcome of Update, named as cordova-plugin-mfp reports it.
type Status string

// Update outcomes.
const (
	// StatusUpToDate means there was nothing to apply. UpdateResult.Reason
	// gives the cause: up-to-date, no-web-resources or plugin-version-mismatch.
	StatusUpToDate Status = "UP_TO_DATE"
	// StatusSuccess means the new web resources are in place.
	StatusSuccess Status = "SUCCESS"
	// StatusCanceled means the context ended; a partial download is kept.
	StatusCanceled                 Status = "CANCELED"
	StatusFailureNetworkProblem    Status = "FAILURE_NETWORK_PROBLEM"
	StatusFailureDownloading       Status = "FAILURE_DOWNLOADING"
	StatusFailureNotEnoughSpace    Status = "FAILURE_NOT_ENOUGH_SPACE"
	StatusFailureUnzipping         Status = "FAILURE_UNZIPPING"
	StatusFailureAlreadyInProgress Status = "FAILURE_ALREADY_IN_PROGRESS"
	StatusFailureIntegrity         Status = "FAILURE_INTEGRITY"
	StatusFailureUnknown           Status = "FAILURE_UNKNOWN"
)

// Failed reports whether s is CANCELED or one of the FAILURE_… statuses.
func (s Status) Failed() bool { return s != StatusUpToDate && s != StatusSuccess }

// UpdateResult describes what Update did.
type UpdateResult struct {
	Status Status `json:"status"`
	// Checksum is the checksum of the web resources at WWW when Update
	// returns: the new one after SUCCESS, the unchanged one otherwise.
	Checksum uint32 `json:"checksum"`
	// PreviousChecksum is the checksum the device reported to the server.
	PreviousChecksum uint32 `json:"previousChecksum"`
	// BytesDownloaded counts the archive bytes received by this call,
	// not those of a partial download it resumed.
	BytesDownloaded int64 `json:"bytesDownloaded"`
	// Type is the update type the server offered (full or delta).
	Type string `json:"type,omitempty"`
	// Signed is true after SUCCESS when the applied archive carried a
	// signature, whether or not Device.PublicKey checked it.
	Signed bool `json:"signed,omitempty"`
	// Reason is the check response's reason, and Message its explanation.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// DeployedPluginVersion and DevicePluginVersion are set when Reason is
	// plugin-version-mismatch.
	DeployedPluginVersion string `json:"deployedPluginVersion,omitempty"`
	DevicePluginVersion   string `json:"devicePluginVersion,omitempty"`
}

// Failure is the error Update returns with a CANCELED or FAILURE_… status.
type Failure struct {
	Status Status
	Err    error
}

func (f *Failure) Error() string { return fmt.Sprintf("%s: %v", f.Status, f.Err) }
func (f *Failure) Unwrap() error { return f.Err }

// failureOf returns err's Failure, or wraps err as FAILURE_UNKNOWN.
func failureOf(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Status: StatusFailureUnknown, Err: err}
}

// diskFailure classifies an error writing to disk.
func diskFailure(err error) *Failure {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &Failure{Status: StatusFailureNotEnoughSpace, Err: err}
	}
	return &Failure{Status: StatusFailureUnknown, Err: err}
}
