package serve

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/outbound"
)

// processOutbound is this process's outbound client: one pooled transport
// per process, kept across the plugin versions it loads (the grant is the
// same for all of them unless it changed, which makes a new client).
var processOutbound struct {
	sync.Mutex
	key    string
	client *outbound.Client
}

// outboundFor is the host.Outbound of grant: nil (not granted) when it
// allows nothing, else this process's client for it.
func outboundFor(grant host.OutboundGrant) (host.Outbound, error) {
	if len(grant.Allow) == 0 {
		return nil, nil
	}
	policy, err := outbound.Parse(grant.Allow)
	if err != nil {
		return nil, fmt.Errorf("outbound grant: %w", err)
	}
	key, err := json.Marshal(grant)
	if err != nil {
		return nil, fmt.Errorf("outbound grant: %w", err)
	}
	po := &processOutbound
	po.Lock()
	defer po.Unlock()
	if po.client == nil || po.key != string(key) {
		if po.client != nil {
			po.client.CloseIdle()
		}
		po.key = string(key)
		po.client = outbound.New(outbound.Options{Policy: policy, MaxConcurrent: grant.MaxConcurrent})
	}
	return po.client, nil
}
