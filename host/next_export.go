package host

import "net/http"

// NextHandler is the handler a guest's next calls under cfg: cfg.Next, a
// streaming reverse proxy to cfg.Upstream, or the built-in 404. Embedders
// that wrap next (the worker keeps its self-test request off the upstream)
// start from it and pass the wrapper as Config.Next.
func NextHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return nextHandler(cfg, cfg.Logger)
}
