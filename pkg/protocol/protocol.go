// Package protocol defines the JSON documents and URL paths that the update
// server, the CLI and device clients exchange. Field names are a contract:
// the device check response carries the names MobileFirst's direct-update
// challenge uses (checksum, packedSize, unpackedSize, directUpdateLink,
// DirectUpdateProtocolVersion), and the admin responses follow the shape of
// MobileFirst's management API (ok, productVersion, transaction).
package protocol

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults of a MobileFirst-style server.
const (
	DefaultRuntime      = "mfp"
	DefaultAdminContext = "mfpadmin"
	DefaultServerURL    = "http://localhost:9080"
	DefaultAddr         = "127.0.0.1:9080"
	// ProtocolVersion is the DirectUpdateProtocolVersion the server announces.
	ProtocolVersion = "v1"
	// ZipContentType is the only Content-Type a device accepts for an archive.
	ZipContentType = "application/zip"
)

// Update types announced by a check and used in download links.
const (
	TypeFull  = "full"
	TypeDelta = "delta"
)

// Reasons a check response gives.
const (
	ReasonAvailable             = "available"
	ReasonUpToDate              = "up-to-date"
	ReasonNoWebResources        = "no-web-resources"
	ReasonPluginVersionMismatch = "plugin-version-mismatch"
)

// CheckRequest is the body a device POSTs to CheckPath.
type CheckRequest struct {
	AppID      string `json:"appId"`
	Platform   string `json:"platform"`
	AppVersion string `json:"appVersion"`
	// Checksum is the web-resources checksum the device's checksum.js carries.
	Checksum      uint32 `json:"checksum"`
	PluginVersion string `json:"pluginVersion"`
	// IntegrityFailure is true after the device's last update failed its
	// integrity check; the server then offers the full archive.
	IntegrityFailure bool `json:"integrityFailure,omitempty"`
}

// CheckResponse is the server's response to a CheckRequest.
type CheckResponse struct {
	UpdateAvailable bool `json:"updateAvailable"`
	// Reason is one of the Reason… constants.
	Reason string `json:"reason"`
	// Message explains Reason in a sentence, with the values involved.
	Message string `json:"message,omitempty"`
	// Checksum is the deployed web resources' checksum.
	Checksum uint32 `json:"checksum,omitempty"`
	// PackedSize is the archive's size in bytes.
	PackedSize int64 `json:"packedSize,omitempty"`
	// UnpackedSize is the sum of the sizes of the archive's files in bytes.
	UnpackedSize int64 `json:"unpackedSize,omitempty"`
	// DirectUpdateLink is relative to the runtime root (for example
	// "api/directupdate/1.0.0/123/full?appId=…&clientPlatform=android"),
	// or absolute when the server has a download base URL.
	DirectUpdateLink            string `json:"directUpdateLink,omitempty"`
	DirectUpdateProtocolVersion string `json:"DirectUpdateProtocolVersion,omitempty"`
	// Type is TypeFull or TypeDelta.
	Type string `json:"type,omitempty"`
	// BaseChecksum is the checksum a delta applies to.
	BaseChecksum uint32 `json:"baseChecksum,omitempty"`
	// DeployedPluginVersion and DevicePluginVersion are set with
	// ReasonPluginVersionMismatch.
	DeployedPluginVersion string `json:"deployedPluginVersion,omitempty"`
	DevicePluginVersion   string `json:"devicePluginVersion,omitempty"`
	// SHA256 is the hex SHA-256 of the archive the link serves.
	SHA256 string `json:"sha256,omitempty"`
}

// CheckPath returns the path of the device check route of runtime.
func CheckPath(runtime string) string {
	return "/" + runtime + "/api/directupdate/check"
}

// DownloadLink returns the download link of an archive relative to the
// runtime root. The link names the content (app version and checksum, and
// the base checksum of a delta), so a cache may keep it forever.
func DownloadLink(appID, platform, appVersion string, checksum uint32, updateType string, baseChecksum uint32) string {
	q := url.Values{}
	q.Set("appId", appID)
	q.Set("clientPlatform", platform)
	if updateType == TypeDelta {
		q.Set("base", fmt.Sprint(baseChecksum))
	}
	return fmt.Sprintf("api/directupdate/%s/%d/%s?%s", url.PathEscape(appVersion), checksum, updateType, q.Encode())
}

// AdminWebPath returns the admin path of the web resources of one app version.
func AdminWebPath(adminContext, runtime, appID, platform, appVersion string) string {
	return fmt.Sprintf("/%s/management-apis/2.0/runtimes/%s/applications/%s/%s/%s/web",
		strings.Trim(adminContext, "/"), url.PathEscape(runtime), url.PathEscape(appID),
		url.PathEscape(platform), url.PathEscape(appVersion))
}

// AdminResponse is the body of every admin API response.
type AdminResponse struct {
	OK             bool         `json:"ok"`
	ProductVersion string       `json:"productVersion"`
	Transaction    *Transaction `json:"transaction,omitempty"`
	// Deployment is set by uploads and by GET on a web resources path.
	Deployment *Deployment `json:"deployment,omitempty"`
	// Unchanged is set by an upload of the archive that is already the
	// active deployment: the server stored nothing new.
	Unchanged bool `json:"unchanged,omitempty"`
	// History lists earlier deployments of the same app version, newest first.
	History []Deployment `json:"history,omitempty"`
	// Runtimes is set by GET …/runtimes.
	Runtimes []Runtime `json:"runtimes,omitempty"`
	// Applications is set by GET …/runtimes/{runtime}/applications.
	Applications []Application `json:"applications,omitempty"`
}

// Transaction reports the outcome of an admin operation.
type Transaction struct {
	ID     string `json:"id,omitempty"`
	Status string `json:"status"` // SUCCESS or FAILURE
	Type   string `json:"type"`   // UPLOAD_ARTIFACT, DELETE_ARTIFACT, …
	// Errors is set when Status is FAILURE.
	Errors []TransactionError `json:"errors,omitempty"`
}

// TransactionError is one reason an admin operation failed.
type TransactionError struct {
	Details string `json:"details"`
}

// Deployment describes one uploaded web-resources archive.
type Deployment struct {
	Runtime         string    `json:"runtime"`
	AppID           string    `json:"appId"`
	Platform        string    `json:"platform"`
	AppVersion      string    `json:"appVersion"`
	PluginVersion   string    `json:"pluginVersion"`
	PlatformVersion string    `json:"platformVersion,omitempty"`
	Checksum        uint32    `json:"checksum"`
	Size            int64     `json:"size"`
	Files           int       `json:"files"`
	PackedSize      int64     `json:"packedSize"`
	SHA256          string    `json:"sha256"`
	Signed          bool      `json:"signed"`
	DeployedAt      time.Time `json:"deployedAt"`
	// Active is false once the deployment is deleted or superseded.
	Active bool `json:"active"`
	// UnpackedSize is the sum of the sizes of the files under www/ in the
	// archive, in bytes.
	UnpackedSize int64 `json:"unpackedSize"`
	// DeployedBy is the admin user who uploaded the archive.
	DeployedBy string `json:"deployedBy,omitempty"`
}

// Runtime is one entry of the runtimes list.
type Runtime struct {
	Name string `json:"name"`
}

// Application lists the deployed versions of one app on one platform.
type Application struct {
	AppID    string   `json:"appId"`
	Platform string   `json:"platform"`
	Versions []string `json:"versions"`
}
