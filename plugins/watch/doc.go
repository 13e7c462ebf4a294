// Package watch reports each new content of one plugin file, exactly once.
//
// It watches the file's directory with fsnotify rather than the file itself,
// because the file gets replaced in many ways and most of them replace the
// inode a file watch would be attached to: an in-place write (cp, cat >), a
// truncate followed by a write, an atomic rename over it (mv, go build -o,
// most editors), a Kubernetes ConfigMap update (the file is a symlink through
// "..data", itself a symlink flipped atomically to a new "..<timestamp>"
// directory), or a delete followed by a create. When the file is a symlink,
// the directory of its final target is watched too, so in-place writes to the
// target are seen.
//
// Any event in a watched directory only schedules a look; the look decides.
// After the directory has been quiet for Debounce (or at the latest MaxDelay
// after the first event, so a noisy neighbour cannot starve us), the file is
// stat'ed twice, Stable apart, and must show the same size, modification time
// and inode; it is then read, stat'ed again, and hashed with SHA-256. A hash
// equal to the last one reported is dropped. (A file whose stat has not
// changed since it was hashed, with an mtime already seconds old then, is
// not read again: a noisy directory costs a stat per look, not a hash.) A missing or empty file is never
// reported: the version already serving keeps serving, and the next complete
// write is reported as usual. A slow poll (Poll) backs fsnotify up in case an
// event is lost (queue overflow) or the directory itself is removed and
// recreated (the watch is then re-added on the next look).
//
// What may be read is decided by Rules, the same for the first read
// (plugins.Manager) and every look: ReadFile stats the path first and
// refuses anything but a regular file, or one above Rules.MaxSize, before
// opening it (so a FIFO cannot block and a device cannot stream forever),
// and stops at its context between chunks; CheckOwnership refuses a file
// that another user could replace (see its comment for the rule and the
// sticky-directory case). A refused file is logged once per reason and
// never reported; Rules.AllowInsecure turns the ownership refusal into a
// warning.
//
// Changes are delivered on a channel with one slot, newest wins: a consumer
// busy with one change (a preflight, a roll) gets only the latest file content
// when it comes back, never a stale one and never the same one twice.
package watch
