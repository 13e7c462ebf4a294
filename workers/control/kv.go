package control

// KVStatus is the shared key-value store's side of status: which backend,
// whether it answers, and the plugin's calls to it by op and result,
// summed over every worker.
type KVStatus struct {
	Backend string `json:"backend"`           // embedded, nats or redis
	Healthy bool   `json:"healthy"`           // the last health check passed
	Error   string `json:"error,omitempty"`   // why the last health check failed
	Dir     string `json:"dir,omitempty"`     // where the embedded store keeps its data
	Checked string `json:"checked,omitempty"` // RFC 3339 time of the last health check
	// Ops counts store calls by op ("get", "set", …) and result ("ok",
	// "not_found", "unavailable", …).
	Ops map[string]map[string]uint64 `json:"ops,omitempty"`
}
