// Package client implements the device side of a direct update, as the
// cordova-plugin-mfp runtime performs it on a phone. A device reports the
// checksum of its current web resources, downloads the archive the server
// offers, verifies it, and replaces its web resources folder.
//
// A Device works on a folder of web resources (WWW) and keeps its own state
// in a hidden folder beside it, never inside it:
//
//	DIR/../.mfpdev-device-<basename of DIR>/
//	    lock           flock(2) lock held while an update runs
//	    state.json     the integrity-failure flag and the target of the partial download
//	    download.zip   the partial or complete archive
//	    journal.json   present while the folders are being swapped
//	    staging-…      the new tree, unpacked and verified
//	    old-…          the previous tree, set aside during the swap
//
// Update guarantees that WWW always holds a complete tree, either the old or
// the new one: the new tree is unpacked and verified in a staging folder,
// then swapped in with two renames recorded in the journal. A process killed
// at any point (even by SIGKILL) leaves a state that the next Check or Update
// finishes and cleans up.
//
// A delta archive (type delta, with a ddu.script at its root) is applied
// only to the tree whose checksum the server names as its base: the files
// it ships are unpacked, each "/www/…" line of ddu.script names a file
// copied unchanged from the current tree, and every other file of the
// current tree is left out of the new one. The assembled tree must then
// have the announced checksum like any other.
//
// Statuses are the ones the plugin reports (SUCCESS, FAILURE_INTEGRITY, …).
// Where the plugin leaves the choice open this package decides as follows:
//   - a download whose Content-Type is not exactly application/zip, whose
//     HTTP status is an error, or whose size differs from packedSize is
//     FAILURE_DOWNLOADING;
//   - a complete download whose SHA-256 differs from the announced one is
//     FAILURE_INTEGRITY and the partial file is discarded;
//   - a broken connection or an unreachable server is
//     FAILURE_NETWORK_PROBLEM and the partial file is kept for resuming;
//   - a check answered with no update (no web resources deployed, or a
//     plugin version mismatch) is UP_TO_DATE with the server's reason and
//     message, because there is nothing for the device to do.
package client
