// Package natskv is a kv.Store on a NATS JetStream KV bucket
// (github.com/nats-io/nats.go/jetstream): the embedded server's workers
// and external NATS clusters (kv.url = nats://a:4222,nats://b:4222).
//
// The bucket is stream KV_<bucket> with history 1, file storage,
// kv.replicas replicas and limit markers (LimitMarkerTTL), which enable
// per-message TTLs. Keys are encoded as lowercase hex in tokens of 4 bytes
// (see encodeKey), which keeps byte order and lets a listing filter whole
// tokens of a prefix at the server.
//
// Every write is a JetStream publish to $KV.<bucket>.<encoded key> whose
// sequence is the revision. Set publishes; CompareAndSwap adds the
// expected-last-subject-sequence header, which the stream's leader checks
// (rev 0: the key's latest message must be absent, a delete marker or an
// expiry marker); Incr is a bounded loop of read + CompareAndSwap, storing
// decimal ASCII. TTL: the server's per-message TTL (whole seconds, rounded
// up) removes the key; a header with the exact expiry hides it from Get
// and Incr at the exact time and lets Incr keep an existing key's expiry.
// Delete is a purge whose marker expires after a minute.
//
// Each write carries a fresh message id, and a write whose reply does not
// come within half the time left is sent once more with the same id: the
// stream's duplicate window (2 minutes) answers with the first revision if
// the first copy was applied. So a lost reply never applies an increment
// twice; a write that ends in kv.ErrUnavailable may or may not have been
// applied. Reads of a replicated bucket go to the stream's leader (a
// follower may not have applied the caller's own write yet); a bucket with
// one replica uses the cheaper direct get.
//
// The connection retries forever with backoff and buffers nothing while
// disconnected, so an outage fails calls at once with kv.ErrUnavailable and
// the store recovers by itself. The bucket is bound (created if missing)
// on first use, so Open succeeds while the servers are down.
package natskv
