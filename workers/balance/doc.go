// Package balance evens out how many connections each worker process
// holds while they all accept on one shared listening socket.
//
// With one socket, whichever worker is running when connections arrive
// drains the whole backlog, and keep-alive pins those connections to it:
// a burst of 256 connects split 164/98 between two workers, and the
// reconnects after the per-connection request cap went to the busier one
// (it runs more often), 183/79. The busier worker's clients then wait
// behind twice the queue, which is the tail of the latency distribution.
//
// A Board is a small table in memory shared by the primary and its
// workers (a memfd mapped MAP_SHARED; no locks, one atomic word per
// field): one Slot per worker process holding its open connections and
// whether it accepts. A worker's Listener looks at the table before each
// accept: holding more than its share (the mean over accepting workers,
// plus a slack) it steps aside for a moment so another worker takes the
// connection, and accepts anyway after MaxDefer, so a stalled peer never
// stalls it. Workers that drain stop accepting and drop out of the mean.
//
// The primary owns the table: it claims a slot for each worker it
// starts, hands the worker the descriptor and the slot number, and clears
// the slot when the worker exits (its connections died with it). Off
// Linux, or when the table cannot be made, there is no Board and workers
// accept as before.
package balance
