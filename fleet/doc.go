// Package fleet serves one plugin to many machines through a NATS
// JetStream object store.
//
// A source is nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME. Its object NAME in
// the object store BUCKET is the version every instance should run. An
// instance pulls: a Mirror fetches the object, checks its SHA-256 digest
// and writes it atomically into a local file that the ordinary plugin
// watcher watches, so a published version goes through exactly the path
// of an overwritten plugin file (snapshot, preflight, roll). The Mirror
// also keeps a copy of the last version the instance accepted, which it
// serves when NATS cannot be reached at start.
//
// Publish writes a version twice: under NAME@<sha256 hex> (the history)
// and under NAME (what instances watch); then the KV bucket
// BUCKET_versions, NAME's history newest first (compare-and-set), so
// Rollback re-publishes the one before. The object goes before the history,
// and History reads the history against the live object (a publish that
// died between the two counts as done), so the history's first is always
// the version instances are sent. Each step is retried on a transient NATS
// error (retry.go): every write is idempotent. The KV bucket BUCKET_fleet, whose entries expire after a TTL,
// holds one Report per live instance, refreshed by a Reporter.
//
// A canary publish (PublishCanary) uploads the history copy only and names
// the canary instances under NAME.canary in BUCKET_versions: a Mirror whose
// instance is named follows that copy instead of NAME. The publisher judges
// the canaries from the fleet view, then publishes to all or deletes the
// key, which sends them back to NAME.
//
// A publish with a bound (PublishOptions.MaxUnavailable K, carried in the
// object's metadata) makes each Mirror take one of K roll slots before it
// writes the version: keys NAME.slot.<i> of the KV bucket BUCKET_rolling,
// taken with Create, refreshed by the holder, expiring after SlotTTL, and
// freed when the caller reports the roll's end (RollEnded, also for a refusal) or the
// Mirror stops. No coordinator: the instances bound themselves, and the
// publisher may exit. Judge reads the fleet view against a version: who
// runs it, who is still settling (watched for a crash loop), who refused
// or went back from it, who is behind.
package fleet
