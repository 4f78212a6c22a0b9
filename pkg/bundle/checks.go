package bundle

import (
	"bytes"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

// checkMetadata parses the metadata entry.
func (rd *reader) checkMetadata() *Metadata {
	es := rd.byName[MetadataName]
	if es == nil {
		rd.problem(MetadataName, "missing: write the archive with mfpdev")
		return nil
	}
	if !es.read {
		return nil
	}

	meta, problems := parseMetadata(es.data)
	for _, p := range problems {
		rd.problem(MetadataName, "%s", p)
	}

	return meta
}

// checkWebResources compares the checksum computed from the www/ entries
// with the metadata, the shipped filelist and checksum.js. sum is nil when
// the checksum could not be computed. It returns the checksum that
// checksum.js carries.
func (rd *reader) checkWebResources(meta *Metadata, sum *webres.Sum) uint32 {
	fileList := rd.byName["www/"+webres.FileListName]
	switch {
	case fileList == nil:
		rd.problem("www/"+webres.FileListName, "missing: devices read the list of web resources from it")
	case sum != nil && fileList.read && !bytes.Equal(fileList.data, sum.FileList):
		rd.problem(fileList.file.Name, "differs from the list of the www/ entries (%d bytes, expected %d)", len(fileList.data), len(sum.FileList))
	}

	var shipped uint32
	checksumJS := rd.byName["www/"+webres.ChecksumJSPath]
	switch {
	case checksumJS == nil:
		rd.problem("www/"+webres.ChecksumJSPath, "missing: devices read the web-resources checksum from it")
	case checksumJS.read:
		v, err := webres.ParseChecksumJS(checksumJS.data)
		if err != nil {
			rd.problem(checksumJS.file.Name, "%v", err)
			break
		}
		shipped = v
		if sum != nil && v != sum.Checksum {
			rd.problem(checksumJS.file.Name, "carries checksum %d, but the www/ entries compute to %d: devices would download the update again and again", v, sum.Checksum)
		}
	}

	if meta != nil && sum != nil {
		if meta.Checksum != sum.Checksum {
			rd.problem(MetadataName, "checksum %d differs from %d computed from the www/ entries", meta.Checksum, sum.Checksum)
		}
		if meta.Size != sum.Size {
			rd.problem(MetadataName, "size %d differs from %d computed from the www/ entries", meta.Size, sum.Size)
		}
	}

	return shipped
}

// checkDigests compares every www/ file with its digest in the metadata,
// and the file count and unpacked size with the entries.
func (rd *reader) checkDigests(meta *Metadata) {
	var count int
	var unpacked int64
	allRead := true
	for _, es := range rd.entries {
		if es.entry.Path != "" && !es.entry.Dir {
			count++
			unpacked += es.entry.Size
			allRead = allRead && es.read
		}
	}

	if meta.Files != count {
		rd.problem(MetadataName, "files is %d, but the archive has %d files under www/", meta.Files, count)
	}
	if allRead && meta.UnpackedSize != unpacked {
		rd.problem(MetadataName, "unpackedSize is %d, but the files under www/ hold %d bytes", meta.UnpackedSize, unpacked)
	}

	listed := make(map[string]bool, len(meta.Digests))
	for _, d := range meta.Digests {
		name := "www/" + d.Path
		if listed[d.Path] {
			rd.problem(MetadataName, "digest of %s listed twice", name)
			continue
		}
		listed[d.Path] = true

		es := rd.byName[name]
		switch {
		case es == nil || es.entry.Dir:
			rd.problem(MetadataName, "digest of %s, which is not in the archive", name)
		case es.read && (es.entry.Size != d.Size || es.entry.SHA256 != d.SHA256):
			rd.problem(name, "content (%d bytes, SHA-256 %s) differs from its digest in %s (%d bytes, SHA-256 %s): the file was changed after the archive was written",
				es.entry.Size, es.entry.SHA256, MetadataName, d.Size, d.SHA256)
		}
	}

	for _, es := range rd.entries {
		if es.entry.Path != "" && !es.entry.Dir && !listed[es.entry.Path] {
			rd.problem(es.file.Name, "no digest in %s", MetadataName)
		}
	}
}
