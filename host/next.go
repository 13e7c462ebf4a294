package host

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
)

// NextHandler is the handler a guest's next calls under cfg: cfg.Next, a
// streaming reverse proxy to cfg.Upstream, or the built-in 404. Embedders
// that wrap next (the worker keeps its self-test request off the upstream)
// start from it and pass the wrapper as Config.Next.
func NextHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return nextHandler(cfg, cfg.Logger)
}

// nextHandler is what a guest's next=1 calls: Config.Next, a streaming
// reverse proxy to Config.Upstream, or a built-in 404.
func nextHandler(cfg Config, log *slog.Logger) http.Handler {
	switch {
	case cfg.Next != nil:
		return cfg.Next
	case cfg.Upstream != nil:
		target := cfg.Upstream
		return &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
				pr.Out.Host = pr.In.Host
				// Share, not copy, the trailer map: the server fills in the
				// values at body EOF, after Clone ran, and the transport sends
				// them after the body.
				pr.Out.Trailer = pr.In.Trailer
			},
			FlushInterval: -1, // stream: flush every write
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				log.Warn("upstream request failed", slog.String("upstream", target.Redacted()),
					slog.String("method", r.Method), slog.String("uri", r.RequestURI), slog.Any("err", err))
				w.WriteHeader(http.StatusBadGateway)
			},
		}
	default:
		return http.NotFoundHandler()
	}
}
