package echo

import "encoding/json"

// Reply is the JSON document the echo plugin answers with.
type Reply struct {
	Method  string              `json:"method"`
	URI     string              `json:"uri"`
	Headers map[string][]string `json:"headers"`
	BodyLen int                 `json:"body_len"`
	Body    string              `json:"body"`
}

// Marshal renders the reply. Header names must already be lowercase (the
// http-wasm ABI hands them to the guest that way).
func Marshal(method, uri string, headers map[string][]string, body []byte) ([]byte, error) {
	r := Reply{Method: method, URI: uri, Headers: headers, BodyLen: len(body), Body: string(body)}
	return json.Marshal(r)
}
