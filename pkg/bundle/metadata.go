package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MetadataName is the name of the metadata file at the zip root, beside
// the www/ folder. Devices ignore it.
const MetadataName = "mfpdev-metadata.json"

// DDUScriptName is the name of the delta script at the zip root of a delta
// archive. Each of its lines that starts with "/www/" names a file the
// device copies from its current web resources.
const DDUScriptName = "ddu.script"

// FormatVersion is the metadata format version this package writes and
// reads.
const FormatVersion = 1

// Metadata describes the web resources in an archive. The JSON field names
// and their order are part of the archive format.
type Metadata struct {
	FormatVersion   int    `json:"formatVersion"`
	AppID           string `json:"appId"`
	Platform        string `json:"platform"`
	AppVersion      string `json:"appVersion"`
	PluginVersion   string `json:"pluginVersion"`
	PlatformVersion string `json:"platformVersion"`

	// Checksum and Size are the web-resources checksum and the sum of the
	// raw sizes of the files it covers, filelist included.
	Checksum uint32 `json:"checksum"`
	Size     int64  `json:"size"`

	// Files is the number of files under www/ in the archive, and
	// UnpackedSize the sum of their sizes in bytes.
	Files        int   `json:"files"`
	UnpackedSize int64 `json:"unpackedSize"`

	// CreatedBy names the tool that wrote the archive ("mfpdev 1.2.3").
	CreatedBy string `json:"createdBy,omitempty"`

	// Digests lists every file under www/, in checksum order.
	Digests []FileDigest `json:"digests"`

	// BaseChecksum is set in a delta archive only: the web-resources
	// checksum of the tree the delta applies to.
	BaseChecksum *uint32 `json:"baseChecksum,omitempty"`
}

// FileDigest is the size and SHA-256 of one file under www/.
type FileDigest struct {
	Path   string `json:"path"` // relative to www/
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lowercase hex
}

// requiredMetadataFields lists the JSON fields every metadata file carries.
var requiredMetadataFields = []string{
	"formatVersion", "appId", "platform", "appVersion", "pluginVersion",
	"platformVersion", "checksum", "size", "files", "unpackedSize", "digests",
}

// marshalMetadata encodes m as indented JSON ending with a newline.
func marshalMetadata(m *Metadata) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}

	return append(b, '\n'), nil
}

// parseMetadata decodes a metadata file and lists the problems it has: a
// missing required field, a field of the wrong type or an unknown format
// version.
func parseMetadata(b []byte) (*Metadata, []string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, []string{fmt.Sprintf("invalid JSON: %v", err)}
	}

	var problems []string
	for _, name := range requiredMetadataFields {
		raw, ok := fields[name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			problems = append(problems, fmt.Sprintf("required field %q missing", name))
		}
	}

	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, append(problems, fmt.Sprintf("invalid field: %v", err))
	}

	if _, ok := fields["formatVersion"]; ok && m.FormatVersion != FormatVersion {
		problems = append(problems, fmt.Sprintf("formatVersion %d not supported (this version reads %d)", m.FormatVersion, FormatVersion))
	}

	for _, name := range []struct {
		field, value string
	}{{"appId", m.AppID}, {"platform", m.Platform}, {"appVersion", m.AppVersion}, {"pluginVersion", m.PluginVersion}} {
		if _, ok := fields[name.field]; ok && name.value == "" {
			problems = append(problems, fmt.Sprintf("field %q empty", name.field))
		}
	}

	return &m, problems
}
