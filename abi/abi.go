package abi

// HostModule is the import module name of every host function.
const HostModule = "http_handler"

// Host functions imported by guests from HostModule.
const (
	FuncEnableFeatures     = "enable_features"      // (features i32) -> i32
	FuncGetConfig          = "get_config"           // (buf, buf_limit i32) -> len i32
	FuncLogEnabled         = "log_enabled"          // (level i32) -> i32
	FuncLog                = "log"                  // (level, message, message_len i32)
	FuncGetMethod          = "get_method"           // (buf, buf_limit i32) -> len i32
	FuncSetMethod          = "set_method"           // (method, method_len i32)
	FuncGetURI             = "get_uri"              // (buf, buf_limit i32) -> len i32
	FuncSetURI             = "set_uri"              // (uri, uri_len i32)
	FuncGetProtocolVersion = "get_protocol_version" // (buf, buf_limit i32) -> len i32
	FuncGetHeaderNames     = "get_header_names"     // (kind, buf, buf_limit i32) -> CountLen i64
	FuncGetHeaderValues    = "get_header_values"    // (kind, name, name_len, buf, buf_limit i32) -> CountLen i64
	FuncSetHeaderValue     = "set_header_value"     // (kind, name, name_len, value, value_len i32)
	FuncAddHeaderValue     = "add_header_value"     // (kind, name, name_len, value, value_len i32)
	FuncRemoveHeader       = "remove_header"        // (kind, name, name_len i32)
	FuncReadBody           = "read_body"            // (kind, buf, buf_limit i32) -> EOFLen i64
	FuncWriteBody          = "write_body"           // (kind, body, body_len i32)
	FuncGetStatusCode      = "get_status_code"      // () -> i32
	FuncSetStatusCode      = "set_status_code"      // (status_code i32)
	FuncGetSourceAddr      = "get_source_addr"      // (buf, buf_limit i32) -> len i32
)

// HostFuncs lists every host function name, in the order above.
var HostFuncs = []string{
	FuncEnableFeatures, FuncGetConfig, FuncLogEnabled, FuncLog,
	FuncGetMethod, FuncSetMethod, FuncGetURI, FuncSetURI, FuncGetProtocolVersion,
	FuncGetHeaderNames, FuncGetHeaderValues, FuncSetHeaderValue, FuncAddHeaderValue,
	FuncRemoveHeader, FuncReadBody, FuncWriteBody, FuncGetStatusCode,
	FuncSetStatusCode, FuncGetSourceAddr,
}

// Guest exports.
const (
	// ExportMemory is the guest's linear memory, which host functions read and
	// write.
	ExportMemory = "memory"
	// ExportHandleRequest is `handle_request() -> i64` returning CtxNext.
	ExportHandleRequest = "handle_request"
	// ExportHandleResponse is `handle_response(req_ctx i32, is_error i32)`,
	// called on the same instance only when handle_request returned next=1.
	ExportHandleResponse = "handle_response"
	// ExportInitialize is the reactor initializer (Go c-shared, TinyGo >= 0.35).
	ExportInitialize = "_initialize"
	// ExportStart is the command entry point (older TinyGo). A module built
	// as a command exits at the end of _start and cannot serve.
	ExportStart = "_start"
)

// HeaderKind selects which header map a header function operates on.
type HeaderKind uint32

const (
	HeaderKindRequest          HeaderKind = 0
	HeaderKindResponse         HeaderKind = 1
	HeaderKindRequestTrailers  HeaderKind = 2 // needs FeatureTrailers
	HeaderKindResponseTrailers HeaderKind = 3 // needs FeatureTrailers
)

// Valid reports whether k is one of the four defined kinds.
func (k HeaderKind) Valid() bool { return k <= HeaderKindResponseTrailers }

// String names the kind for logs and errors.
func (k HeaderKind) String() string {
	switch k {
	case HeaderKindRequest:
		return "request"
	case HeaderKindResponse:
		return "response"
	case HeaderKindRequestTrailers:
		return "request trailers"
	case HeaderKindResponseTrailers:
		return "response trailers"
	}
	return "unknown header kind"
}

// BodyKind selects the request or response body.
type BodyKind uint32

const (
	BodyKindRequest  BodyKind = 0
	BodyKindResponse BodyKind = 1
)

// Valid reports whether k is one of the two defined kinds.
func (k BodyKind) Valid() bool { return k <= BodyKindResponse }

// String names the kind for logs and errors.
func (k BodyKind) String() string {
	switch k {
	case BodyKindRequest:
		return "request body"
	case BodyKindResponse:
		return "response body"
	}
	return "unknown body kind"
}

// Features is a bit set of optional host behaviour a guest asks for with
// enable_features. Called outside a request it sets the default for every
// later request on that instance; inside handle_request it applies to that
// request only.
type Features uint32

const (
	// FeatureBufferRequest keeps the request body readable by next after the
	// guest read it (the host replays it in full).
	FeatureBufferRequest Features = 1 << 0
	// FeatureBufferResponse captures next's response so handle_response can
	// read and rewrite status, headers and body.
	FeatureBufferResponse Features = 1 << 1
	// FeatureTrailers enables the trailer header kinds.
	FeatureTrailers Features = 1 << 2

	// FeaturesAll is every feature this host supports.
	FeaturesAll = FeatureBufferRequest | FeatureBufferResponse | FeatureTrailers
)

// Has reports whether every bit of f2 is set in f.
func (f Features) Has(f2 Features) bool { return f&f2 == f2 }

// String lists the set features, e.g. "buffer_request|trailers".
func (f Features) String() string {
	if f == 0 {
		return "none"
	}
	s := ""
	add := func(name string) {
		if s != "" {
			s += "|"
		}
		s += name
	}
	if f.Has(FeatureBufferRequest) {
		add("buffer_request")
	}
	if f.Has(FeatureBufferResponse) {
		add("buffer_response")
	}
	if f.Has(FeatureTrailers) {
		add("trailers")
	}
	if rest := f &^ FeaturesAll; rest != 0 {
		add("unknown")
	}
	return s
}

// LogLevel is the level argument of log and log_enabled.
type LogLevel int32

const (
	LogLevelDebug LogLevel = -1
	LogLevelInfo  LogLevel = 0
	LogLevelWarn  LogLevel = 1
	LogLevelError LogLevel = 2
	LogLevelNone  LogLevel = 3
)

// String names the level.
func (l LogLevel) String() string {
	switch l {
	case LogLevelDebug:
		return "debug"
	case LogLevelInfo:
		return "info"
	case LogLevelWarn:
		return "warn"
	case LogLevelError:
		return "error"
	case LogLevelNone:
		return "none"
	}
	return "unknown"
}

// AssemblyScript's runtime imports env.abort(message, file, line, column),
// called by a failed assert, a throw or an out-of-bounds access. The host
// provides it so AssemblyScript guests load unchanged; message and file are
// AssemblyScript strings (UTF-16LE, byte length as a u32 at ptr-4, 0 = null).
const (
	EnvModule = "env"
	FuncAbort = "abort" // (message, file, line, column i32)
)
