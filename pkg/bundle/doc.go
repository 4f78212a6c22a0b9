// Package bundle writes and reads direct-update archives: the zip files a
// Cordova app built with cordova-plugin-mfp downloads to replace its web
// resources.
//
// An archive written by [WriteArchives] meets these constraints, and [Read]
// checks each of them:
//
//   - Every web resource is a regular-file entry under the top-level folder
//     "www/". At the zip root there is only the metadata file [MetadataName]
//     and, in a delta archive, "ddu.script".
//   - Names are valid UTF-8 with the UTF-8 flag (0x800) set, use '/' as the
//     separator and contain no '\', no "..", no absolute path, no drive
//     letter and no control character. No two names are equal, equal after
//     NFC normalization or equal after case folding, and no directory entry
//     has the name of a file.
//   - No entry is a symbolic link, and no stored entry has a data
//     descriptor (flag bit 3). The writer never writes data descriptors.
//   - The zip comment is exactly 512 bytes and is the last 512 bytes of the
//     file: 512 spaces when unsigned, or the base64 SHA256withRSA signature
//     of the whole file (computed with the 512 spaces in place) followed by
//     spaces.
//   - The metadata records the web-resources checksum, size and file count,
//     and the size and SHA-256 of every file under www/. The checksum
//     recomputed from the entries, the shipped www/filelist and the value in
//     www/plugins/cordova-plugin-mfp/worklight/checksum.js all agree with it.
//   - A delta archive, written by [WriteDelta], ships under www/ only the
//     new and changed files, with the new tree's filelist and checksum.js,
//     and lists in ddu.script, one "/www/path" line each, the files the
//     device keeps from its current tree. Read checks each listed path, that
//     none is also shipped, that the filelist names exactly the shipped and
//     kept files, and that checksum.js carries the metadata's checksum. The
//     checksum itself needs the kept files, so the device checks it after
//     applying the delta.
//
// Archives are reproducible: the same files and [WriteOptions] give the same
// bytes, whatever the file times, the order of the input or GOMAXPROCS.
package bundle
